"""Shared documents: uploads checked by content (size, type, polyglots, names), stored
through Django's storage under random names, served only through access-checked views
as attachments, per-person view tracking, the contradiction signal, tenancy and scope."""

import io
import zipfile

import pypdf
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from documents.models import Document, DocumentView
from documents.validation import UploadRejected, clean_name, inspect_upload
from plans.models import MilestoneStatus, TaskStatus
from plans.services import task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Outcome
from stakeholders import links
from stakeholders.models import Scope, Side, Track
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


# --- sample files -----------------------------------------------------------------------------


def pdf_bytes():
    writer = pypdf.PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png_bytes():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes():
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "navy").save(out, format="JPEG")
    return out.getvalue()


def ooxml_bytes(main_part="word/document.xml", extra=()):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", "<Relationships/>")
        if main_part:
            archive.writestr(main_part, "<document/>")
        for name in extra:
            archive.writestr(name, b"\x00")
    return out.getvalue()


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- the content check ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("proposal.pdf", pdf_bytes(), "application/pdf"),
        ("diagram.png", png_bytes(), "image/png"),
        ("photo.JPG", jpeg_bytes(), "image/jpeg"),
        (
            "contract.docx",
            ooxml_bytes(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            "pricing.xlsx",
            ooxml_bytes("xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "deck.pptx",
            ooxml_bytes("ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        ("answers.csv", b"question,answer\nSSO,yes\n", "text/csv"),
        ("notes.txt", "Plain notes — with ümlauts\n".encode(), "text/plain"),
    ],
)
def test_allowed_types_are_recognised_by_content(name, content, expected):
    assert inspect_upload(upload(name, content)).content_type == expected


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200, "not accepted"),  # an .exe
        ("invoice.pdf", png_bytes(), "content is a PNG image, but its name ends in .pdf"),
        ("report.pdf", b"<!doctype html><html><body>hi</body></html>", "markup"),
        ("logo.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>', "markup"),
        ("page.txt", b"hello <script>alert(1)</script>", "markup"),
        ("data.csv", b"a,b\n<html>x</html>", "markup"),
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 100, "damaged"),
        ("bundle.docx", ooxml_bytes(main_part=None), "Zip files are not accepted"),
        ("macro.docx", ooxml_bytes(extra=["word/vbaProject.bin"]), "macros"),
        ("binary.txt", b"abc\x00def", "not accepted"),
        ("latin1.txt", "caf\xe9".encode("latin-1"), "UTF-8"),
        ("empty.pdf", b"", "empty"),
        ("noext", pdf_bytes(), "no extension"),
    ],
)
def test_disallowed_or_disguised_files_are_refused(name, content, why):
    with pytest.raises(UploadRejected, match=why):
        inspect_upload(upload(name, content))


def test_a_pdf_with_html_in_its_first_kilobyte_is_refused():
    polyglot = b"%PDF-1.4\n%<html><script>alert(document.domain)</script>\n" + pdf_bytes()[9:]
    with pytest.raises(UploadRejected, match="web-page markup"):
        inspect_upload(upload("polyglot.pdf", polyglot))


def test_a_pdf_with_a_script_action_is_refused():
    scripted = pdf_bytes().replace(
        b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"
    )
    assert b"/JavaScript" in scripted
    with pytest.raises(UploadRejected, match="scripts"):
        inspect_upload(upload("scripted.pdf", scripted))


def test_size_limit(settings):
    settings.DOCUMENT_MAX_BYTES = 100
    with pytest.raises(UploadRejected, match="the limit is 100"):
        inspect_upload(upload("big.txt", b"x" * 101))


@pytest.mark.parametrize(
    ("raw", "extension", "expected"),
    [
        ("../../etc/passwd.txt", ".txt", "passwd.txt"),
        ("C:\\Users\\me\\Desktop\\report.pdf", ".pdf", "report.pdf"),
        ("..\\..\\boot.ini.pdf", ".pdf", "boot.ini.pdf"),
        ("invoice\u202egpj.pdf", ".pdf", "invoicegpj.pdf"),  # right-to-left override gone
        ("a\x00b\r\nc.pdf", ".pdf", "abc.pdf"),
        ('"><img src=x onerror=alert(1)>.png', ".png", "img src_x onerror_alert(1).png"),
        (".htaccess.txt", ".txt", "htaccess.txt"),
        ("...", ".pdf", "document.pdf"),
        ("x" * 300 + ".pdf", ".pdf", "x" * 120 + ".pdf"),
        ("Präsentation Q3 (final).pptx", ".pptx", "Präsentation Q3 (final).pptx"),
    ],
)
def test_names_are_cleaned(raw, extension, expected):
    assert clean_name(raw, extension) == expected


