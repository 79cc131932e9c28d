"""Email backends for the delivery tests."""

import smtplib

from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakySMTPBackend(LocmemBackend):
    """Like the locmem backend (messages land in ``mail.outbox``), but the first
    ``failures`` sends raise an SMTP error, as a mail server that drops the line would."""

    failures = 1
    error = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    attempts = 0

    def send_messages(self, messages):
        type(self).attempts += 1
        if type(self).failures > 0:
            type(self).failures -= 1
            raise type(self).error
        return super().send_messages(messages)


class RefusingSMTPBackend(LocmemBackend):
    """A mail server that refuses the recipient for good (550)."""

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (550, b"5.1.1 No such user") for m in messages}
        )
