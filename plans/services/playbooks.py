"""The organisation's own plan templates: creating, editing, deleting, and saving a
room's plan as one. Only the organisation's admins and managers write them
(``playbook_can_edit``); every template is checked by the format's one loader
(plans/playbook_format.py) before it is stored, so a stored template always applies.

Templates belong to the organisation, not to a room: writing one changes no room (a
room started from a template holds its own copy), so these writes do not go through
the rooms' versioned write path. They are locked by ``version`` all the same: an edit
made from an older version is refused with the name of who changed it."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import LEADS
from stakeholders.models import DecisionRole

from ..models import Milestone, Plan, Playbook, Task
from ..playbook_format import (
    CLOSE,
    MAX_OFFSET,
    PlaybookError,
    playbook_dump,
    playbook_load,
)
from ..templates_builtin import BUILTIN_TEMPLATES
from .base import PlanError

EDITORS = LEADS
HEADER = ("name", "slug", "motion", "description")


class PlaybookDenied(PlanError):
    """Only an organisation's admins and managers write its templates."""


class PlaybookChanged(PlanError):
    """The template was changed by someone else since the editor read it."""


def playbook_can_edit(membership):
    return membership is not None and membership.role in EDITORS


def _require_editor(membership):
    if not playbook_can_edit(membership):
        raise PlaybookDenied("Only the organisation's admins and managers edit its templates.")


# Slugs an organisation's template never takes: the built-ins' and "empty", so that a
# slug names one template wherever one is asked for (the picker, the API's "template").
RESERVED_SLUGS = frozenset({"empty", *BUILTIN_TEMPLATES})


def _free_slug(org_id, wanted, *, exclude=None):
    """``wanted`` (or ``wanted-2``, ``-3``…) when another template of the organisation
    does not hold it and no built-in has it."""
    # slugify keeps underscores, which a template's slug may not have (playbook_format.SLUG).
    base = (wanted or "").replace("_", "-")[:56].strip("-") or "template"
    taken = RESERVED_SLUGS | set(
        Playbook.objects.for_org(org_id)
        .exclude(pk=exclude)
        .filter(slug__startswith=base)
        .values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    return slug


def _checked(data):
    """``data`` through the loader; the stored header and body of the template."""
    spec = playbook_load(data, slug_required=False)
    if spec.slug in RESERVED_SLUGS:
        raise PlaybookError(
            [f"The template: “{spec.slug}” is a built-in template's name; choose another slug."]
        )
    header = {"name": spec.name, "motion": spec.motion, "description": spec.description}
    return spec, header, playbook_dump(spec, header=False)


def playbook_create(*, membership, data):
    """A new template of ``membership``'s organisation from ``data`` (a dict in the
    template format; its slug, when missing, follows the name and is made unique in
    the organisation). ``PlaybookError`` for a template that does not hold together,
    ``PlaybookDenied`` for a rep."""
    _require_editor(membership)
    spec, header, body = _checked(data)
    with transaction.atomic():
        slug = spec.slug or _free_slug(membership.org_id, slugify(spec.name))
        if Playbook.objects.for_org(membership.org_id).filter(slug=slug).exists():
            raise PlaybookError([f"The template: another template already uses “{slug}”."])
        try:
            with transaction.atomic():
                return Playbook.objects.create(
                    org_id=membership.org_id,
                    slug=slug,
                    body=body,
                    created_by_id=membership.user_id,
                    **header,
                )
        except IntegrityError:
            raise PlaybookError(
                [f"The template: another template already uses “{slug}”."]
            ) from None


def playbook_update(*, membership, playbook_id, base_version, data):
    """Replace the template's name, motion, description and milestones with ``data``
    (the whole template in the format; a slug in it is kept, or changed when free).
    Refused with ``PlaybookChanged`` when it moved on since ``base_version``. Rooms
    already started from it keep their plans."""
    _require_editor(membership)
    spec, header, body = _checked(data)
    with transaction.atomic():
        playbook = (
            Playbook.objects.for_org(membership.org_id).select_for_update().get(pk=playbook_id)
        )
        if base_version is not None and int(base_version) != playbook.version:
            raise PlaybookChanged(
                f"“{playbook.name}” was changed by someone else meanwhile (now version "
                f"{playbook.version}). Reload it and make your change again."
            )
        slug = spec.slug or playbook.slug
        if (
            slug != playbook.slug
            and Playbook.objects.for_org(membership.org_id).filter(slug=slug).exists()
        ):
            raise PlaybookError([f"The template: another template already uses “{slug}”."])
        Playbook.objects.filter(pk=playbook.pk).update(
            slug=slug,
            body=body,
            version=F("version") + 1,
            updated_at=timezone.now(),
            **header,
        )
        playbook.refresh_from_db()
        return playbook


def playbook_started_count(playbook):
    """How many of the organisation's plans were started from ``playbook``, as their
    plans remember it: by name (a renamed template counts the rooms under its new name
    only)."""
    return Plan.objects.for_org(playbook.org_id).filter(template_name=playbook.name).count()


def playbook_delete(*, membership, playbook_id):
    """Delete the template; rooms started from it keep their plans and the name."""
    _require_editor(membership)
    # Already gone (deleted from another window meanwhile): nothing left to do.
    Playbook.objects.for_org(membership.org_id).filter(pk=playbook_id).delete()


def playbook_from_room(*, membership, room, name, motion="", description=""):
    """Save ``room``'s plan as a new template of the organisation: each milestone and
    task at its distance in days before the room's close date (a date after the close,
    or none, counts as the close itself), dependencies on earlier milestones kept, each
    task's owner turned into their role in the decision (no role when the owner has
    none, "Other", or there is no owner). ``room`` must come from the member's own
    organisation (``rooms.selectors.room_for_member``)."""
    _require_editor(membership)
    if room.org_id != membership.org_id:
        raise Plan.DoesNotExist
    plan = Plan.objects.for_room(room).first()
    if plan is None:
        raise PlanError("This room has no plan yet: start one first.")
    data = room_plan_as_template(room)
    data |= {"name": name, "motion": motion, "description": description}
    return playbook_create(membership=membership, data=data)


def room_plan_as_template(room):
    """The room's plan in the template format (milestones and tasks only)."""
    close = room.target_close_date
    milestones = list(
        Milestone.objects.for_room(room)
        .order_by("order", "created_at")
        .prefetch_related("depends_on")
    )
    tasks = Task.objects.for_room(room).select_related("owner").order_by("order", "created_at")
    by_milestone = {}
    for task in tasks:
        by_milestone.setdefault(task.milestone_id, []).append(task)
    position = {m.pk: index for index, m in enumerate(milestones)}

    def offset(day, default=0):
        if day is None or close is None:
            return default
        return min(MAX_OFFSET, max(0, (close - day).days))

    def role(task):
        if task.owner is None or task.owner.role == DecisionRole.OTHER:
            return ""
        return task.owner.role

    body = []
    for index, m in enumerate(milestones):
        m_offset = offset(m.target_date)
        body.append(
            {
                "title": m.title,
                "anchor": CLOSE,
                "offset_days": m_offset,
                "lead_side": m.lead_side,
                "track": m.track,
                "completion_condition": m.completion_condition[:500],
                "depends_on": sorted(
                    position[d.pk] for d in m.depends_on.all() if position.get(d.pk, index) < index
                ),
                "tasks": [
                    {
                        "title": t.title,
                        "side": t.effective_side,
                        "owner_role": role(t),
                        "offset_days": offset(t.due_date, m_offset),
                    }
                    for t in by_milestone.get(m.pk, [])
                ],
            }
        )
    return {"milestones": body}