# --- seller uploads, downloads, views -----------------------------------------------------------


@pytest.fixture
def plan(room):
    return PlanFactory(room=room, org=room.org)


@pytest.fixture
def security(plan):
    return MilestoneFactory(plan=plan, title="Security review", track=Track.SECURITY)


@pytest.fixture
def maria(room):
    return StakeholderFactory(room=room, name="Maria Lopez", track=Track.BUSINESS)


def seller_upload(client, room, name, content, **data):
    return client.post(
        reverse("documents:upload", args=[room.pk]),
        {"file": upload(name, content), **data},
        **HX,
    )


def buyer_client(person):
    _, token = links.link_issue(actor=Actor(), room=person.room, stakeholder=person)
    client = Client()
    assert client.get(reverse("buyer:open", args=[token])).status_code == 303
    return client


def test_seller_uploads_and_the_file_is_stored_under_a_random_name(
    owner_client, room, security, _media
):
    response = seller_upload(
        owner_client, room, "../../Security pack.pdf", pdf_bytes(), milestone=security.pk
    )
    assert response.status_code == 200
    document = Document.objects.get()
    assert document.name == "Security pack.pdf"
    assert document.milestone == security
    assert document.content_type == "application/pdf"
    stored = document.file.name
    assert stored.startswith(f"documents/{room.pk}/") and "Security" not in stored
    assert (_media / stored).resolve().is_relative_to(_media.resolve())
    assert "Security pack.pdf" in response.content.decode()
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.UPLOADED)
    assert event.changes["name"]["to"] == "Security pack.pdf"
    assert event.changes["milestone"]["to"] == "Security review"


def test_a_refused_upload_says_why_and_stores_nothing(owner_client, room, _media):
    response = seller_upload(owner_client, room, "quote.pdf", b"<html><body>phish</body></html>")
    assert response.status_code == 422
    assert "markup" in response.content.decode()
    assert not Document.objects.exists()
    assert not (_media / "documents").exists() or not any((_media / "documents").rglob("*.*"))


def test_an_oversized_upload_is_dropped_while_it_streams(owner_client, room, settings, _media):
    settings.DOCUMENT_MAX_BYTES = 1024
    response = seller_upload(owner_client, room, "big.txt", b"a" * 5000)
    assert response.status_code == 422
    assert "too large" in response.content.decode()
    assert "1.0" in response.content.decode()  # "1.0 KB"
    assert not Document.objects.exists()


def test_upload_without_a_file_is_422(owner_client, room):
    response = owner_client.post(reverse("documents:upload", args=[room.pk]), {}, **HX)
    assert response.status_code == 422
    assert "Choose a file" in response.content.decode()


