"""Reads of a room's documents, with who opened each and the contradiction signal."""

from django.db.models import Count, Max, Min

from plans.models import MilestoneStatus
from stakeholders.models import Side, Stakeholder

from .models import Document, DocumentView


def seller_documents(room):
    """Every document of the room, each with ``buyer_views`` (per stakeholder: name,
    count, first and last open), ``team_views`` and ``opened_by_buyer`` (4 queries)."""
    documents = list(
        Document.objects.for_room(room).select_related(
            "milestone", "task", "uploaded_by_stakeholder"
        )
    )
    people = {p.pk: p for p in Stakeholder.objects.for_room(room)}
    rows = (
        DocumentView.objects.for_room(room)
        .values("document_id", "stakeholder_id")
        .annotate(count=Count("id"), first=Min("viewed_at"), last=Max("viewed_at"))
        .order_by("document_id", "-last")
    )
    by_document = {}
    for row in rows:
        by_document.setdefault(row["document_id"], []).append(row)
    for document in documents:
        document.buyer_views = []
        document.team_views = 0
        for row in by_document.get(document.pk, []):
            person = people.get(row["stakeholder_id"])
            if row["stakeholder_id"] is None:
                document.team_views += row["count"]
            elif person is not None:
                document.buyer_views.append({"person": person, **row})
        document.opened_by_buyer = any(v["person"].side == Side.BUYER for v in document.buyer_views)
    return documents


def contradictions(documents):
    """Milestones marked done while a document linked to them was never opened by anyone
    on the buyer's side (documents the buyer uploaded themselves don't count)."""
    return [
        d
        for d in documents
        if d.milestone is not None
        and d.milestone.status == MilestoneStatus.DONE
        and not d.from_buyer
        and not d.opened_by_buyer
    ]


def buyer_documents(access):
    return list(
        Document.objects.for_room(access.room)
        .visible_to(access.stakeholder)
        .select_related("milestone", "task")
    )
