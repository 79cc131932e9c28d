"""gunicorn's access log, minus buyer-link tokens.

A buyer's personal link (/b/<token>/) is a capability; it must not be written to any
log. This logger replaces the token in every logged field with "[token]".
"""

import re

from gunicorn.glogging import Logger

TOKEN_IN_PATH = re.compile(r"(/b/)(?!room/|leave/)[^/?\s\"]+")


def redact(value):
    return TOKEN_IN_PATH.sub(r"\1[token]", value) if isinstance(value, str) else value


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        return {
            key: redact(value)
            for key, value in super().atoms(resp, req, environ, request_time).items()
        }