def test_download_is_an_attachment_that_never_renders(owner_client, room):
    seller_upload(owner_client, room, "notes.txt", b"hello")
    document = Document.objects.get()
    response = owner_client.get(reverse("documents:download", args=[room.pk, document.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hello"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_the_storage_folder_is_not_served(owner_client, room, client):
    seller_upload(owner_client, room, "notes.txt", b"hello")
    stored = Document.objects.get().file.name
    for prefix in ("/media/", "/static/", "/"):
        assert owner_client.get(prefix + stored).status_code == 404


def test_views_per_person_and_the_contradiction_signal(owner_client, room, plan, maria):
    milestone = MilestoneFactory(plan=plan, title="Business case", track=Track.BUSINESS)
    task = TaskFactory(milestone=milestone, owner=maria)
    seller_upload(owner_client, room, "Business case.pdf", pdf_bytes(), milestone=milestone.pk)
    document = Document.objects.get()
    section_url = reverse("documents:section", args=[room.pk])
    assert "not opened yet" in owner_client.get(section_url, **HX).content.decode()

    # The milestone gets done while nobody on the buyer's side opened its document.
    task_update(
        actor=Actor(user=None),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"status": TaskStatus.DONE},
    )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE
    html = owner_client.get(section_url, **HX).content.decode()
    assert "is marked done, but nobody at Acme Corp has opened" in html

    # The seller's own download does not count as the buyer's side.
    owner_client.get(reverse("documents:download", args=[room.pk, document.pk]))
    html = owner_client.get(section_url, **HX).content.decode()
    assert "is marked done, but nobody" in html and "your team: 1×" in html

    buyer = buyer_client(maria)
    response = buyer.get(reverse("buyer_documents:download", args=[document.pk]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"].startswith("default-src 'none'; sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    view = DocumentView.objects.get(stakeholder=maria)
    assert view.document == document
    html = owner_client.get(section_url, **HX).content.decode()
    assert "is marked done, but nobody" not in html
    assert "Maria Lopez · 1×" in html


# --- tenancy and scope ---------------------------------------------------------------


def test_another_rooms_document_is_404_under_my_room(owner_client, room, org):
    mine = RoomFactory(org=org)
    seller_upload(owner_client, mine, "notes.txt", b"hello")
    document = Document.objects.get()
    url = reverse("documents:download", args=[room.pk, document.pk])  # same org, other room
    assert owner_client.get(url).status_code == 404
    delete = reverse("documents:delete", args=[room.pk, document.pk])
    assert owner_client.post(delete).status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()


def test_another_organisations_document_is_404(owner_client, outsider_client, room):
    seller_upload(owner_client, room, "notes.txt", b"hello")
    document = Document.objects.get()
    url = reverse("documents:download", args=[room.pk, document.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.get(reverse("documents:section", args=[room.pk])).status_code == 404
    response = outsider_client.post(
        reverse("documents:upload", args=[room.pk]), {"file": upload("x.txt", b"x")}
    )
    assert response.status_code == 404
    assert not DocumentView.objects.exists()


def test_buyer_out_of_scope_gets_404_and_does_not_see_it(owner_client, room, plan, security, maria):
    maria.scope = Scope.TRACK
    maria.save()
    business = MilestoneFactory(plan=plan, title="Business case", track=Track.BUSINESS)
    seller_upload(owner_client, room, "Pen test.pdf", pdf_bytes(), milestone=security.pk)
    seller_upload(owner_client, room, "ROI model.pdf", pdf_bytes(), milestone=business.pk)
    pen_test = Document.objects.get(name="Pen test.pdf")
    roi = Document.objects.get(name="ROI model.pdf")
    buyer = buyer_client(maria)
    section = buyer.get(reverse("buyer_documents:section")).content.decode()
    # Her own track's document: listed and opened.
    assert "ROI model.pdf" in section
    assert buyer.get(reverse("buyer_documents:download", args=[roi.pk])).status_code == 200
    # Another track's: neither listed nor opened.
    assert "Pen test.pdf" not in section
    assert buyer.get(reverse("buyer_documents:download", args=[pen_test.pk])).status_code == 404
    assert list(DocumentView.objects.values_list("document", flat=True)) == [roi.pk]


def test_buyer_cannot_open_another_rooms_document(owner_client, room, org, maria):
    other = RoomFactory(org=org)
    seller_upload(owner_client, other, "notes.txt", b"hello")
    document = Document.objects.get()
    buyer = buyer_client(maria)
    assert buyer.get(reverse("buyer_documents:download", args=[document.pk])).status_code == 404


def test_buyer_without_a_session_gets_404(room):
    assert Client().get(reverse("buyer_documents:section")).status_code == 404


def test_buyer_uploads_completion_evidence_for_their_task(room, plan, maria):
    milestone = MilestoneFactory(plan=plan, title="Security review", track=Track.SECURITY)
    task = TaskFactory(milestone=milestone, owner=maria, title="Fill in the questionnaire")
    buyer = buyer_client(maria)
    response = buyer.post(
        reverse("buyer_documents:upload"),
        {"file": upload("questionnaire.xlsx", ooxml_bytes("xl/workbook.xml")), "task": task.pk},
        **HX,
    )
    assert response.status_code == 200
    document = Document.objects.get()
    assert document.task == task and document.milestone == milestone
    assert document.uploaded_by_stakeholder == maria
    assert document.uploader_label == "Maria Lopez (Buyer)"
    assert "questionnaire.xlsx" in response.content.decode()
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.UPLOADED)
    assert event.actor_label == "Maria Lopez (Buyer)"


def test_buyer_cannot_attach_evidence_to_a_task_outside_their_side_or_scope(room, plan, maria):
    milestone = MilestoneFactory(plan=plan, track=Track.BUSINESS)
    rep = StakeholderFactory(room=room, side=Side.SELLER)
    seller_task = TaskFactory(milestone=milestone, owner=rep, side=Side.SELLER)
    buyer = buyer_client(maria)
    response = buyer.post(
        reverse("buyer_documents:upload"),
        {"file": upload("x.txt", b"x"), "task": seller_task.pk},
    )
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_a_lost_room_keeps_its_documents_readable_but_takes_no_uploads(
    owner_client, room, maria, owner
):
    seller_upload(owner_client, room, "notes.txt", b"hello")
    document = Document.objects.get()
    room.outcome = Outcome.LOST
    room.outcome_reason = "Budget cut"
    room.save()
    response = owner_client.post(
        reverse("documents:upload", args=[room.pk]), {"file": upload("late.txt", b"x")}
    )
    assert response.status_code == 409
    assert "read-only" in response.content.decode()
    response = seller_upload(owner_client, room, "late.txt", b"x")
    assert response.status_code == 409 and response["HX-Refresh"] == "true"
    delete = reverse("documents:delete", args=[room.pk, document.pk])
    assert owner_client.post(delete).status_code == 409
    assert Document.objects.count() == 1
    url = reverse("documents:download", args=[room.pk, document.pk])
    assert owner_client.get(url).status_code == 200
    buyer = buyer_client_for_lost_room(maria)
    response = buyer.post(reverse("buyer_documents:upload"), {"file": upload("b.txt", b"x")})
    assert response.status_code == 409
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert buyer.get(reverse("buyer_documents:download", args=[document.pk])).status_code == 200


def buyer_client_for_lost_room(person):
    """Links cannot be issued in a lost room; this one was issued before it was lost."""
    from django.utils import timezone

    from accounts.models import hash_token
    from stakeholders.models import AccessLink

    token = "T" * 43
    AccessLink.objects.create(
        org_id=person.org_id,
        room=person.room,
        stakeholder=person,
        token_hash=hash_token(token),
        expires_at=timezone.now() + timezone.timedelta(days=1),
    )
    client = Client()
    assert client.get(reverse("buyer:open", args=[token])).status_code == 303
    return client


def test_seller_deletes_a_document_and_its_file(
    owner_client, room, _media, django_capture_on_commit_callbacks
):
    seller_upload(owner_client, room, "notes.txt", b"hello")
    document = Document.objects.get()
    path = _media / document.file.name
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(reverse("documents:delete", args=[room.pk, document.pk]), **HX)
    assert response.status_code == 200
    assert not path.exists()
    assert not Document.objects.exists()
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.DELETED).exists()


def test_the_demo_room_has_documents_and_shows_the_signal(owner_client):
    from django.core.management import call_command

    from documents.selectors import contradictions, seller_documents
    from rooms.models import Room

    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    room = Room.objects.get(buyer_company="Acme Corp")
    documents = seller_documents(room)
    assert sorted(d.name for d in documents) == [
        "Evaluation summary.pdf",
        "Northwind security pack.pdf",
    ]
    assert [d.name for d in contradictions(documents)] == ["Evaluation summary.pdf"]


@pytest.mark.parametrize("value", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_a_bad_or_foreign_milestone_is_404(owner_client, room, value):
    response = seller_upload(owner_client, room, "notes.txt", b"x", milestone=value)
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_another_rooms_milestone_is_404(owner_client, room, org):
    other = PlanFactory(room=RoomFactory(org=org), org=org)
    foreign = MilestoneFactory(plan=other)
    response = seller_upload(owner_client, room, "notes.txt", b"x", milestone=foreign.pk)
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_a_non_ascii_name_downloads_under_its_own_name(owner_client, room):
    seller_upload(owner_client, room, "Präsentation Q3.pptx", ooxml_bytes("ppt/presentation.xml"))
    document = Document.objects.get()
    response = owner_client.get(reverse("documents:download", args=[room.pk, document.pk]))
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")
    assert "Pr%C3%A4sentation%20Q3.pptx" in response["Content-Disposition"]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
