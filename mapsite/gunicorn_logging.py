"""gunicorn's access log, minus buyer-link tokens.

A buyer's personal link (/b/<token>/) is a capability; it must not be written to any
log, nor may a calendar feed's (/cal/<token>.ics). This logger replaces the token in
every logged field with "[token]".
"""

import re

from gunicorn.glogging import Logger

TOKEN_IN_PATH = re.compile(r"(/b/)(?!room/|leave/)[^/?\s\"]+")
# Calendar feeds (/cal/<token>.ics) are capabilities too.
FEED_IN_PATH = re.compile(r"(/cal/)[^/?\s\"]+?(\.ics)")


def redact(value):
    if not isinstance(value, str):
        return value
    return FEED_IN_PATH.sub(r"\1[token]\2", TOKEN_IN_PATH.sub(r"\1[token]", value))


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {
            key: redact(value)
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
