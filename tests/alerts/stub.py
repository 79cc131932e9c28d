"""A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhooks.

Each POST is recorded; the answers are scripted: ``stub.script(500, (429, {"Retry-After":
"1"}), 200)``; once the script runs out the stub answers 200 "ok". An answer may also
be ``Slow(seconds)`` (answers 200 after sleeping) to provoke client timeouts.
"""

import json
import time
from dataclasses import dataclass, field

from tests.http_stub import ScriptedServer

DEFAULT_BODIES = {200: "ok", 403: "invalid_token", 404: "no_service", 429: "rate_limited"}


@dataclass
class Slow:
    seconds: float


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    status: int
    json: object = field(default=None)


class SlackStub(ScriptedServer):
    path = "/services/T000/B000/XXXX"

    def answer(self, handler, body):
        answer = self.next_answer()
        if isinstance(answer, Slow):
            time.sleep(answer.seconds)
            answer = 200
        status, headers, text = self._normalise(answer)
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        self.record(Received(handler.path, dict(handler.headers), body, status, parsed))
        return status, headers, text

    @staticmethod
    def _normalise(answer):
        """200, (429, {"Retry-After": "1"}) or (404, {}, "no_service")."""
        if isinstance(answer, int):
            answer = (answer,)
        status, headers, text = (*answer, None, None)[:3]
        if text is None:
            text = DEFAULT_BODIES.get(status, "internal_error")
        return status, headers or {}, text

    @property
    def delivered(self):
        """The requests the stub answered 200."""
        return [r for r in self.requests if r.status == 200]
