"""The embedded default's email backend: prints each message readably.

Django's console backend prints the raw MIME message, where long lines (a password
reset or invitation link) are split by quoted-printable encoding. This one prints the
headers people care about and the plain-text body as written, so links can be copied.
"""

from django.core.mail.backends.console import EmailBackend as ConsoleBackend


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
        self.stream.write("\n".join(lines) + "\n" + "-" * 79 + "\n")
