"""Writes of shared documents. Uploads and deletions go through the room's write path
(the read-only check and revision bump of ``room_touch``, an ActivityEvent); opening a
document is recorded as a view, which a closed room still allows."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from plans.models import Milestone, Task
from rooms.activity_log import activity_record
from rooms.models import ActivityEvent
from rooms.revision import room_touch, room_writable
from stakeholders.models import Side

from .models import Document, DocumentView
from .validation import inspect_upload


def document_upload(*, actor, room, upload, milestone=None, task=None):
    """Check and store an uploaded file for the room. ``milestone`` and ``task`` come
    from the caller's scoped querysets; they are re-checked against the room here."""
    room_writable(room)
    if milestone is not None and (milestone.room_id != room.pk or milestone.org_id != room.org_id):
        raise ValidationError("Pick a milestone of this plan.")
    if task is not None:
        if task.room_id != room.pk or task.org_id != room.org_id:
            raise ValidationError("Pick a task of this plan.")
        milestone = milestone or task.milestone
    checked = inspect_upload(upload)
    document = Document(
        org_id=room.org_id,
        room=room,
        milestone=milestone,
        task=task,
        name=checked.name,
        content_type=checked.content_type,
        extension=checked.extension,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by_user=actor.user,
        uploaded_by_stakeholder=actor.stakeholder,
        uploader_label=actor.label[:250],
    )
    upload.seek(0)
    try:
        with transaction.atomic():
            room_touch(room.pk)
            document.file.save("upload", upload, save=False)
            document.save()
            changes = {
                "name": {"label": "Document", "from": "", "to": document.name},
                "size": {"label": "Size", "from": "", "to": filesizeformat(document.size)},
            }
            if milestone is not None:
                changes["milestone"] = {"label": "Milestone", "from": "", "to": milestone.title}
            if task is not None:
                changes["task"] = {"label": "Evidence for", "from": "", "to": task.title}
            activity_record(
                room=room,
                actor=actor,
                verb=ActivityEvent.Verb.UPLOADED,
                target=document,
                target_version=document.version,
                changes=changes,
            )
    except Exception:
        if document.file.name:
            document.file.storage.delete(document.file.name)
        raise
    return document


def document_delete(*, actor, room, document_id):
    """Remove a document and its file (the file goes once the deletion commits)."""
    with transaction.atomic():
        document = Document.objects.for_room(room).select_for_update().get(pk=document_id)
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.DELETED,
            target=document,
            changes={"name": {"label": "Document", "from": document.name, "to": ""}},
        )
        storage, name = document.file.storage, document.file.name
        document.delete()
        transaction.on_commit(lambda: storage.delete(name))


def document_open(*, room, document, stakeholder=None, user=None):
    """Record that someone opened a document (allowed in a read-only room too)."""
    return DocumentView.objects.create(
        org_id=room.org_id,
        room=room,
        document=document,
        stakeholder=stakeholder,
        user=user,
        viewed_at=timezone.now(),
    )


def buyer_evidence_tasks(access):
    """Tasks a buyer may attach evidence to: buyer-side tasks they can see."""
    tasks = (
        Task.objects.for_room(access.room)
        .visible_to(access.stakeholder)
        .select_related("owner", "milestone")
    )
    return [t for t in tasks if t.effective_side == Side.BUYER]


def room_milestones(room):
    return list(Milestone.objects.for_room(room))
