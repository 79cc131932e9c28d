"""The plan as a schedule (plans.schedule) read from a room: its items, their
dependencies and the room's ``Schedule`` with its problems; and what a re-plan moves
when the close date changes (``replan_offer``, ``open_dated_work``)."""

from stakeholders.models import Side

from .. import schedule
from ..models import Milestone, MilestoneStatus, Task, TaskStatus


def replan_offer(room, previous):
    """What the room header offers once the close date moved from ``previous`` (a date,
    or None): how many days, which way, how many open dated items would move with it
    (plans.services.plan_replan); None when nothing would."""
    if previous is None or room.is_read_only:
        return None
    days = (room.target_close_date - previous).days
    if not days:
        return None
    milestones, tasks = open_dated_work(room)
    count = milestones.count() + tasks.count()
    if not count:
        return None
    return {
        "previous": previous,
        "days": abs(days),
        "later": days > 0,
        "count": count,
        "revision": room.revision,
    }


def open_dated_work(room):
    """What a re-plan moves: the room's open milestones and open tasks that carry a date
    (two querysets). Done work keeps its dates."""
    return (
        Milestone.objects.for_room(room)
        .exclude(status=MilestoneStatus.DONE)
        .filter(target_date__isnull=False),
        Task.objects.for_room(room).exclude(status=TaskStatus.DONE).filter(due_date__isnull=False),
    )


def _local_day(moment, room):
    return moment.astimezone(room.tzinfo).date() if moment else None


def schedule_items(room, milestones, tasks, dependencies):
    """``schedule.Item`` rows of a room's milestones and tasks (model instances, in plan
    order); ``dependencies``: milestone id -> ids of the milestones it depends on."""
    # Dependencies in plan order, so that every page breaks a tie between two alike.
    position = {m.pk: (m.order, str(m.pk)) for m in milestones}
    last = (float("inf"), "")
    out = []
    for m in milestones:
        out.append(
            schedule.Item(
                id=m.pk,
                kind=schedule.MILESTONE,
                title=m.title,
                date=m.target_date,
                done=m.status == MilestoneStatus.DONE,
                completed=_local_day(m.completed_at, room),
                depends_on=tuple(
                    sorted(dependencies.get(m.pk, ()), key=lambda d: position.get(d, last))
                ),
                order=m.order,
                condition=m.completion_condition,
                buyer_side=m.lead_side == Side.BUYER,
                created=_local_day(m.created_at, room),
            )
        )
    for t in tasks:
        out.append(
            schedule.Item(
                id=t.pk,
                kind=schedule.TASK,
                title=t.title,
                date=t.due_date,
                done=t.status == TaskStatus.DONE,
                completed=_local_day(t.completed_at, room),
                milestone_id=t.milestone_id,
                order=t.order,
                has_owner=t.owner_id is not None,
                buyer_side=(t.owner.side if t.owner_id and t.owner else t.side) == Side.BUYER,
                created=_local_day(t.created_at, room),
            )
        )
    return out


def dependencies_of(milestone_ids):
    """Milestone id -> ids of the milestones it depends on (one query)."""
    through = Milestone.depends_on.through.objects.filter(from_milestone_id__in=milestone_ids)
    out = {}
    for before, after in through.values_list("to_milestone_id", "from_milestone_id"):
        out.setdefault(after, []).append(before)
    return out


def room_schedule(room, *, template="", milestones=None, tasks=None, today=None):
    """The room's ``schedule.Schedule``, with its ``problems`` (``template``: the plan's
    template slug, for the deal-size guidance). Pass the milestones and
    tasks already read (as the room page does) to read nothing more than dependencies."""
    if milestones is None:
        milestones = list(Milestone.objects.for_room(room))
    if tasks is None:
        tasks = list(Task.objects.for_room(room).select_related("owner"))
    deps = {
        m.pk: m.dependency_ids for m in milestones if getattr(m, "dependency_ids", None) is not None
    }
    if len(deps) < len(milestones):
        deps = dependencies_of([m.pk for m in milestones])
    # In plan order, so that every page breaks a tie between two dependencies alike.
    position = {m.pk: index for index, m in enumerate(milestones)}
    deps = {
        pk: sorted(ids, key=lambda d: position.get(d, len(position))) for pk, ids in deps.items()
    }
    items = schedule_items(room, milestones, tasks, deps)
    close = room.target_close_date
    result = schedule.project(items, today=today or room.today(), target_close=close)
    result.problems = schedule.problems(items, target_close=close, template=template)
    return result
