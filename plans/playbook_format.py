"""The plan template format: one shape, as data, for the built-in templates (JSON files
in plans/playbooks/) and the organisation's own (``plans.models.Playbook``).

A template is a JSON object (docs/PLAYBOOKS.md shows one in full)::

    {"format": 1, "slug": "standard", "name": "Standard", "motion": "Mid-market",
     "description": "…",
     "milestones": [
       {"title": "Security review complete", "anchor": "close", "offset_days": 21,
        "lead_side": "buyer", "track": "security",
        "completion_condition": "Sign-off email from the security lead",
        "depends_on": [0],
        "tasks": [{"title": "Review security documentation", "side": "buyer",
                   "owner_role": "technical_evaluator", "offset_days": 25}]}]}

Every milestone and task has an offset in days and an anchor: ``"close"`` counts
backwards from the room's target close date, ``"start"`` forwards from the day the plan
is started. A task's anchor defaults to its milestone's. ``depends_on`` lists earlier
milestones by position (0 is the first). ``owner_role`` is a stakeholder's role in the
decision (``stakeholders.models.DecisionRole``): when the template is applied, the
task goes to the room's person of the task's side with that role, and stays unassigned
when there is none.

``playbook_load`` is the one way in: it checks a dict and returns the ``PlanTemplateSpec``
the scheduler lays out (``plans.templates_builtin.layout``), or raises ``PlaybookError``
listing every problem, each naming the item it is about. ``playbook_dump`` is the way
back out.
"""

import re
from dataclasses import dataclass, field

from mapsite.text import single_line
from stakeholders.models import DecisionRole, Side, Track

FORMAT = 1
CLOSE, START = "close", "start"
ANCHORS = {CLOSE: "before the close date", START: "after the start"}
MAX_OFFSET = 730  # two years either way
MAX_MILESTONES = 30
MAX_TASKS = 100
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # always with fullmatch
LIMITS = {"name": 120, "motion": 60, "description": 500, "title": 200, "condition": 500}


