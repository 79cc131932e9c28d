"""A real HTTP receiver on 127.0.0.1 standing in for a CRM's webhook endpoint.

It verifies each request's signature the way docs/API.md tells integrators to (HMAC-
SHA256 over "<timestamp>.<body>" with the endpoint's secret, timestamp within five
minutes) and records what it got. Answers are scripted: ``receiver.script(500, 200)``;
once the script runs out it answers 200. A request whose signature does not verify is
answered 401 and recorded with ``verified=False``."""

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from tests.http_stub import ScriptedServer


def verify_signature(secret, header, body, tolerance=300):
    """The receiver side, as in docs/API.md."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (AttributeError, KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class Received:
    headers: dict
    body: bytes
    status: int
    verified: bool

    @property
    def json(self):
        return json.loads(self.body)


class Receiver(ScriptedServer):
    path = "/hooks/mapsite"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.secret = None

    def answer(self, handler, body):
        verified = self.secret is not None and verify_signature(
            self.secret, handler.headers.get("Mapsite-Signature", ""), body
        )
        status = self.next_answer() if verified else 401
        self.record(Received(dict(handler.headers), body, status, verified))
        return status, {}, "ok" if status < 300 else "nope"

    @property
    def accepted(self):
        return [r for r in self.requests if r.status < 300]
