"""Outgoing requests (mapsite/outbound.py, mapsite/outbound_rule.py), the app's only way
out: which URLs may be saved, which addresses may be connected to, and the short status
a tenant is shown.
Real local servers throughout (plain HTTP, HTTPS with a throwaway CA, raw TCP)."""

import io
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.core.management import call_command

from mapsite import outbound, outbound_rule
from tests.http_stub import ScriptedServer
from tests.tls import TestAuthority

# Each spelling of an address the app must never reach, and names that resolve to one.
FORBIDDEN = [
    "https://127.0.0.1/hook",
    "https://localhost:6379/",
    "https://LOCALHOST/x",
    "https://localhost./x",
    "https://api.localhost/x",
    "https://10.0.0.1/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",  # shared address space (carrier-grade NAT)
    "https://0.0.0.0/",
    "https://0/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://2130706433/",  # decimal
    "https://0x7f000001/",  # hex
    "https://0177.0.0.1/",  # octal
    "https://127.1/",  # short form
    "https://0x7f.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:8.8.8.8]/",  # mapped, even of a public address
    "https://[::127.0.0.1]/",  # IPv4-compatible
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[ff02::1]/",
    "https://[ff0e::1]/",
    "https://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "https://[64:ff9b::7f00:1]/",  # NAT64 of 127.0.0.1
    "https://[2001:db8::1]/",
]


class Recorder(ScriptedServer):
    """Records each request; answers from its script: 200, or (status, headers, text)."""

    path = "/hooks"

    def answer(self, handler, body):
        answer = self.next_answer()
        if isinstance(answer, float):  # a slow answer
            time.sleep(answer)
            answer = 200
        status, headers, text = (*(answer if isinstance(answer, tuple) else (answer,)), {}, "")[:3]
        self.record({"path": handler.path, "headers": dict(handler.headers), "body": body})
        return status, headers or {}, text or "ok"


@pytest.fixture
def recorder():
    server = Recorder().start()
    yield server
    server.stop()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url, timeout=5):
    return outbound.post(url, b'{"text": "hi"}', {"Content-Type": "application/json"}, timeout)


# --- the rule when a URL is saved ----------------------------------------------------


@pytest.mark.parametrize("url", FORBIDDEN)
def test_internal_addresses_are_refused_when_saved(url):
    problem = outbound_rule.url_problem(url)

    assert problem and "not allowed" in problem


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/x",
        "https://[2606:4700:4700::1111]/x",
        "https://93.184.216.34:8443/hook?a=1",
        # Does not resolve here (no network): accepted, and checked again when used.
        "https://hooks.slack.com/services/T1/B2/abc",
    ],
)
def test_public_https_urls_are_accepted(url):
    assert outbound_rule.url_problem(url) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/hook",
        "http://hooks.slack.com/services/T1/B2/abc",
        "ftp://8.8.8.8/x",
        "file:///etc/passwd",
        "gopher://8.8.8.8:70/_x",
        "dict://8.8.8.8:11211/",
        "javascript:alert(1)",
    ],
)
def test_only_https_is_accepted(url):
    assert "must start with https://" in outbound_rule.url_problem(url)


@pytest.mark.parametrize(
    "url",
    ["not a url", "https://", "https:///path", "https://[::1/", "https://exa mple.com/", ""],
)
def test_malformed_urls_are_refused(url):
    assert outbound_rule.url_problem(url) == "Enter a valid URL."


def test_credentials_in_the_url_are_refused():
    assert "user name or password" in outbound_rule.url_problem("https://u:p@8.8.8.8/x")


