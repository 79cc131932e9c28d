"""A real HTTP server on 127.0.0.1 standing in for Slack's incoming webhooks.

Each POST is recorded; the answers are scripted: ``stub.script(500, (429, {"Retry-After":
"1"}), 200)``; once the script runs out the stub answers 200 "ok". An answer may also
be ``Slow(seconds)`` (answers 200 after sleeping) to provoke client timeouts.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class SlackStub:
    def __init__(self):
        self.requests = []
        self._script = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                answer = stub._next()
                if isinstance(answer, Slow):
                    time.sleep(answer.seconds)
                    answer = 200
                status, headers, text = stub._normalise(answer)
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parsed = None
                with stub._lock:
                    stub.requests.append(
                        Received(self.path, dict(self.headers), body, status, parsed)
                    )
                payload = text.encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format, *args):  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/services/T000/B000/XXXX"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, *answers):
        with self._lock:
            self._script.extend(answers)

    def _next(self):
        with self._lock:
            return self._script.pop(0) if self._script else 200

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
