"""Secrets in paths and headers never reach a log: buyer links, calendar feeds, password
reset and invitation links, API tokens. One function (mapsite.redaction.redact) serves
every log record (a filter on every handler), the console email backend and gunicorn's
access and error logs."""

import io
import logging
from contextlib import contextmanager

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services as account_services
from mapsite.redaction import RedactingFilter, redact
from rooms.actors import Actor
from stakeholders import calendar, links
from tests.factories import StakeholderFactory

TOKEN = "t14EAkvIyqZCMFdUizR_VyXiAf0HbucZPXiDuwhaP6E"


# --- the one function ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /b/{TOKEN}/ HTTP/1.1", "GET /b/<redacted>/ HTTP/1.1"),
        (f"/b/{TOKEN}", "/b/<redacted>"),
        (f"POST /b/{TOKEN}/?x=1 HTTP/1.1", "POST /b/<redacted>/?x=1 HTTP/1.1"),
        (f"GET /cal/{TOKEN}.ics HTTP/1.1", "GET /cal/<redacted>.ics HTTP/1.1"),
        (f"GET /cal/{TOKEN} HTTP/1.1", "GET /cal/<redacted> HTTP/1.1"),
        (
            f"https://rooms.example.com/cal/{TOKEN}.ics",
            "https://rooms.example.com/cal/<redacted>.ics",
        ),
        (f"/accounts/reset/MTIz/cabc12-{TOKEN}/", "/accounts/reset/MTIz/<redacted>/"),
        (f"/accounts/invite/{TOKEN}/", "/accounts/invite/<redacted>/"),
        (
            "POST /b/email/stop/eyJvIjoiMSJ9:1vT:Zm9vYmFy/ HTTP/1.1",
            "POST /b/email/stop/<redacted>/ HTTP/1.1",
        ),
        (
            "https://rooms.example.com/b/email/new-link/eyJvIjoiMSJ9:1vT:Zm9v/",
            "https://rooms.example.com/b/email/new-link/<redacted>/",
        ),
        (f"Authorization: Token msk_{TOKEN}", "Authorization: Token msk_<redacted>"),
        (f"Authorization: Bearer {TOKEN}", "Authorization: Bearer <redacted>"),
        (f"secret whsec_{TOKEN}", "secret whsec_<redacted>"),
        (f"/hook?token={TOKEN}&room=1", "/hook?token=<redacted>&room=1"),
        (
            "url: https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX",
            "url: https://hooks.slack.com/services/<redacted>",
        ),
    ],
)
def test_secrets_are_replaced_by_a_placeholder(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # twice is harmless


@pytest.mark.parametrize(
    "text",
    [
        "GET /b/room/tasks/1/ HTTP/1.1",
        "POST /b/leave/ HTTP/1.1",
        "GET /accounts/reset/MTIz/set-password/ HTTP/1.1",
        "GET /rooms/3f2a/calendar/review.ics HTTP/1.1",
        "Token “CRM sync” revoked",
    ],
)
def test_token_free_text_stays_readable(text):
    assert redact(text) == text


def test_non_text_passes_through():
    assert redact(200) == 200
    assert redact(None) is None


# --- every handler carries the filter -------------------------------------------------------


def _all_handlers():
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest"):
                continue  # the test runner's own capture
            if isinstance(handler, logging.NullHandler):
                continue  # prints nothing (a library's default)
            yield logger.name, handler


def test_every_configured_handler_redacts():
    handlers = list(_all_handlers())
    assert handlers, "settings.LOGGING configures no handler?"
    for name, handler in handlers:
        assert any(isinstance(f, RedactingFilter) for f in handler.filters), (name, handler)


@contextmanager
def handler_output(name):
    """What the handler ``name`` of settings.LOGGING writes, while the block runs."""
    handler = logging.getHandlerByName(name)
    assert handler is not None, name
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


# --- errors on capability paths, through real requests ----------------------------------------


@pytest.fixture
def failing(monkeypatch):
    """Make ``target`` raise, with ``what`` (a secret) in the exception's message."""

    def make(target, what):
        def fail(*args, **kwargs):
            raise RuntimeError(f"cannot answer {what} for now")

        monkeypatch.setattr(target, fail)

    return make


@pytest.mark.django_db
def test_a_failing_calendar_feed_logs_no_token(room, failing):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    _, token = calendar.feed_issue(actor=Actor(), room=room, stakeholder=maria)
    path = f"/cal/{token}.ics"
    failing("plans.feed_views.stakeholder_feed_ics", path)
    with handler_output("console") as out:
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    text = out.getvalue()
    assert token not in text
    assert "Internal Server Error: /cal/<redacted>.ics" in text
    # The traceback is there, and its exception message is redacted too.
    assert "Traceback" in text and "RuntimeError: cannot answer /cal/<redacted>.ics" in text


@pytest.mark.django_db
def test_a_failing_buyer_link_logs_no_token(room, failing):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=maria)
    path = f"/b/{token}/"
    failing("stakeholders.buyer_views.buyer_session_start", path)
    with handler_output("console") as out:
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    text = out.getvalue()
    assert token not in text
    assert "Internal Server Error: /b/<redacted>/" in text


