"""Secrets never reach a log: one function, ``redact``, and the logging filter built on it.

Some URLs are capabilities (whoever has the URL has the access): a buyer's personal
link ``/b/<token>/``, a calendar feed ``/cal/<token>.ics``, a password reset link
``/accounts/reset/<uidb64>/<token>/``, an invitation ``/accounts/invite/<token>/`` and
the links of a reminder email ``/b/email/stop|new-link/<signed token>/``.
API tokens (``msk_…``, sent as ``Authorization: Token …``), webhook signing secrets
(``whsec_…``) and Slack incoming-webhook URLs are secrets too. ``redact`` replaces each
with ``<redacted>`` wherever it appears in a piece of text.

``RedactingFilter`` applies it to everything a log record can print: the message and
its arguments, the exception's traceback text, the stack and the request attached by
Django. settings.LOGGING puts it on every handler; gunicorn's logs
(mapsite.gunicorn_logging), Celery's handlers (mapsite.celery) and the console email
backend (mapsite.mail) use the same function.
"""

import logging
import re

PLACEHOLDER = "<redacted>"

# A path segment: up to the next slash, query, fragment, space or quote.
_SEGMENT = r"[^/?#\s\"'<>]+"
_PATTERNS = [
    # The links of a reminder email (stop reminders, ask for a new link): signed tokens.
    (re.compile(rf"(/b/email/(?:stop|new-link)/){_SEGMENT}"), rf"\1{PLACEHOLDER}"),
    # Buyer links; /b/room/…, /b/leave/ and /b/email/… hold no token there.
    (re.compile(rf"(/b/)(?!room/|leave/|email/){_SEGMENT}"), rf"\1{PLACEHOLDER}"),
    # Calendar feeds, with or without their .ics.
    (
        re.compile(r"(/cal/)[^/?#\s\"'<>]+?(\.ics)?(?=[/?#\s\"'<>]|$)"),
        rf"\1{PLACEHOLDER}\2",
    ),
    # Password reset: the user's id stays readable; Django's own second step
    # (/set-password/) holds no token.
    (
        re.compile(rf"(/accounts/reset/{_SEGMENT}/)(?!set-password(?:[/?#\s\"'<>]|$)){_SEGMENT}"),
        rf"\1{PLACEHOLDER}",
    ),
    (re.compile(rf"(/accounts/invite/){_SEGMENT}"), rf"\1{PLACEHOLDER}"),
    # API tokens and webhook secrets, wherever they are (headers, bodies, messages).
    (re.compile(r"\b(msk_|whsec_)[A-Za-z0-9_\-]+"), rf"\1{PLACEHOLDER}"),
    # Any other credential in an Authorization header.
    (
        re.compile(r"\b((?:Token|Bearer)\s+)(?!msk_)[A-Za-z0-9_\-.~+/]{16,}=*"),
        rf"\1{PLACEHOLDER}",
    ),
    # Slack incoming webhooks: the path is the credential.
    (re.compile(r"(hooks\.slack\.com/services/)[^\s\"'<>]+"), rf"\1{PLACEHOLDER}"),
    (re.compile(r"(/services/)T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+"), rf"\1{PLACEHOLDER}"),
    # Credentials in a query string.
    (
        re.compile(r"([?&](?:token|key|secret|signature|password|ticket)=)[^&#\s\"'<>]+", re.I),
        rf"\1{PLACEHOLDER}",
    ),
]


def redact(value):
    """``value`` with every secret replaced by ``<redacted>``; anything but text as is."""
    if not isinstance(value, str):
        return value
    for pattern, replacement in _PATTERNS:
        value = pattern.sub(replacement, value)
    return value


class RedactedRequest:
    """Stands in for the request Django attaches to its log records (``record.request``):
    its method, path and repr, without the secrets; no headers, no cookies, no body."""

    def __init__(self, request):
        self.method = request.method
        self.path = redact(request.path)
        self._repr = redact(repr(request))

    def __repr__(self):
        return self._repr

    __str__ = __repr__


_traceback_formatter = logging.Formatter()


def redact_record(record):
    """Redact, in place, everything ``record`` can print."""
    from django.http import HttpRequest

    try:
        message = record.getMessage()
    except Exception:  # a bad format string: print what there is, redacted
        message = f"{record.msg} {record.args!r}"
    # The message is formatted once, here: the arguments (objects whose repr may hold a
    # path) are gone once redacted.
    record.msg, record.args = redact(message), ()
    if getattr(record, "message", None):
        record.message = redact(record.message)
    if record.exc_info and not record.exc_text:
        # Formatters print exc_text when it is set, rather than formatting again.
        record.exc_text = _traceback_formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    request = getattr(record, "request", None)
    if isinstance(request, HttpRequest):
        record.request = RedactedRequest(request)
    return record


class RedactingFilter(logging.Filter):
    """Put on every handler (settings.LOGGING): lets every record through, redacted."""

    def filter(self, record):
        redact_record(record)
        return True


def redact_every_handler():
    """Add the filter to every handler of every logger that lacks it. For libraries that
    attach handlers of their own after settings.LOGGING was applied (Celery, gunicorn)."""
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
