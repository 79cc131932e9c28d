"""The activity log as people read it.

Each ActivityEvent keeps the facts of a change (who, which verb, what, each field's
before and after as shown at the time). This module turns them into one plain
sentence ("Maria Lopez moved *Legal review* from 3 Mar to 10 Mar") and a few detail lines
where a sentence cannot say everything, one verb at a time. Internal fields (overdue
levels, versions, positions, ids, bookkeeping counters) are never shown: what a change
did to them is said in buyer and seller words, or not at all. The words it is written
in are rooms/activity_words.py; relative times and day headings, rooms/activity_days.py.
"""

import datetime

from .activity_words import (
    DATE_FIELDS,
    NAME_FIELDS,
    NOUNS,
    TEXT_FIELDS,
    Em,
    Line,
    _label,
    _quote,
    _shown,
    _value,
    _year,
    person_label,
    short_date,
)
from .models import ActivityEvent, ActorKind

V = ActivityEvent.Verb


# --- sentences ------------------------------------------------------------------------


def _thing(event, *, the=True):
    """How the sentence names the target: "the risk *Budget freeze*", "*Legal review*"."""
    noun = NOUNS.get(event.target_type, "")
    label = event.target_label
    if event.target_type == "stakeholder":
        return [Em(person_label(label)[0])]
    if event.target_type == "task" and not the:
        return [Em(label)]
    if event.target_type == "room":
        return ["the deal"]
    if event.target_type == "plan":
        return ["the plan"]
    return [f"the {noun} " if noun else "", Em(label)]


def _of(event):
    """ "of *X*" for fields of a row, nothing but "the deal's" for the room itself."""
    if event.target_type == "room":
        return ["the deal's "], []
    return ["the "], [" of ", *_thing(event, the=False)]


def _one_field(event, name, change, year):
    before = _value(name, change.get("from"), year)
    after = _value(name, change.get("to"), year)
    label = _label(name, change)
    room = event.target_type == "room"
    if name in DATE_FIELDS:
        if room:
            what = [f"the {label}"]
            if before and after:
                return ["moved ", *what, f" from {before} to {after}"], []
            return (["set ", *what, f" to {after}"] if after else ["cleared ", *what]), []
        what = _thing(event, the=event.target_type != "task")
        if before and after:
            return ["moved ", *what, f" from {before} to {after}"], []
        if after:
            return ["dated ", *what, f" {after}"], []
        return ["removed the date of ", *what], []
    if name == "status" and event.target_type == "task":
        if after.lower() == "done":
            return ["marked ", *_thing(event, the=False), " done"], []
        was = f" (was {before.lower()})" if before else ""
        return ["marked ", *_thing(event, the=False), f" {after.lower()}{was}"], []
    if name in NAME_FIELDS and before and after:
        noun = NOUNS.get(event.target_type, "")
        lead = "renamed the deal " if room else f"renamed the {noun} " if noun else "renamed "
        return [lead, Em(before), " to ", Em(after)], []
    if name == "owner" and not room:
        if after:
            return ["made ", after, " the owner of ", *_thing(event, the=False)], []
        return ["removed the owner of ", *_thing(event, the=False)], []
    head, tail = _of(event)
    if name in TEXT_FIELDS:
        if not after:
            return ["cleared ", *head, label, *tail], []
        return ["edited ", *head, label, *tail], [[_quote(after)]]
    if name == "depends_on":
        if not after:
            return [*_thing(event), " no longer depends on anything"], []
        return ["changed what ", *_thing(event), " depends on"], [[f"Now depends on: {after}"]]
    if before and after:
        return ["changed ", *head, label, *tail, f" from {before} to {after}"], []
    if after:
        return ["set ", *head, label, *tail, f" to {after}"], []
    return ["cleared ", *head, label, *tail], []


def _and(words):
    if len(words) <= 2:
        return " and ".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _updated(event):
    shown = _shown(event.changes)
    year = _year(event)
    if not shown:
        return ["updated ", *_thing(event, the=False)], []
    if len(shown) == 1:
        ((name, change),) = shown.items()
        return _one_field(event, name, change, year)
    head, tail = _of(event)
    labels = [_label(name, change) for name, change in shown.items()]
    details = []
    for name, change in shown.items():
        before = _value(name, change.get("from"), year)
        after = _value(name, change.get("to"), year)
        if name in TEXT_FIELDS:
            details.append([f"{_label(name, change).capitalize()}: ", _quote(after)])
        else:
            details.append(
                [f"{_label(name, change).capitalize()}: {before or '—'} → {after or '—'}"]
            )
    return ["changed ", *head, _and(labels), *tail], details