@pytest.mark.django_db
def test_a_failing_password_reset_link_logs_no_token(owner, failing):
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    token = default_token_generator.make_token(owner)
    path = f"/accounts/reset/{uid}/{token}/"
    failing("accounts.views.passwords.PasswordResetConfirmView.get_user", path)
    with handler_output("console") as out:
        response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    text = out.getvalue()
    assert token not in text
    assert f"/accounts/reset/{uid}/<redacted>/" in text


@pytest.mark.django_db
def test_a_refused_invitation_link_logs_no_token(org, admin_user):
    invitation, token = account_services.invitation_create(
        org=org, invited_by=admin_user, email="new@example.com", role="rep"
    )
    account_services.invitation_revoke(invitation=invitation)
    with handler_output("console") as out:
        response = Client().get(f"/accounts/invite/{token}/")
    assert response.status_code == 410
    text = out.getvalue()
    assert token not in text
    assert "/accounts/invite/<redacted>/" in text


@pytest.mark.django_db
def test_an_api_token_in_a_failing_request_is_not_logged(org, admin_user, failing):
    from accounts.models import Membership

    membership = Membership.objects.get(user=admin_user, org=org)
    _, raw = account_services.api_token_create(membership=membership, name="CRM")
    failing("api.views.RoomViewSet.list", f"the rooms with Token {raw}")
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {raw}")
    with handler_output("console") as out:
        response = client.get("/api/v1/rooms/")
    assert response.status_code == 500
    text = out.getvalue()
    assert raw not in text
    assert "Token msk_<redacted>" in text


def test_record_fields_are_redacted_whatever_the_formatter_prints():
    """msg, args, the exception text, the stack and the request's repr."""
    from django.test import RequestFactory

    request = RequestFactory().get(f"/cal/{TOKEN}.ics")
    try:
        raise ValueError(f"feed /cal/{TOKEN}.ics failed")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Failed: %s (%s)", (request.path, 3), exc_info
    )
    record.request = request
    record.stack_info = f"Stack: /b/{TOKEN}/"
    assert RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()
    assert record.getMessage() == "Failed: /cal/<redacted>.ics (3)"
    assert TOKEN not in record.exc_text and "/cal/<redacted>.ics failed" in record.exc_text
    assert TOKEN not in record.stack_info
    assert TOKEN not in repr(record.request) and "/cal/<redacted>.ics" in repr(record.request)
    formatted = logging.Formatter("%(message)s %(request)s").format(record)
    assert TOKEN not in formatted


def test_django_server_log_lines_are_redacted():
    """runserver's request lines (logger django.server) go through the same filter."""
    with handler_output("django.server") as out:
        logging.getLogger("django.server").info(
            '"%s" %s %s',
            f"GET /cal/{TOKEN}.ics HTTP/1.1",
            500,
            12,
            extra={"status_code": 500, "server_time": "now"},
        )
    assert TOKEN not in out.getvalue()
    assert "GET /cal/<redacted>.ics HTTP/1.1" in out.getvalue()


def test_celery_task_loggers_redact_too():
    from mapsite.celery import app

    logger = logging.getLogger("celery.task")
    before = list(logger.handlers)
    app.log.setup_task_loggers(loglevel="INFO")
    try:
        added = [h for h in logger.handlers if h not in before]
        assert added
        for handler in logger.handlers:
            assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        for handler in logger.handlers[:]:
            if handler not in before:
                logger.removeHandler(handler)


# --- the console email backend ---------------------------------------------------------------


def test_printed_emails_carry_no_link_token(settings, tmp_path):
    from django.core.mail import EmailMessage

    from mapsite.mail import ReadableConsoleBackend

    settings.MAIL_DIR = tmp_path / "mail"
    link = f"http://127.0.0.1:8000/accounts/reset/MTIz/cabc12-{TOKEN}/"
    stream = io.StringIO()
    backend = ReadableConsoleBackend(stream=stream, alias="default")
    backend.send_messages(
        [EmailMessage("Reset", f"Open {link} to reset.", "a@example.com", ["ann@example.com"])]
    )
    assert TOKEN not in stream.getvalue()
    assert "/accounts/reset/MTIz/<redacted>/" in stream.getvalue()
