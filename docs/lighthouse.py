"""Lighthouse's accessibility score (mobile) for the main pages: `make lighthouse`, or

    .venv/bin/python docs/lighthouse.py [--lighthouse PATH] [--chromium /usr/bin/chromium]

Like docs/screenshots.py (whose set-up it reuses) it works in a throwaway data directory:
migrates, seeds the demo, issues Maria Lopez a personal link and starts gunicorn on a free
local port. It then signs in over HTTP (the demo seller, then the demo manager for the
dashboard) and runs the Lighthouse command line on each page with the session cookie,
``--only-categories=accessibility --form-factor=mobile``, and prints each score with the
audits that did not pass. Exits 1 if any page scores below 100.

Lighthouse is a Node program, not a Python package, so it is not installed with the
project: install it once with npm (``npm install --prefix ~/.cache/lighthouse
lighthouse@12``) and pass ``--lighthouse ~/.cache/lighthouse/node_modules/.bin/lighthouse``
(the default is ``lighthouse`` on PATH). It drives the Chromium given by --chromium.
"""

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import screenshots  # noqa: E402  (the same throwaway demo and server)

PAGES = [
    # (label, path key or path, who signs in)
    ("sign-in", "/accounts/login/", None),
    ("room list", "/rooms/", "seller"),
    ("seller room", "room", "seller"),
    ("activity log", "activity", "seller"),
    ("alert settings", "/settings/alerts/", "seller"),
    ("dashboard", "/dashboard/", "manager"),
    ("buyer room", "buyer", "buyer"),
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", default="lighthouse", help="the Lighthouse command")
    parser.add_argument("--chromium", default=screenshots.DEFAULT_CHROMIUM)
    return parser.parse_args()


def session_cookie(base, email=None, password=None, path=None):
    """Sign in (or open a buyer link) over HTTP; returns the Cookie header to send."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    if path:  # a buyer's personal link sets the buyer's session
        opener.open(f"{base}{path}").read()
    else:
        login = f"{base}/accounts/login/"
        html = opener.open(login).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": email, "password": password}
        ).encode()
        request = urllib.request.Request(login, data=data, headers={"Referer": login})
        opener.open(request).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def score(lighthouse, chromium, url, cookie, workdir):
    out = Path(workdir) / "report.json"
    argv = [
        lighthouse, url,
        "--only-categories=accessibility", "--form-factor=mobile", "--quiet",
        "--output=json", f"--output-path={out}",
        "--chrome-flags=--headless=new " + " ".join(screenshots.CHROMIUM_ARGS),
    ]  # fmt: skip
    if cookie:
        argv.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    env = os.environ | {"CHROME_PATH": chromium}
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
    report = json.loads(out.read_text())
    failed = [
        f"{key}: {audit['title']}"
        for key, audit in report["audits"].items()
        if audit.get("score") is not None
        and audit["score"] < 1
        and audit["scoreDisplayMode"] in ("binary", "numeric")
    ]
    return report["finalDisplayedUrl"], report["categories"]["accessibility"]["score"], failed


def main():
    args = parse_args()
    screenshots.check_browser(args.chromium)
    with tempfile.TemporaryDirectory(prefix="mapsite-lighthouse-") as workdir:
        port = screenshots.free_port()
        base = f"http://127.0.0.1:{port}"
        screenshots.isolate(Path(workdir) / "data", base)
        paths, (seller, manager, password) = screenshots.prepare()
        paths["activity"] = paths["room"] + "activity/"
        with screenshots.web_server(port, Path(workdir) / "gunicorn.log"):
            cookies = {
                None: "",
                "seller": session_cookie(base, seller, password),
                "manager": session_cookie(base, manager, password),
                "buyer": session_cookie(base, path=paths["buyer"]),
            }
            paths["buyer"] = "/b/room/"
            worst = 1.0
            for label, key, who in PAGES:
                url = base + paths.get(key, key)
                final, value, failed = score(
                    args.lighthouse, args.chromium, url, cookies[who], workdir
                )
                if final.rstrip("/") != url.rstrip("/"):
                    failed.append(f"ended at {final} instead")
                    value = 0.0
                worst = min(worst, value)
                print(f"{label:15} {round(value * 100):3d}  {paths.get(key, key)}")
                for line in failed:
                    print(f"{'':15}      {line}")
    return 0 if worst == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
