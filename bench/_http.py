"""Requests as a browser sends them, from a benchmark: one request over http.client
(its status, the response, its cookies and body), the sign-in form with its CSRF
token, and a closed loop of concurrent keep-alive clients (aiohttp) on one URL."""

import asyncio
import http.client
import re
import time
from http.cookies import SimpleCookie


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies = SimpleCookie()
        for value in response.msg.get_all("Set-Cookie") or []:
            cookies.load(value)
        return response.status, response, {k: m.value for k, m in cookies.items()}, data
    finally:
        conn.close()


def sign_in(port, email, password):
    """The sign-in form as a browser sends it: its CSRF cookie and token, then a POST."""
    from urllib.parse import urlencode

    status, _, cookies, body = request(port, "GET", "/accounts/login/")
    assert status == 200, status
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    csrf = cookies["csrftoken"]
    status, response, cookies, _ = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
        body=urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token}),
    )
    assert status == 302 and "sessionid" in cookies, (email, status)
    return {"Cookie": f"sessionid={cookies['sessionid']}; csrftoken={csrf}"}


async def closed_loop(http_session, url, headers, connections, seconds, expect):
    """CONNECTIONS clients, each sending its next request when the last one is answered."""
    count, bad, size = 0, {}, 0
    deadline = time.perf_counter() + seconds

    async def client():
        nonlocal count, size
        while time.perf_counter() < deadline:
            async with http_session.get(url, headers=headers, allow_redirects=False) as response:
                body = await response.read()
                if response.status == expect:
                    count += 1
                    size = len(body)
                else:
                    bad[response.status] = bad.get(response.status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return count / (time.perf_counter() - started), bad, size
