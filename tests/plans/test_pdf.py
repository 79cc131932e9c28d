"""The plan as a PDF: what it holds for a seller and for a buyer in their scope, that it
renders with bundled fonts and no network, and what a page looks like."""

import datetime
import io

import pypdf
import pypdfium2
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import Plan, Task
from plans.pdf import StaticOnlyFetcher, local_static_path
from plans.services import plan_start, task_create
from rooms.actors import Actor
from stakeholders import links
from stakeholders.models import DecisionRole, Scope, Side, Track
from tests.factories import DecisionCriterionFactory, RiskFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.now().date() + datetime.timedelta(days=n)


@pytest.fixture
def deal(room):
    """A 25-task plan (the enterprise template plus five), both sides' people, criteria
    and risks, a weekly review slot."""
    room.goal = "Close the books in 4 days instead of 10"
    room.close_reason = "Budget expires at fiscal year end"
    room.go_live_date = days(90)
    room.review_weekday = 1
    room.review_time = datetime.time(15, 30)
    room.timezone = "Europe/Berlin"
    room.save()
    plan = plan_start(actor=Actor.system(), room=room, template_slug="enterprise")
    maria = StakeholderFactory(
        room=room,
        name="Maria Lopez",
        title="VP Finance",
        role=DecisionRole.CHAMPION,
        track=Track.BUSINESS,
    )
    tom = StakeholderFactory(
        room=room, name="Tom Security", role=DecisionRole.SECURITY, track=Track.SECURITY
    )
    StakeholderFactory(room=room, side=Side.SELLER, name="Sam Rep", title="Account executive")
    milestones = list(plan.milestones.all())
    for i in range(5):
        task_create(
            actor=Actor.system(),
            room=room,
            milestone=milestones[i % len(milestones)],
            title=f"Extra step {i + 1}",
            owner=maria,
            due_date=days(10 + i),
            notes="Bring the numbers" if i == 0 else "",
        )
    security = Task.objects.filter(room=room, milestone__track=Track.SECURITY).first()
    Task.objects.filter(pk=security.pk).update(
        owner=tom, title="Complete the security questionnaire"
    )
    DecisionCriterionFactory(plan=plan, title="Integrates with SAP S/4HANA")
    RiskFactory(plan=plan, title="Budget freeze in Q1", mitigation="Sign before December")
    return {"room": room, "plan": plan, "maria": maria, "tom": tom}


def pdf_text(content):
    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def flat(text):
    return " ".join(text.split())


def test_seller_pdf_holds_the_classic_map(owner_client, deal):
    room = deal["room"]
    assert Task.objects.filter(room=room).count() == 25
    response = owner_client.get(reverse("plans:pdf", args=[room.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    reader, text = pdf_text(response.content)
    text = flat(text)
    for expected in [
        room.name,
        "Northwind",  # the organisation
        "Close the books in 4 days instead of 10",
        "Budget expires at fiscal year end",
        "Go-live",
        "Next check-in",
        "Tuesdays 15:30",
        "Step Action Owner Due Status Notes",
        "Extra step 5",
        "Bring the numbers",
        "Maria Lopez",
        "Sam Rep",
        "Complete the security questionnaire",
        "Integrates with SAP S/4HANA",
        "Budget freeze in Q1",
        "Generated",
    ]:
        assert expected.lower() in text.lower(), expected  # labels print in capitals
    for milestone in deal["plan"].milestones.all():
        assert milestone.title in text
    # Only the bundled faces (declared by @font-face as "MAP Sans") are embedded.
    fonts = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts and all("MAP-Sans" in f for f in fonts), fonts


def test_buyer_pdf_holds_only_their_scope(deal):
    room, maria, tom = deal["room"], deal["maria"], deal["tom"]
    maria.scope = Scope.TRACK
    maria.save()
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    response = client.get(reverse("buyer:pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Referrer-Policy"] == "no-referrer"
    _, text = pdf_text(response.content)
    text = flat(text)
    assert "Extra step 1" in text  # hers
    assert "prepared for Maria Lopez" in text
    assert "Complete the security questionnaire" not in text  # another track's task
    assert tom.name not in text  # another buyer, outside her scope
    assert "Integrates with SAP" not in text and "Budget freeze" not in text
    # Every milestone's title and date are in her scope, as on her page.
    for milestone in deal["plan"].milestones.all():
        assert milestone.title in text


def test_buyer_without_a_session_gets_404(deal):
    assert Client().get(reverse("buyer:pdf")).status_code == 404


def test_a_page_renders_to_an_image(owner_client, deal):
    content = owner_client.get(reverse("plans:pdf", args=[deal["room"].pk])).content
    document = pypdfium2.PdfDocument(content)
    assert len(document) >= 1
    image = document[0].render(scale=1.5).to_pil()
    width, height = image.size
    assert width > height  # A4 landscape
    gray = image.convert("L")
    dark = sum(gray.histogram()[:128])
    assert dark > 0.01 * width * height  # text, not a blank page
    document.close()


def test_the_renderer_fetches_only_bundled_static_files():
    fetcher = StaticOnlyFetcher()
    font = fetcher.fetch("static:fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    from weasyprint.urls import FatalURLFetchingError

    for url in [
        "http://example.com/logo.png",
        "https://example.com/font.ttf",
        "file:///etc/passwd",
        "data:text/plain,hello",
        "static:../mapsite/settings.py",
        "static:/etc/passwd",
    ]:
        with pytest.raises(FatalURLFetchingError):
            fetcher.fetch(url)
    assert local_static_path("../../etc/passwd") is None


def test_a_room_without_a_plan_still_prints(owner_client, room):
    response = owner_client.get(reverse("plans:pdf", args=[room.pk]))
    assert response.status_code == 200
    _, text = pdf_text(response.content)
    assert "No plan yet" in text
    assert not Plan.objects.filter(room=room).exists()


def test_names_that_look_like_css_or_html_stay_text(owner_client, room, org):
    org.name = 'Evil "Co" </style><script>x</script>'
    org.save()
    room.buyer_company = 'Acme\\"; } body { display: none'
    room.save()
    response = owner_client.get(reverse("plans:pdf", args=[room.pk]))
    assert response.status_code == 200
    _, text = pdf_text(response.content)
    assert "display: none" in text  # printed as text in the page header, not applied
    assert "</style><script>x</script>" in flat(text)