# What a new row's summary line says, per kind, in this order (the rest is on its page).
SUMMARY = {
    "task": ("milestone", "owner", "side", "due_date"),
    "milestone": ("target_date", "lead_side", "track", "completion_condition"),
    "risk": ("impact", "owner", "mitigation"),
    "decisioncriterion": ("notes",),
    "stakeholder": ("title", "role", "approval_authority"),
    "room": ("buyer_company", "stage", "target_close_date"),
}
SUMMARY_WORDS = {"due_date": "Due", "milestone": "In", "title": "", "buyer_company": "For"}


def _summary(event, key):
    """What a new row held, in one line: "In Legal · Owner Maria Lopez · Due 3 Mar"."""
    changes = _shown(event.changes)
    year = _year(event)
    items = []
    for name in SUMMARY.get(event.target_type, ()):
        change = changes.get(name) or {}
        value = _value(name, change.get(key), year)
        if not value:
            continue
        if name == "approval_authority":
            if value == "yes":
                items.append("Signs off")
            continue
        if name in TEXT_FIELDS:
            value = _quote(value)
        if name in ("side", "lead_side") and value in ("Buyer", "Seller"):
            items.append(f"{value} side" if name == "side" else f"{value} leads")
            continue
        label = SUMMARY_WORDS.get(name, _label(name, change))
        label = f"{label[0].upper()}{label[1:]} " if label else ""
        items.append(f"{label}{value}")
    return [[" · ".join(items)]] if items else []


def _created(event):
    if event.target_type == "room":
        return ["created the deal room ", Em(event.target_label)], []
    if event.target_type == "stakeholder":
        name, side = person_label(event.target_label)
        where = f" to the {side}'s people" if side else " to the people"
        return ["added ", Em(name), where], _summary(event, "to")
    return ["added ", *_thing(event)], _summary(event, "to")


def _deleted(event):
    if event.target_type == "stakeholder":
        return ["removed ", Em(person_label(event.target_label)[0]), " from the people"], []
    return ["removed ", *_thing(event)], []


def _moved(event):
    change = (event.changes or {}).get("order") or {}
    try:
        up = int(change.get("to")) < int(change.get("from"))
    except (TypeError, ValueError):
        return ["moved ", *_thing(event), " in the list"], []
    return ["moved ", *_thing(event), " up the list" if up else " down the list"], []


def _late(event, flagged):
    tasks = [c for c in (event.changes or {}).values() if isinstance(c, dict)]
    if len(tasks) == 1:
        late = tasks[0].get("to") or "late"
        title = tasks[0].get("label") or event.target_label
        if flagged:
            return ["flagged ", Em(title), f" as {late}"], []
        return ["sent overdue alerts for ", Em(title), f", {late}"], []
    count = f"{len(tasks)} tasks" if tasks else event.target_label
    details = [[f"{c.get('label', '')} — {c.get('to', 'late')}"] for c in tasks]
    if flagged:
        return [f"flagged {count} as 3 days or more late"], details
    return [f"sent overdue alerts for {count}, a week or more late"], details


def _replanned(event):
    rows = [c for c in (event.changes or {}).values() if isinstance(c, dict)]
    year = _year(event)
    days = None
    for row in rows:
        try:
            days = (
                datetime.date.fromisoformat(str(row["to"]))
                - datetime.date.fromisoformat(str(row["from"]))
            ).days
            break
        except (KeyError, ValueError):
            continue
    if days:
        n = abs(days)
        how = f" {n} day{'' if n == 1 else 's'} {'later' if days > 0 else 'earlier'}"
    else:
        how = ""
    details = [
        [
            f"{row.get('label', '')}: {short_date(row.get('from'), this_year=year)} → "
            f"{short_date(row.get('to'), this_year=year)}"
        ]
        for row in rows
    ]
    return [f"moved the plan's open work{how}"], details


def _uploaded(event):
    changes = event.changes or {}
    facts = []
    for key, words in (("task", "Evidence for "), ("milestone", "For the milestone ")):
        if (changes.get(key) or {}).get("to"):
            facts.append(words + changes[key]["to"])
    if (changes.get("size") or {}).get("to"):
        facts.append(changes["size"]["to"])
    return ["uploaded ", Em(event.target_label)], [[" · ".join(facts)]] if facts else []


