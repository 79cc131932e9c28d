from django.apps import AppConfig


def _recount_after_people_change(sender, room_ids, **kwargs):
    # A person's side decides which side their tasks count on.
    from .services import room_plan_recount

    room_plan_recount(room_ids)


class PlansConfig(AppConfig):
    name = "plans"

    def ready(self):
        from stakeholders.services import people_changed

        people_changed.connect(_recount_after_people_change, dispatch_uid="plans.room_plan_recount")
