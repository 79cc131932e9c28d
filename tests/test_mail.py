import io
import stat

from django.core.mail import EmailMessage

from mapsite.mail import ReadableConsoleBackend

LINK = "http://127.0.0.1:8000/accounts/reset/MTIz/cabc12-0123456789abcdef0123456789abcdef/"


def send(body, **kwargs):
    stream = io.StringIO()
    backend = ReadableConsoleBackend(stream=stream, alias="default")
    backend.send_messages(
        [EmailMessage("Reset your password", body, "no-reply@example.com", ["ann@example.com"])]
    )
    return stream.getvalue()


def test_console_email_prints_the_headers_and_body(settings, tmp_path):
    settings.MAIL_DIR = tmp_path / "mail"
    out = send("Hello Ann, your plan is ready.")
    assert "To: ann@example.com" in out and "Subject: Reset your password" in out
    assert "Hello Ann, your plan is ready." in out
    assert not (tmp_path / "mail").exists()  # nothing secret: nothing kept


def test_a_secret_link_is_redacted_on_the_console_and_kept_whole_in_a_private_file(
    settings, tmp_path
):
    settings.MAIL_DIR = tmp_path / "mail"
    out = send(f"Open {LINK} to reset.")
    assert "0123456789abcdef0123456789abcdef" not in out
    assert "/accounts/reset/MTIz/<redacted>/" in out
    (kept,) = (tmp_path / "mail").iterdir()
    assert str(kept) in out
    assert LINK in kept.read_text()  # one line, whole: it can be copied
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
