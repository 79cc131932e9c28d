"""Shared documents for the demo room (run by seed_demo), once.

Two seller documents: the security pack for the security review, and the evaluation
summary of the technical validation — a milestone already done whose summary nobody at
Acme has opened, so the room shows the contradiction signal.
"""

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from weasyprint import HTML

from plans.models import Milestone
from plans.pdf import STATIC_SCHEME, StaticOnlyFetcher
from rooms.actors import Actor
from rooms.models import Room

from ...models import Document
from ...services import document_upload

DOCUMENTS = [
    (
        "Northwind security pack.pdf",
        "Security review complete",
        "Security pack",
        ["SOC 2 Type II report (summary)", "Data residency: EU and US regions", "Pen test 2026"],
    ),
    (
        "Evaluation summary.pdf",
        "Technical validation complete",
        "Evaluation summary",
        ["9 of 9 evaluation criteria met", "Sandbox with Acme sample data", "Signed off by Maria"],
    ),
]


def _pdf(title, lines):
    items = "".join(f"<li>{line}</li>" for line in lines)
    html = (
        "<style>@font-face{font-family:S;src:url('static:fonts/DejaVuSans.ttf')}"
        "body{font-family:S;font-size:12pt}h1{color:#1f4e79}</style>"
        f"<h1>{title}</h1><p>Northwind Software for Acme Corp</p><ul>{items}</ul>"
    )
    return HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=StaticOnlyFetcher()).write_pdf()


class Command(BaseCommand):
    help = "Add the demo room's shared documents, once."

    def handle(self, *args, **options):
        room = Room.objects.filter(
            org__name="Northwind Software", buyer_company="Acme Corp"
        ).first()
        if room is None or Document.objects.for_room(room).exists():
            return
        actor = Actor(user=room.owner)
        for name, milestone_title, title, lines in DOCUMENTS:
            milestone = Milestone.objects.for_room(room).filter(title=milestone_title).first()
            upload = ContentFile(_pdf(title, lines), name=name)
            document_upload(actor=actor, room=room, upload=upload, milestone=milestone)
        self.stdout.write("Demo documents added.")
