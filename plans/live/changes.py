"""What changed after a room's revision, read from the activity log, as a viewer's page
needs it: the rows and sections to redraw and who changed each (``changes_since``)."""

from rooms.models import ActivityEvent

MAX_EVENTS = 300  # more changes than this since a page's revision: reload instead


class Changes:
    """What changed after a revision, as a viewer's page needs it: the rows and sections
    to redraw, and who changed each. Changes made from the viewer's own window are
    already on its page: they only refresh the summaries that count them."""

    def __init__(self):
        self.tasks = {}  # task id -> who
        self.milestones = {}
        self.sections = {}  # section name -> who
        self.summary = False  # the plan's counts or agreement moved
        self.reload = False

    def __bool__(self):
        return bool(self.tasks or self.milestones or self.sections or self.summary or self.reload)


YOU_ELSEWHERE = "you in another window"


def changes_since(room, since, *, window="", user_id=None, stakeholder_id=None):
    """The changes after revision ``since`` for a viewer: its window (skipped, it shows
    them already) and who it is (its changes from other windows are named as such)."""
    events = list(
        ActivityEvent.objects.filter(room=room, room_revision__gt=since)
        .exclude(verb=ActivityEvent.Verb.CONFLICT)
        .order_by("room_revision", "id")
        .values_list(
            "target_type",
            "target_id",
            "verb",
            "actor_user_id",
            "actor_ref",
            "actor_label",
            "actor_window",
            "changes",
        )[: MAX_EVENTS + 1]
    )
    changes = Changes()
    if len(events) > MAX_EVENTS:
        changes.reload = True
        return changes
    for kind, target_id, verb, actor_user, actor_ref, who, actor_window, entry_changes in events:
        if window and actor_window == window:
            changes.summary |= kind in {"task", "milestone", "plan", "room"}
            continue
        if (user_id is not None and str(actor_user) == str(user_id)) or (
            stakeholder_id is not None and actor_ref == str(stakeholder_id)
        ):
            who = YOU_ELSEWHERE
        for target, _ in ActivityEvent.targets_of(verb, target_id, entry_changes):
            _note(changes, kind, target, verb, who)
    return changes


def _note(changes, kind, target, verb, who):
    """What one changed target means for a viewer's page."""
    structural = verb in {"created", "deleted", "moved"}
    if kind == "plan" and verb == "applied_template":
        changes.reload = True
    elif kind == "plan":
        changes.sections.update(plan=who, overview=who)
        if verb == "replanned":  # the close date moved with the open work
            changes.sections["header"] = who
    elif kind == "task" and not structural:
        changes.tasks[target] = who
        changes.sections["overview"] = who
    elif kind == "milestone" and not structural:
        changes.milestones[target] = who
        changes.sections["overview"] = who
    elif kind in {"task", "milestone"}:
        changes.sections.update(plan=who, overview=who)
    elif kind == "stakeholder":
        changes.sections.update(stakeholders=who, plan=who, risks=who, overview=who)
    elif kind == "decisioncriterion":
        changes.sections["criteria"] = who
    elif kind == "risk":
        changes.sections["risks"] = who
    elif kind == "room":
        changes.sections.update(header=who, overview=who)