def test_the_operator_setting_lets_its_networks_through_and_nothing_else(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["10.1.0.0/16", "127.0.0.0/8"]

    assert outbound_rule.url_problem("https://10.1.2.3/hook") is None
    assert outbound_rule.url_problem("http://10.1.2.3:8080/hook") is None  # its own network
    assert outbound_rule.url_problem("https://localhost:8000/x") is None
    assert outbound_rule.url_problem("https://2130706433/") is None  # 127.0.0.1 too
    assert "not allowed" in outbound_rule.url_problem("https://10.2.0.1/")
    assert "not allowed" in outbound_rule.url_problem("https://169.254.169.254/")
    assert "not allowed" in outbound_rule.url_problem("https://[::1]/")
    # An IPv4-mapped address is not the IPv4 network it maps.
    assert "not allowed" in outbound_rule.url_problem("https://[::ffff:127.0.0.1]/")
    # Plain http only inside an allowed network.
    assert "https://" in outbound_rule.url_problem("http://8.8.8.8/")


def test_a_wrong_network_in_the_setting_stops_the_server_from_starting(tmp_path):
    env = {
        **os.environ,
        "MAPSITE_DATA_DIR": str(tmp_path),
        "OUTBOUND_ALLOW_NETWORKS": "10.1.0.0/16,10.2.3.4/16",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "mapsite.settings"},
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert "OUTBOUND_ALLOW_NETWORKS" in result.stderr and "10.2.3.4/16" in result.stderr


# --- the rule when connecting ----------------------------------------------------------


def test_an_allowed_local_receiver_gets_the_request(allow_local_receivers, recorder):
    assert _post(recorder.url) == 200

    (request,) = recorder.requests
    assert request["path"] == "/hooks" and request["body"] == b'{"text": "hi"}'
    assert request["headers"]["Host"] == f"127.0.0.1:{recorder.port}"


def test_loopback_is_refused_when_connecting_without_the_setting(recorder):
    with pytest.raises(outbound.OutboundError) as refused:
        _post(recorder.url)

    assert str(refused.value) == "address not allowed"
    assert refused.value.retryable is False
    assert recorder.requests == []


def test_a_name_that_resolves_to_loopback_is_refused_when_connecting(recorder):
    # localhost comes from /etc/hosts: the real resolver, no network needed.
    with pytest.raises(outbound.OutboundError, match="^address not allowed$"):
        _post(f"https://localhost:{recorder.port}/hooks")
    with pytest.raises(outbound.OutboundError, match="^address not allowed$"):
        _post(f"http://0x7f000001:{recorder.port}/hooks")

    assert recorder.requests == []


def test_the_name_is_sent_as_host_while_the_checked_address_is_dialled(
    allow_local_receivers, recorder
):
    assert _post(f"http://localhost:{recorder.port}/hooks?x=1") == 200

    (request,) = recorder.requests
    assert request["headers"]["Host"] == f"localhost:{recorder.port}"
    assert request["path"] == "/hooks?x=1"


def test_a_path_beyond_ascii_is_sent_percent_encoded(allow_local_receivers, recorder):
    assert _post(f"http://127.0.0.1:{recorder.port}/hooks/café?q=ü") == 200

    assert recorder.requests[0]["path"] == "/hooks/caf%C3%A9?q=%C3%BC"


def test_dns_rebinding_after_the_save_check_is_refused_when_connecting(monkeypatch, recorder):
    """Simulated DNS rebinding (the only reason this test replaces the resolver): the
    name answers a public address when the URL is saved, then 127.0.0.1."""
    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "crm.rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    url = f"https://crm.rebind.test:{recorder.port}/hooks"

    assert outbound_rule.url_problem(url) is None  # saved: it looked public
    with pytest.raises(outbound.OutboundError, match="^address not allowed$"):
        _post(url)
    assert recorder.requests == []


def test_dns_rebinding_after_the_connect_check_cannot_switch_the_address(settings, monkeypatch):
    """Simulated DNS rebinding (the only reason this test replaces the resolver): the
    name answers the allowed 127.0.0.1 once, then 127.0.0.2, standing for an internal
    service on the same port. The request must go to the address that was checked."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.1/32"]
    internal = Recorder(host="127.0.0.2").start()
    allowed = Recorder(host="127.0.0.1", port=internal.port).start()
    answers = iter(["127.0.0.1"] + ["127.0.0.2"] * 5)
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        if host == "crm.rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    try:
        assert _post(f"http://crm.rebind.test:{internal.port}/hooks") == 200
    finally:
        internal.stop()
        allowed.stop()

    assert internal.requests == []
    assert [r["headers"]["Host"] for r in allowed.requests] == [f"crm.rebind.test:{internal.port}"]


def test_every_address_a_name_resolves_to_is_checked(monkeypatch, recorder):
    """Simulated DNS rebinding by several answers (the only reason this test replaces
    the resolver): a public address first, 127.0.0.1 second."""
    real = socket.getaddrinfo

    def two_answers(host, port, *args, **kwargs):
        if host == "crm.rebind.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    url = f"https://crm.rebind.test:{recorder.port}/hooks"

    assert "not allowed" in outbound_rule.url_problem(url)
    with pytest.raises(outbound.OutboundError, match="^address not allowed$"):
        _post(url)
    assert recorder.requests == []


def test_a_name_that_does_not_resolve_is_host_not_found():
    with pytest.raises(outbound.OutboundError) as error:
        _post("https://nothing-here.invalid/hooks")

    assert str(error.value) == "host not found" and error.value.retryable


# --- answers: short statuses, never a body --------------------------------------------


def test_a_redirect_is_not_followed(allow_local_receivers, recorder):
    elsewhere = Recorder().start()
    recorder.script((302, {"Location": elsewhere.url}, "moved"))
    try:
        with pytest.raises(outbound.OutboundError) as error:
            _post(recorder.url)
    finally:
        elsewhere.stop()

    assert str(error.value) == "HTTP 302" and error.value.code == 302
    assert error.value.retryable is False
    assert len(recorder.requests) == 1 and elsewhere.requests == []


@pytest.mark.parametrize(
    ("answer", "status", "retryable"),
    [
        ((500, {}, "redis_version:7.2.4\r\nos:Linux internal-db-3"), "HTTP 500", True),
        ((503, {}, "<html>upstream internal-api:8080 down</html>"), "HTTP 503", True),
        ((404, {}, "Not Found: /admin/ on internal-crm"), "HTTP 404", False),
    ],
)
def test_the_status_never_includes_the_body(
    allow_local_receivers, recorder, answer, status, retryable
):
    recorder.script(answer)

    with pytest.raises(outbound.OutboundError) as error:
        _post(recorder.url)

    assert str(error.value) == status and error.value.retryable is retryable
    assert error.value.error_code is None


def test_a_bare_error_code_is_kept_and_nothing_longer(allow_local_receivers, recorder):
    """Slack answers errors with a code such as invalid_token; only such a bare
    [a-z_] word is kept, for the channel that wants it."""
    recorder.script((403, {}, "invalid_token"), (403, {}, "invalid token: see docs"))

    with pytest.raises(outbound.OutboundError) as first:
        _post(recorder.url)
    with pytest.raises(outbound.OutboundError) as second:
        _post(recorder.url)

    assert (str(first.value), first.value.error_code) == ("HTTP 403", "invalid_token")
    assert (str(second.value), second.value.error_code) == ("HTTP 403", None)


def test_retry_after_is_read(allow_local_receivers, recorder):
    recorder.script((429, {"Retry-After": "120"}, "rate_limited"))

    with pytest.raises(outbound.OutboundError) as error:
        _post(recorder.url)

    assert error.value.retryable and error.value.retry_after == 120


def test_connection_refused(allow_local_receivers):
    with pytest.raises(outbound.OutboundError) as error:
        _post(f"http://127.0.0.1:{_free_port()}/hooks")

    assert str(error.value) == "connection refused" and error.value.retryable


def test_timed_out(allow_local_receivers, recorder):
    recorder.script(1.5)

    with pytest.raises(outbound.OutboundError) as error:
        _post(recorder.url, timeout=0.3)

    assert str(error.value) == "timed out" and error.value.retryable


@pytest.mark.parametrize(
    "banner",
    [
        b"-ERR unknown command 'POST', with args beginning with: '/hooks'\r\n",
        b"SSH-2.0-OpenSSH_9.6p1 Debian-3\r\n",
        b"",
    ],
)
def test_a_service_that_does_not_speak_http_is_invalid_response(allow_local_receivers, banner):
    """An internal service's banner (Redis, SSH) never reaches the status."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(banner)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with pytest.raises(outbound.OutboundError) as error:
            _post(f"http://127.0.0.1:{listener.getsockname()[1]}/hooks")
    finally:
        thread.join(5)
        listener.close()

    # A service that closes while the request is still being sent resets the
    # connection instead; either way only a short status comes back, never its words.
    assert str(error.value) in {"invalid response", "connection closed", "connection reset"}
    assert not banner or banner.decode().split()[0] not in str(error.value)
    assert error.value.retryable


# --- TLS: the checked address is dialled, the name is verified ----------------------


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    return TestAuthority(tmp_path_factory.mktemp("ca"))


def _tls_recorder(authority, name):
    context = authority.server_context(name)
    names = []
    context.sni_callback = lambda sock, server_name, ctx: names.append(server_name)
    server = Recorder(tls=context).start()
    server.sni = names
    return server


def test_https_uses_the_name_for_sni_and_the_certificate(
    allow_local_receivers, authority, monkeypatch
):
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca))
    server = _tls_recorder(authority, "localhost")
    try:
        assert _post(server.url) == 200
    finally:
        server.stop()

    # Dialled 127.0.0.1 (the certificate has no IP address in it), verified as localhost.
    assert server.sni == ["localhost"]
    assert [r["headers"]["Host"] for r in server.requests] == [f"localhost:{server.port}"]


