from django.apps import AppConfig


def _plan_changed(sender, room_ids, **kwargs):
    # A person's side decides which side their tasks count on; the close date is what
    # the schedule's slip is measured against.
    from .services import plan_changed

    plan_changed(room_ids)


class PlansConfig(AppConfig):
    name = "plans"

    def ready(self):
        from rooms.versioning import close_date_changed
        from stakeholders.services import people_changed

        people_changed.connect(_plan_changed, dispatch_uid="plans.plan_changed.people")
        close_date_changed.connect(_plan_changed, dispatch_uid="plans.plan_changed.close")
