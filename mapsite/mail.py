"""The embedded default's email backend: prints each message readably, without secrets.

Django's console backend prints the raw MIME message, where long lines are split by
quoted-printable encoding. This one prints the headers people care about and the
plain-text body as written.

The console is a log, so links that carry a secret (password reset, invitation, buyer
link, calendar feed) are printed redacted (mapsite.redaction). Such a message is also
kept whole in a file of its own under ``settings.MAIL_DIR`` (readable by the owner only),
whose name is printed, so the links in it can still be opened on a laptop without SMTP.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.utils import timezone

from mapsite.redaction import redact

RULE = "-" * 79


def _keep(text):
    """Write ``text`` to a new file under MAIL_DIR (mode 600); its path, or None."""
    folder = getattr(settings, "MAIL_DIR", None)
    if not folder:
        return None
    folder = Path(folder)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / f"{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}.txt"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return path


class ReadableConsoleBackend(ConsoleBackend):
    def write_message(self, message):
        lines = [
            f"From: {message.from_email}",
            f"To: {', '.join(message.to)}",
        ]
        if message.cc:
            lines.append(f"Cc: {', '.join(message.cc)}")
        lines += [f"Subject: {message.subject}", "", str(message.body)]
        for attachment in getattr(message, "attachments", []):
            name = getattr(attachment, "filename", None) or attachment[0]
            lines.append(f"[attachment: {name}]")
        text = "\n".join(lines)
        printed = redact(text)
        if printed != text:
            kept = _keep(text)
            if kept:
                printed += f"\n[Links with a secret are redacted here; the whole message: {kept}]"
        self.stream.write(printed + "\n" + RULE + "\n")
