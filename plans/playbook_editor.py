"""The template editor's plain form, read into the template format and back.

One form holds the whole template: its name, motion and description, then each
milestone (``m-<i>-…``) with its tasks (``m-<i>-t-<j>-…``) and, per milestone, the
earlier milestones it depends on (``m-<i>-depends``, their positions). "Add a
milestone", "Add a task" and "Remove" are submit buttons (``action``) that redraw the
form with the change and save nothing; "Save" hands the template to its service, whose
loader checks it. What was typed always comes back in the form, with the problems."""

from stakeholders.models import DecisionRole, Side, Track

from .playbook_format import ANCHORS, CLOSE

MAX_ROWS = 100  # rows read from one form: more than any valid template holds


def _count(post, key):
    try:
        return max(0, min(MAX_ROWS, int(post.get(key, 0))))
    except (TypeError, ValueError):
        return 0


def _offset(value):
    """A typed offset: a number when it is one, the text as typed otherwise (the loader
    then names it)."""
    text = (value or "").strip()
    try:
        return int(text)
    except ValueError:
        return text


def editor_read(post):
    """``(data, action)``: the template as posted, in the format (every milestone and
    task as typed, removals and additions applied), and the button pressed."""
    action = post.get("action", "save")
    milestones = []
    for i in range(_count(post, "m-count")):
        p = f"m-{i}-"
        tasks = []
        for j in range(_count(post, f"{p}t-count")):
            tp = f"{p}t-{j}-"
            if action == f"remove-{i}-{j}":
                continue
            tasks.append(
                {
                    "title": post.get(f"{tp}title", ""),
                    "side": post.get(f"{tp}side", Side.BUYER),
                    "owner_role": post.get(f"{tp}owner_role", ""),
                    "offset_days": _offset(post.get(f"{tp}offset_days")),
                    "anchor": post.get(f"{tp}anchor", CLOSE),
                }
            )
        if action == f"add-task-{i}":
            tasks.append(_blank_task(post.get(f"{p}anchor", CLOSE)))
        depends = []
        for value in post.getlist(f"{p}depends"):
            try:
                depends.append(int(value))
            except ValueError:
                continue
        milestones.append(
            {
                "title": post.get(f"{p}title", ""),
                "anchor": post.get(f"{p}anchor", CLOSE),
                "offset_days": _offset(post.get(f"{p}offset_days")),
                "lead_side": post.get(f"{p}lead_side", Side.BUYER),
                "track": post.get(f"{p}track", Track.BUSINESS),
                "completion_condition": post.get(f"{p}completion_condition", ""),
                "depends_on": depends,
                "tasks": tasks,
            }
        )
    if action.startswith("remove-") and action.count("-") == 1:
        milestones = _without_milestone(milestones, action.split("-")[1])
    if action == "add-milestone":
        milestones.append(blank_milestone())
    data = {
        "name": post.get("name", ""),
        "motion": post.get("motion", ""),
        "description": post.get("description", ""),
        "milestones": milestones,
    }
    return data, action


def _without_milestone(milestones, position):
    try:
        gone = int(position)
    except ValueError:
        return milestones
    kept = []
    for index, m in enumerate(milestones):
        if index == gone:
            continue
        deps = [d if d < gone else d - 1 for d in m["depends_on"] if d != gone]
        kept.append(m | {"depends_on": deps})
    return kept


def _blank_task(anchor=CLOSE):
    return {"title": "", "side": Side.BUYER, "owner_role": "", "offset_days": 0, "anchor": anchor}


def blank_milestone():
    return {
        "title": "",
        "anchor": CLOSE,
        "offset_days": 0,
        "lead_side": Side.BUYER,
        "track": Track.BUSINESS,
        "completion_condition": "",
        "depends_on": [],
        "tasks": [_blank_task()],
    }


def editor_rows(data):
    """The milestones of ``data`` as the editor draws them: each with its position,
    the earlier milestones it may depend on, and its tasks with theirs."""
    rows = []
    milestones = data.get("milestones") or []
    for index, m in enumerate(milestones):
        earlier = [
            {"index": d, "title": milestones[d].get("title") or f"Milestone {d + 1}"}
            for d in range(index)
        ]
        rows.append(
            m
            | {
                "index": index,
                "number": index + 1,
                "earlier": earlier,
                "task_rows": [
                    {"index": j, "number": j + 1, "anchor": t.get("anchor", m.get("anchor"))} | t
                    for j, t in enumerate(m.get("tasks") or [])
                ],
            }
        )
    return rows


CHOICES = {
    "anchors": [(value, label) for value, label in ANCHORS.items()],
    "sides": Side.choices,
    "tracks": Track.choices,
    "roles": [("", "No owner"), *DecisionRole.choices],
}