def test_a_certificate_for_another_name_is_not_valid(allow_local_receivers, authority, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(authority.ca))
    server = _tls_recorder(authority, "elsewhere.example")
    try:
        with pytest.raises(outbound.OutboundError) as error:
            _post(server.url)
    finally:
        server.stop()

    assert str(error.value) == "TLS certificate not valid"
    assert server.requests == []


def test_a_certificate_from_an_unknown_authority_is_not_valid(allow_local_receivers, authority):
    server = _tls_recorder(authority, "localhost")
    try:
        with pytest.raises(outbound.OutboundError) as error:
            _post(server.url)
    finally:
        server.stop()

    assert str(error.value) == "TLS certificate not valid"
    assert server.requests == []


# --- what an operator runs to check ----------------------------------------------------


def test_the_operator_command_says_what_the_rule_decides(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["10.1.0.0/16"]
    out = io.StringIO()

    urls = ["https://localhost/x", "https://10.1.2.3/crm", "http://8.8.8.8/"]
    call_command("check_outbound", *urls, stdout=out)

    text = out.getvalue()
    assert "10.1.0.0/16" in text
    assert "127.0.0.1: refused (loopback)" in text
    assert "10.1.2.3: allowed (OUTBOUND_ALLOW_NETWORKS 10.1.0.0/16)" in text
    assert "must start with https://" in text
