"""Starting a room's plan from a template, fixing the problems its schedule finds, and re-
planning when the close date moves."""

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rooms.activity_log import activity_record
from rooms.models import ActivityEvent, Room, go_live_problem
from rooms.revision import room_touch, room_writable
from stakeholders.models import Stakeholder

from .. import schedule, selectors
from ..models import (
    Milestone,
    Plan,
    Playbook,
    Task,
)
from ..playbook_format import SLUG, PlaybookError
from ..templates_builtin import BUILTIN_TEMPLATES, layout
from .base import PlanError
from .milestones import milestone_update
from .signals import plan_changed, room_overdue_recount
from .tasks import task_update

# --- the plan -----------------------------------------------------------------------


def plan_template(room, *, template_slug="empty", playbook=None):
    """What a plan of ``room`` would start from: ``(spec, name)``, ``(None, "")`` for an
    empty plan. ``playbook``: one of the room's organisation's own templates, by id or
    slug (another organisation's does not exist here); else ``template_slug``, a
    built-in's slug or "empty". ``PlanError`` for an unknown one."""
    if playbook not in (None, ""):
        found = playbook_find(room.org_id, playbook)
        if found is None:
            raise PlanError("Unknown template: it may have been deleted meanwhile.")
        try:
            return found.spec, found.name
        except PlaybookError as exc:  # stored before a rule of the format changed
            raise PlanError(f"The template “{found.name}” needs fixing first: {exc}") from None
    if template_slug == "empty":
        return None, ""
    if template_slug not in BUILTIN_TEMPLATES:
        raise PlanError(f"Unknown template “{template_slug}”.")
    return BUILTIN_TEMPLATES[template_slug], BUILTIN_TEMPLATES[template_slug].name


def playbook_find(org_id, key):
    """The organisation's own template with id or slug ``key``, or None (another
    organisation's does not exist here)."""
    key = str(key)
    rows = Playbook.objects.for_org(org_id)
    try:
        return rows.filter(pk=uuid.UUID(key)).first()
    except ValueError:
        pass
    if not SLUG.fullmatch(key):  # no slug looks like that (nor reaches the database)
        return None
    return rows.filter(slug=key).first()


def plan_preview(room, *, template_slug="empty", playbook=None):
    """The dates a template would give ``room``'s plan if started now, without starting
    it: ``(spec, layout)`` (templates_builtin.layout), ``(None, None)`` for an empty
    plan."""
    spec, _ = plan_template(room, template_slug=template_slug, playbook=playbook)
    if spec is None:
        return None, None
    return spec, layout(spec, room.target_close_date, room.today())


def plan_start(*, actor, room, template_slug="empty", playbook=None):
    """Start the room's plan, empty, from a built-in template (``template_slug``) or
    from one of the organisation's own (``playbook``: its id or slug, looked up in the
    room's organisation only), laid out from the target close date and the start day
    (today), never before today. Tasks with a role-based owner go to the room's person
    with that role. The template is copied: editing or deleting it later changes
    nothing here; the plan keeps its name. Refused if the room already has a plan. The
    plan's ``layout`` (templates_builtin.Layout, None for an empty plan) says whether
    the template was compressed to fit and which milestones are squeezed."""
    spec, name = plan_template(room, template_slug=template_slug, playbook=playbook)
    from_builtin = spec is not None and playbook in (None, "")
    with transaction.atomic():
        # Two starts at once: the second waits here, then finds the first one's plan.
        Room.objects.select_for_update().filter(pk=room.pk, org_id=room.org_id).first()
        if Plan.objects.for_room(room).exists():
            raise PlanError("This room already has a plan.")
        plan = Plan.objects.create(
            org_id=room.org_id,
            room=room,
            template=template_slug if from_builtin else "",
            template_name=name,
        )
        plan.layout = None
        if spec is not None:
            plan.layout = _apply_template(plan, room, spec)
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.APPLIED_TEMPLATE,
            target=plan,
            target_label=f"{name} template" if spec is not None else "an empty plan",
        )
    plan_changed([room.pk])
    return plan


def role_owners(room):
    """Who a template's role-based owners become in ``room``: ``{(side, role): person}``,
    the first of the room's people (by name) with that role on that side."""
    owners = {}
    for person in Stakeholder.objects.for_room(room).order_by("name", "created_at"):
        owners.setdefault((person.side, person.role), person)
    return owners


