import io

from django.core.mail import EmailMessage

from mapsite.mail import ReadableConsoleBackend


def test_console_email_keeps_long_links_whole():
    link = "http://127.0.0.1:8000/accounts/reset/MTIz/cabc12-0123456789abcdef0123456789abcdef/"
    stream = io.StringIO()
    backend = ReadableConsoleBackend(stream=stream, alias="default")
    backend.send_messages(
        [
            EmailMessage(
                "Reset your password",
                f"Open {link} to reset.",
                "no-reply@example.com",
                ["ann@example.com"],
            )
        ]
    )
    out = stream.getvalue()
    assert link in out
    assert "To: ann@example.com" in out and "Subject: Reset your password" in out
