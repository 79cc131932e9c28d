"""A real HTTP server on 127.0.0.1 with scripted answers, for the services mapsite posts
to (Slack's incoming webhooks, an organisation's webhook endpoint). Subclasses decide
what a POST gets back in ``answer(handler, body)``: (status, headers, text).

``host`` is the address it listens on (another loopback address, 127.0.0.2, can stand
for an internal service); ``tls`` an ``ssl.SSLContext`` to serve HTTPS with (its URL
then names ``localhost``, the name its test certificate is for)."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ScriptedServer:
    path = "/"

    def __init__(self, *, host="127.0.0.1", port=0, tls=None):
        self.requests = []
        self._script = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, text = server.answer(self, body)
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

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}{self.path}"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://localhost:{self.port}{self.path}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def answer(self, handler, body):
        raise NotImplementedError

    def record(self, request):
        with self._lock:
            self.requests.append(request)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def script(self, *answers):
        with self._lock:
            self._script.extend(answers)

    def next_answer(self):
        with self._lock:
            return self._script.pop(0) if self._script else 200