def _checked_in(event):
    """ "held the weekly check-in", with who attended, the decisions and how many tasks
    changed during the call."""
    changes = event.changes or {}
    details = []
    for key, words in (("attendees", "Attended: "), ("lines", "Tasks updated: ")):
        if value := (changes.get(key) or {}).get("to"):
            details.append([words + value])
    if decisions := (changes.get("decisions") or {}).get("to"):
        details.append(["Decisions: ", _quote(decisions)])
    return ["held the weekly check-in"], details


def _expires(event):
    expires = ((event.changes or {}).get("expires") or {}).get("to")
    details = [[f"Expires {short_date(expires, this_year=_year(event))}"]]
    return details if expires else []


def _sentence(event, room_name):  # noqa: C901 - one branch per verb reads best
    verb = event.verb
    person = [Em(person_label(event.target_label)[0])]
    if verb == V.CREATED:
        return _created(event)
    if verb == V.UPDATED:
        return _updated(event)
    if verb == V.DELETED:
        return _deleted(event)
    if verb == V.MOVED:
        return _moved(event)
    if verb == V.APPLIED_TEMPLATE:
        label = event.target_label
        if label.endswith(" template"):
            return ["started the plan from the ", Em(label[: -len(" template")]), " template"], []
        return ["started ", label or "the plan"], []
    if verb == V.CONFLICT:
        labels = _and([_label(n, c) for n, c in _shown(event.changes).items()]) or "changes"
        head, tail = _of(event)
        return [
            "could not save ",
            *(["a change to "] if not _shown(event.changes) else []),
            *head,
            labels,
            *tail,
            ": someone else had just changed it",
        ], []
    if verb in (V.FLAGGED, V.ALERTED):
        return _late(event, verb == V.FLAGGED)
    if verb == V.LINK_ISSUED:
        return ["gave ", *person, " a personal link to the room"], _expires(event)
    if verb == V.LINK_REVOKED:
        return ["turned off the personal link of ", *person], []
    if verb == V.AGREED:
        return ["agreed to the plan"], []
    if verb == V.COMMENTED:
        comment = ((event.changes or {}).get("comment") or {}).get("to")
        return ["commented on ", *_thing(event, the=False)], [[_quote(comment)]] if comment else []
    if verb in (V.COMPLETED, V.REOPENED):
        word = "completed " if verb == V.COMPLETED else "reopened "
        if event.target_type == "room":
            return [word, "the deal"], []
        return [word, *_thing(event)], []
    if verb in (V.WON, V.LOST):
        reason = event.target_label
        outcome = "won" if verb == V.WON else "lost"
        # Without a reason the label is the deal's name: nothing to quote.
        details = [[_quote(reason)]] if reason and reason != room_name else []
        return [f"marked the deal {outcome}"], details
    if verb == V.FIRST_VIEW:
        return ["opened the room for the first time"], []
    if verb == V.HANDED_OVER:
        return ["handed the deal over to ", Em(event.target_label), " in Customer Success"], []
    if verb == V.UPLOADED:
        return _uploaded(event)
    if verb == V.FEED_ISSUED:
        return ["gave ", *person, " a calendar feed of the plan"], []
    if verb == V.FEED_REVOKED:
        return ["turned off the calendar feed of ", *person], []
    if verb == V.REPLANNED:
        return _replanned(event)
    if verb == V.REMINDERS_STOPPED:
        return ["stopped email reminders for this room"], []
    if verb == V.REMINDERS_RESUMED:
        return ["turned email reminders for this room back on"], []
    if verb == V.CHECKED_IN:
        return _checked_in(event)
    return ["changed ", *_thing(event)], []


def describe(event, *, room_name="") -> Line:
    """The entry as one sentence (and detail lines), without the time. ``room_name``
    tells a won or lost deal's note from its name (logged when there is no note)."""
    if event.actor_kind == ActorKind.STAKEHOLDER:
        actor, side = person_label(event.actor_label)
    else:
        actor, side = event.actor_label or "Someone", ""
    parts, details = _sentence(event, room_name)
    return Line(actor=actor, actor_side=side, parts=parts, details=[d for d in details if d])