class PlaybookError(ValueError):
    """A template that does not hold together; ``problems`` names each bad item."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(" ".join(self.problems))


@dataclass(frozen=True)
class TaskSpec:
    title: str
    offset_days: int
    side: str  # "buyer" | "seller"
    anchor: str = CLOSE
    owner_role: str = ""  # a DecisionRole value, or "" for no owner

    @property
    def days_before_close(self):
        """The offset of a close-anchored item (None when it counts from the start)."""
        return self.offset_days if self.anchor == CLOSE else None


@dataclass(frozen=True)
class MilestoneSpec:
    title: str
    offset_days: int
    lead_side: str
    track: str
    completion_condition: str
    anchor: str = CLOSE
    depends_on: tuple[int, ...] = ()  # indexes of earlier milestones
    tasks: tuple[TaskSpec, ...] = field(default_factory=tuple)

    @property
    def days_before_close(self):
        return self.offset_days if self.anchor == CLOSE else None


@dataclass(frozen=True)
class PlanTemplateSpec:
    slug: str
    name: str
    motion: str
    description: str
    milestones: tuple[MilestoneSpec, ...]

    @property
    def task_count(self):
        return sum(len(m.tasks) for m in self.milestones)

    @property
    def audience(self):
        """The line under its name in a list: "Mid-market · 12 tasks"."""
        count = f"{self.task_count} task{'' if self.task_count == 1 else 's'}"
        return f"{self.motion} · {count}" if self.motion else count


def role_label(value):
    return DecisionRole(value).label if value in DecisionRole.values else ""


# --- loading ---------------------------------------------------------------------------


class _Checker:
    def __init__(self):
        self.problems = []

    def text(self, where, data, key, *, limit, required=False, default=""):
        value = data.get(key, default)
        if value is None:
            value = default
        if not isinstance(value, str):
            self.problems.append(f"{where}: “{key}” must be text.")
            return default
        value = single_line(value)
        if required and not value:
            self.problems.append(f"{where}: “{key}” is required.")
        elif len(value) > limit:
            self.problems.append(f"{where}: “{key}” is longer than {limit} characters.")
        return value

    def choice(self, where, data, key, choices, *, default=None):
        value = data.get(key, default)
        if value not in choices:
            allowed = ", ".join(f"“{c}”" for c in choices)
            self.problems.append(f"{where}: “{key}” must be one of {allowed}.")
            return default if default is not None else next(iter(choices))
        return value

    def offset(self, where, data):
        value = data.get("offset_days")
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{where}: “offset_days” must be a whole number of days.")
            return 0
        if not 0 <= value <= MAX_OFFSET:
            self.problems.append(f"{where}: “offset_days” must be from 0 to {MAX_OFFSET}.")
            return 0
        return value

    def known_keys(self, where, data, keys):
        for key in data:
            if key not in keys:
                self.problems.append(f"{where}: unknown field “{key}”.")


TEMPLATE_KEYS = {"format", "slug", "name", "motion", "description", "milestones"}
MILESTONE_KEYS = {
    "title",
    "anchor",
    "offset_days",
    "lead_side",
    "track",
    "completion_condition",
    "depends_on",
    "tasks",
}
TASK_KEYS = {"title", "anchor", "offset_days", "side", "owner_role"}


def playbook_load(data, *, slug_required=True):
    """The ``PlanTemplateSpec`` that ``data`` (a dict in the format above) describes;
    ``PlaybookError`` listing every problem otherwise. Text is cleaned to one line."""
    if not isinstance(data, dict):
        raise PlaybookError(["A template must be a JSON object."])
    check = _Checker()
    check.known_keys("The template", data, TEMPLATE_KEYS)
    if data.get("format", FORMAT) != FORMAT:
        check.problems.append(f"The template: “format” must be {FORMAT}.")
    name = check.text("The template", data, "name", limit=LIMITS["name"], required=True)
    slug = data.get("slug", "")
    if (slug or slug_required) and (not isinstance(slug, str) or not SLUG.fullmatch(slug)):
        check.problems.append(
            "The template: “slug” must be lower-case letters, digits and hyphens "
            "(up to 64), starting with a letter or digit."
        )
        slug = ""
    motion = check.text("The template", data, "motion", limit=LIMITS["motion"])
    description = check.text("The template", data, "description", limit=LIMITS["description"])
    raw_milestones = data.get("milestones")
    if not isinstance(raw_milestones, list) or not raw_milestones:
        check.problems.append("The template: “milestones” must be a list of at least one.")
        raw_milestones = []
    elif len(raw_milestones) > MAX_MILESTONES:
        check.problems.append(f"The template: more than {MAX_MILESTONES} milestones.")
    milestones = [
        _milestone(check, index, raw) for index, raw in enumerate(raw_milestones[:MAX_MILESTONES])
    ]
    if sum(len(m.tasks) for m in milestones) > MAX_TASKS:
        check.problems.append(f"The template: more than {MAX_TASKS} tasks in all.")
    if check.problems:
        raise PlaybookError(check.problems)
    return PlanTemplateSpec(
        slug=slug, name=name, motion=motion, description=description, milestones=tuple(milestones)
    )


def _milestone(check, index, raw):
    where = f"Milestone {index + 1}"
    if not isinstance(raw, dict):
        check.problems.append(f"{where}: must be an object.")
        return MilestoneSpec("", 0, Side.BUYER, Track.BUSINESS, "")
    title = check.text(where, raw, "title", limit=LIMITS["title"], required=True)
    if title:
        where = f"{where} “{title}”"
    check.known_keys(where, raw, MILESTONE_KEYS)
    anchor = check.choice(where, raw, "anchor", list(ANCHORS), default=CLOSE)
    depends_on = raw.get("depends_on", [])
    if not isinstance(depends_on, list):
        check.problems.append(f"{where}: “depends_on” must be a list of earlier milestones.")
        depends_on = []
    for dep in depends_on:
        if isinstance(dep, bool) or not isinstance(dep, int) or not 0 <= dep < index:
            check.problems.append(
                f"{where}: “depends_on” {dep!r} is not an earlier milestone "
                f"(give positions from 0 to {index - 1})."
                if index
                else f"{where}: the first milestone cannot depend on another."
            )
    if len(set(map(repr, depends_on))) != len(depends_on):
        check.problems.append(f"{where}: “depends_on” names a milestone twice.")
    raw_tasks = raw.get("tasks", [])
    if not isinstance(raw_tasks, list):
        check.problems.append(f"{where}: “tasks” must be a list.")
        raw_tasks = []
    tasks = tuple(
        _task(check, f"{where}, task {t_index + 1}", raw_task, anchor)
        for t_index, raw_task in enumerate(raw_tasks)
    )
    return MilestoneSpec(
        title=title,
        offset_days=check.offset(where, raw),
        lead_side=check.choice(where, raw, "lead_side", Side.values),
        track=check.choice(where, raw, "track", Track.values),
        completion_condition=check.text(
            where, raw, "completion_condition", limit=LIMITS["condition"]
        ),
        anchor=anchor,
        depends_on=tuple(d for d in depends_on if isinstance(d, int)),
        tasks=tasks,
    )


def _task(check, where, raw, anchor):
    if not isinstance(raw, dict):
        check.problems.append(f"{where}: must be an object.")
        return TaskSpec("", 0, Side.BUYER)
    title = check.text(where, raw, "title", limit=LIMITS["title"], required=True)
    if title:
        where = f"{where} “{title}”"
    check.known_keys(where, raw, TASK_KEYS)
    return TaskSpec(
        title=title,
        offset_days=check.offset(where, raw),
        side=check.choice(where, raw, "side", Side.values),
        anchor=check.choice(where, raw, "anchor", list(ANCHORS), default=anchor),
        owner_role=check.choice(where, raw, "owner_role", ["", *DecisionRole.values], default=""),
    )


# --- and back out --------------------------------------------------------------------------


def playbook_dump(spec, *, header=True):
    """``spec`` as a dict in the format (``header=False``: only the format version and
    the milestones, what an organisation's template keeps as its body)."""
    data = {"format": FORMAT}
    if header:
        data |= {
            "slug": spec.slug,
            "name": spec.name,
            "motion": spec.motion,
            "description": spec.description,
        }
    data["milestones"] = [
        {
            "title": m.title,
            "anchor": m.anchor,
            "offset_days": m.offset_days,
            "lead_side": m.lead_side,
            "track": m.track,
            "completion_condition": m.completion_condition,
            "depends_on": list(m.depends_on),
            "tasks": [
                {
                    "title": t.title,
                    "side": t.side,
                    "owner_role": t.owner_role,
                    "offset_days": t.offset_days,
                    **({"anchor": t.anchor} if t.anchor != m.anchor else {}),
                }
                for t in m.tasks
            ],
        }
        for m in spec.milestones
    ]
    return data
