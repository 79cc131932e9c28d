"""The room page and its plan editor (htmx partials of the same template), by concern:
the page and its files (``room``), milestones, tasks and comments (``editor``),
criteria and risks (``sheets``), the deal's outcome and hand-off (``outcome``), and
schedule fixes and re-planning (``schedule``). plans/urls.py routes to the views named
here."""

from .base import download
from .editor import (
    comment_add,
    milestone_add,
    milestone_delete,
    milestone_move,
    milestone_save,
    task_add,
    task_delete,
    task_move,
    task_save,
)
from .outcome import handover, outcome_save
from .room import plan_start, review_ics, room_page, room_pdf
from .schedule import plan_fix, replan
from .sheets import sheet_add, sheet_delete, sheet_save

__all__ = [
    "comment_add",
    "download",
    "handover",
    "milestone_add",
    "milestone_delete",
    "milestone_move",
    "milestone_save",
    "outcome_save",
    "plan_fix",
    "plan_start",
    "replan",
    "review_ics",
    "room_page",
    "room_pdf",
    "sheet_add",
    "sheet_delete",
    "sheet_save",
    "task_add",
    "task_delete",
    "task_move",
    "task_save",
]