def _apply_template(plan, room, spec):
    """Create the template's milestones and tasks, laid out from the room's close date
    and never before today (templates_builtin.layout), each task with the room's person
    of its side holding its ``owner_role`` (unassigned when nobody does); returns the
    layout."""
    dates = layout(spec, room.target_close_date, room.today())
    owners = role_owners(room)
    milestones = []
    for index, (m, day) in enumerate(zip(spec.milestones, dates.milestones, strict=True)):
        milestones.append(
            Milestone(
                org_id=room.org_id,
                room=room,
                plan=plan,
                order=index,
                title=m.title,
                target_date=day,
                lead_side=m.lead_side,
                track=m.track,
                completion_condition=m.completion_condition,
            )
        )
    Milestone.objects.bulk_create(milestones)
    tasks = []
    through = []
    for index, (m, milestone) in enumerate(zip(spec.milestones, milestones, strict=True)):
        for dep in m.depends_on:
            through.append(
                Milestone.depends_on.through(
                    from_milestone_id=milestone.pk, to_milestone_id=milestones[dep].pk
                )
            )
        for t_index, t in enumerate(m.tasks):
            tasks.append(
                Task(
                    org_id=room.org_id,
                    room=room,
                    plan=plan,
                    milestone=milestone,
                    order=index * 100 + t_index,
                    title=t.title,
                    side=t.side,
                    owner=owners.get((t.side, t.owner_role)),
                    due_date=dates.tasks[index][t_index],
                )
            )
    Milestone.depends_on.through.objects.bulk_create(through)
    Task.objects.bulk_create(tasks)
    return dates


# --- plan problems: one-click fixes ---------------------------------------------------


def plan_problem_fix(*, actor, room, code, target_id, base_version=None, fix_date=None):
    """Apply the one-click fix of one of the plan's problems (``plans.schedule.problems``):
    the problem ``code`` about the milestone or task ``target_id``, as the plan stands
    now. Its date goes through ``milestone_update`` (target date) or ``task_update``
    (due date), like any other edit.

    ``base_version``: the row's version the person saw (``StaleWrite`` when its date
    moved since); the row's current version otherwise. ``fix_date``: the date the
    person was offered, refused when the fix now needs another. Raises ``PlanError``
    when the problem no longer applies or has no fix. Returns the updated row.
    """
    plan = Plan.objects.for_room(room).first()
    if plan is None:
        raise PlanError("This room has no plan yet.")
    found = selectors.room_schedule(room, template=plan.template)
    problem = next(
        (p for p in found.problems if p.code == code and str(p.target) == str(target_id)),
        None,
    )
    if problem is None or problem.target is None or problem.fix_date is None:
        raise PlanError(
            "That problem no longer applies: the plan changed meanwhile. "
            "The list shows the plan as it is now."
        )
    if fix_date is not None and fix_date != problem.fix_date:
        raise PlanError(
            f"Not moved: the plan changed meanwhile, and the fix is now “{problem.fix}”. "
            "Check it and try again."
        )
    item = found.of(problem.target).item
    if item.kind == schedule.MILESTONE:
        model, update, id_arg, field = Milestone, milestone_update, "milestone_id", "target_date"
    else:
        model, update, id_arg, field = Task, task_update, "task_id", "due_date"
    if base_version is None:
        base_version = (
            model.objects.for_room(room)
            .filter(pk=problem.target)
            .values_list("version", flat=True)
            .first()
        )
    return update(
        actor=actor,
        room=room,
        base_version=base_version,
        changes={field: problem.fix_date},
        **{id_arg: problem.target},
    )


# --- re-planning: the open work moves with the close date --------------------------------


REPLAN_DATES = {
    "target_close_date": "the new target close date",
    "previous_close_date": "the close date the work moves from",
}


