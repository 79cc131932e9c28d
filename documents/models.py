"""Documents shared in a room: uploaded by the seller's team or a buyer, each optionally
linked to a milestone (and, as completion evidence, to a task), with who opened it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from plans.models import Milestone, RoomOwned, Task
from rooms.models import RoomScopedQuerySet
from stakeholders.models import Scope, Stakeholder


def storage_name(instance, filename):
    """Where the file lives: a random name under the room's folder. The uploaded name
    never reaches the filesystem (it is kept, cleaned, in ``Document.name``)."""
    return f"documents/{instance.room_id}/{uuid.uuid4().hex}{instance.extension}"


class DocumentQuerySet(RoomScopedQuerySet):
    def visible_to(self, stakeholder):
        """What a buyer may open: everything with the whole plan; otherwise documents of
        their track's milestones, of tasks they see, and their own uploads."""
        if stakeholder.scope == Scope.WHOLE_PLAN:
            return self
        return self.filter(
            models.Q(milestone__track=stakeholder.track)
            | models.Q(task__milestone__track=stakeholder.track)
            | models.Q(task__owner=stakeholder)
            | models.Q(uploaded_by_stakeholder=stakeholder)
        )


class Document(RoomOwned):
    milestone = models.ForeignKey(
        Milestone, null=True, blank=True, on_delete=models.SET_NULL, related_name="documents"
    )
    task = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="documents",
        verbose_name="evidence for",
    )
    name = models.CharField(max_length=160)  # the uploaded name, cleaned
    file = models.FileField(upload_to=storage_name, max_length=255)
    content_type = models.CharField(max_length=100)  # detected from the content
    extension = models.CharField(max_length=8)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by_stakeholder = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploader_label = models.CharField(max_length=250)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["room", "-created_at"])]

    def __str__(self):
        return self.name

    @property
    def from_buyer(self):
        return self.uploaded_by_stakeholder_id is not None


class DocumentView(models.Model):
    """Someone opened (downloaded) a document: a buyer stakeholder or a seller user."""

    org = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="views")
    stakeholder = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    viewed_at = models.DateTimeField(default=timezone.now)

    objects = RoomScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-viewed_at"]
        indexes = [models.Index(fields=["room", "document"])]

    def __str__(self):
        return f"{self.document_id} viewed {self.viewed_at:%Y-%m-%d %H:%M}"
