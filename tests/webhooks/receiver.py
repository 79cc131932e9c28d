"""A real HTTP receiver on 127.0.0.1 standing in for a CRM's webhook endpoint.

It verifies each request's signature the way docs/API.md tells integrators to (HMAC-
SHA256 over "<timestamp>.<body>" with the endpoint's secret, timestamp within five
minutes) and records what it got. Answers are scripted: ``receiver.script(500, 200)``;
once the script runs out it answers 200. A request whose signature does not verify is
answered 401 and recorded with ``verified=False``."""

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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


class Receiver:
    def __init__(self):
        self.secret = None
        self.requests = []
        self._script = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                verified = receiver.secret is not None and verify_signature(
                    receiver.secret, self.headers.get("Mapsite-Signature", ""), body
                )
                status = receiver._next() if verified else 401
                with receiver._lock:
                    receiver.requests.append(Received(dict(self.headers), body, status, verified))
                text = b"ok" if status < 300 else b"nope"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mapsite"
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

    @property
    def accepted(self):
        return [r for r in self.requests if r.status < 300]
