"""Writes to a room's plan, by concern (one module each): the plan and its
template (``plan``), milestones, tasks, criteria and risks (``sheets``), what buyers
do (``buyer``), the hand-over to Customer Success (``handover``), and the recounts
every write ends with (``signals``). Each goes through rooms.versioning's versioned
write path, so it is tenant-checked (the caller's queryset), locked by ``version``,
bumps the room's revision and lands in the activity log.

Callers import from here: ``from plans import services``."""

from .base import PlanError
from .buyer import (
    BUYER_TASK_FIELDS,
    buyer_milestone_create,
    buyer_task_create,
    buyer_task_update,
    comment_create,
    plan_agree,
)
from .handover import room_handover
from .milestones import (
    milestone_create,
    milestone_delete,
    milestone_move,
    milestone_refresh,
    milestone_status_for,
    milestone_update,
)
from .plan import (
    REPLAN_DATES,
    plan_preview,
    plan_problem_fix,
    plan_replan,
    plan_start,
    plan_template,
    playbook_find,
)
from .playbooks import (
    PlaybookChanged,
    PlaybookDenied,
    playbook_can_edit,
    playbook_create,
    playbook_delete,
    playbook_from_room,
    playbook_started_count,
    playbook_update,
)
from .sheets import (
    criterion_create,
    criterion_delete,
    criterion_update,
    risk_create,
    risk_delete,
    risk_update,
)
from .signals import (
    PLAN_SIGNAL_FIELDS,
    SCHEDULE_MILESTONE_FIELDS,
    plan_changed,
    plan_recounts_deferred,
    room_overdue_counts,
    room_overdue_recount,
    room_plan_recount,
    room_schedule_refresh,
    room_schedule_refresh_due,
)
from .tasks import task_create, task_delete, task_move, task_update

__all__ = [
    "BUYER_TASK_FIELDS",
    "PLAN_SIGNAL_FIELDS",
    "PlanError",
    "PlaybookChanged",
    "PlaybookDenied",
    "REPLAN_DATES",
    "SCHEDULE_MILESTONE_FIELDS",
    "buyer_milestone_create",
    "buyer_task_create",
    "buyer_task_update",
    "comment_create",
    "criterion_create",
    "criterion_delete",
    "criterion_update",
    "milestone_create",
    "milestone_delete",
    "milestone_move",
    "milestone_refresh",
    "milestone_status_for",
    "milestone_update",
    "plan_agree",
    "plan_preview",
    "plan_template",
    "playbook_find",
    "playbook_can_edit",
    "playbook_create",
    "playbook_delete",
    "playbook_started_count",
    "playbook_from_room",
    "playbook_update",
    "plan_changed",
    "plan_problem_fix",
    "plan_recounts_deferred",
    "plan_replan",
    "plan_start",
    "risk_create",
    "risk_delete",
    "risk_update",
    "room_handover",
    "room_overdue_counts",
    "room_overdue_recount",
    "room_plan_recount",
    "room_schedule_refresh",
    "room_schedule_refresh_due",
    "task_create",
    "task_delete",
    "task_move",
    "task_update",
]