def _replan_date(value, name):
    """``value`` when it is a date (callers parse what people typed); ValidationError
    otherwise."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ValidationError({name: f"Give {REPLAN_DATES[name]} as a real date (YYYY-MM-DD)."})


def _days_text(days):
    n = abs(days)
    return f"{n} day{'' if n == 1 else 's'} {'later' if days > 0 else 'earlier'}"


def plan_replan(
    *, actor, room, target_close_date, previous_close_date=None, offered_at_revision=None
):
    """Move the room's target close date to ``target_close_date`` and every open milestone
    and open task that has a date by the same number of days; done work keeps its dates.

    ``previous_close_date``: the date to count the days from when the close date was
    already changed (the room header saves it first, then offers to move the work): the
    room's close date must then be ``target_close_date`` still. Without it, the days are
    counted from the room's close date as it is. ``offered_at_revision``: the room's
    revision when the move was offered; refused when the plan was re-planned after it,
    so an offer posted twice moves the work once.

    Every moved row's ``version`` moves on (a stale edit of its date then conflicts, on
    the pages as through the API); a moved task's overdue flags start afresh, as for any
    new due date. One transaction, one activity entry naming each moved row with its
    old and new date, one revision: live viewers redraw the plan once. Moving by 0 days
    changes nothing and logs nothing. A lost deal's room refuses (``RoomReadOnly``);
    a missing or invalid date is a ``ValidationError``; a stale offer a ``PlanError``.
    Returns the room's schedule (``plans.schedule.Schedule``) as it is now.
    """
    target = _replan_date(target_close_date, "target_close_date")
    previous = None
    if previous_close_date is not None:
        previous = _replan_date(previous_close_date, "previous_close_date")
    room_writable(room)
    moved = False
    with transaction.atomic():
        current = Room.objects.select_for_update().get(pk=room.pk, org_id=room.org_id)
        if previous is not None and current.target_close_date != target:
            raise PlanError(
                "Not moved: the target close date changed again meanwhile (now "
                f"{current.target_close_date:%Y-%m-%d}). Change it again to move the work."
            )
        if (
            offered_at_revision is not None
            and ActivityEvent.objects.filter(
                room=current,
                verb=ActivityEvent.Verb.REPLANNED,
                room_revision__gt=offered_at_revision,
            ).exists()
        ):
            raise PlanError("The open work was already moved with the close date.")
        start = previous if previous is not None else current.target_close_date
        days = (target - start).days
        if days:
            moved = _replan_move(actor=actor, room=current, target=target, days=days)
    if moved:
        room_overdue_recount([room.pk])
        plan_changed([room.pk])
    room.refresh_from_db()
    plan = Plan.objects.for_room(room).first()
    return selectors.room_schedule(room, template=plan.template if plan else "")


def _replan_move(*, actor, room, target, days):
    """The writes of ``plan_replan`` (inside its transaction, ``room`` locked): whether
    anything moved."""
    delta = datetime.timedelta(days=days)
    now = timezone.now()
    changes = {}
    if room.target_close_date != target:
        problem = go_live_problem(target, room.go_live_date)
        if problem:
            raise ValidationError({"target_close_date": problem})
        Room.objects.filter(pk=room.pk).update(
            target_close_date=target, version=F("version") + 1, updated_at=now
        )
        changes[str(room.pk)] = _moved_entry(
            "Target close date", room.target_close_date, target, "target_close_date", room.version
        )
    milestones_qs, tasks_qs = selectors.open_dated_work(room)
    milestones = list(milestones_qs.select_for_update().order_by("order", "created_at"))
    tasks = list(tasks_qs.select_for_update().order_by("milestone__order", "order", "created_at"))
    try:
        for m in milestones:
            before, m.target_date = m.target_date, m.target_date + delta
            changes[str(m.pk)] = _moved_entry(
                m.title, before, m.target_date, "target_date", m.version
            )
            m.version += 1
            m.updated_at = now
        for t in tasks:
            before, t.due_date = t.due_date, t.due_date + delta
            changes[str(t.pk)] = _moved_entry(t.title, before, t.due_date, "due_date", t.version)
            t.version += 1
            t.updated_at = now
            # A new date is a new promise: overdue flags start afresh (as in task_update).
            t.overdue_level, t.overdue_for = 0, None
    except OverflowError:
        raise ValidationError(
            {"target_close_date": "That moves some of the plan's dates out of the calendar."}
        ) from None
    if not changes:
        return False
    Milestone.objects.bulk_update(milestones, ["target_date", "version", "updated_at"], 500)
    Task.objects.bulk_update(
        tasks, ["due_date", "overdue_level", "overdue_for", "version", "updated_at"], 500
    )
    plan = Plan.objects.for_room(room).first()
    room_touch(room.pk)
    count = len(milestones) + len(tasks)
    activity_record(
        room=room,
        actor=actor,
        verb=ActivityEvent.Verb.REPLANNED,
        target=plan or room,
        target_label=(
            f"the plan: {count} open item{'' if count == 1 else 's'} moved {_days_text(days)}"
        ),
        changes=changes,
    )
    return True


def _moved_entry(label, before, after, field, version):
    """One moved row in the re-plan's activity entry (keyed by the row's id): its field
    and the version it reached, which is what a late writer of that field is told about
    (rooms.versioning._moved_since)."""
    return {
        "label": label[:250],
        "from": before.isoformat(),
        "to": after.isoformat(),
        "field": field,
        "version": version + 1,
    }
