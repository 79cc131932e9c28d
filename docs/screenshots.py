"""The README's screenshots, taken from the demo data: `make screenshots`, or

    .venv/bin/python docs/screenshots.py [--chromium /usr/bin/chromium] [--out docs/screenshots]

In a throwaway data directory (a new temporary MAPSITE_DATA_DIR on SQLite; the usual
var/ and any DATABASE_URL, REDIS_URL or EMAIL_URL in the environment are left alone) it
migrates, collects the static files, seeds the demo and runs recount_room_signals and
scan_overdue as `make run` does, issues Maria Lopez (the demo's buyer champion) a
personal link, starts gunicorn on a free local port and drives Chromium through
Playwright to write:

    seller-room.png        the seller's view of "Acme Corp — Finance automation"
    timeline.png           that room's timeline section (#timeline)
    dashboard.png          the managers' deal dashboard, signed in as the demo manager
    buyer-room.png         the buyer room as Maria sees it through her link
    buyer-room-phone.png   the same at a phone's 390 px width

Desktop shots use a 1366 x 900 viewport and keep its top; each PNG is re-encoded with
Pillow (a palette of 256 colours if that is what keeps it under 300 KB). Needs
Playwright (in the dev dependencies) and a Chromium binary: Debian's chromium by default,
as Playwright's own browser download is not needed.
"""

import argparse
import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_OUT = BASE_DIR / "docs" / "screenshots"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
PHONE_HEIGHT = 1400  # the phone shot keeps this much of the page's top
MAX_BYTES = 300 * 1024
ROOM_NAME = "Acme Corp — Finance automation"
BUYER_NAME = "Maria Lopez"
SERVER_TIMEOUT = 60.0

# Settings read from the environment that would point the run at real services or data.
ISOLATED_ENV = [
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "SECRET_KEY",
    "MEDIA_ROOT",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_COOKIES",
    "BEHIND_TLS_PROXY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "CELERY_TASK_ALWAYS_EAGER",
    "DEBUG",
]


def fail(message):
    sys.stderr.write(f"screenshots: {message}\n")
    raise SystemExit(1)


def parse_args():
    parser = argparse.ArgumentParser(
        description="Write the README's screenshots (docs/screenshots/*.png) from the demo "
        "data, in a throwaway data directory.",
    )
    parser.add_argument(
        "--chromium",
        default=DEFAULT_CHROMIUM,
        help=f"the Chromium binary Playwright drives (default {DEFAULT_CHROMIUM})",
    )
    parser.add_argument(
        "--out",
        default=str(DEFAULT_OUT),
        help="where the PNGs go (default docs/screenshots/ in this checkout)",
    )
    return parser.parse_args()


def check_browser(chromium):
    """Before anything is set up: a clear stop if the browser cannot be driven."""
    path = Path(chromium)
    if not (path.is_file() and os.access(path, os.X_OK)):
        fail(
            f"Chromium not found at {chromium}. Install it (Debian: apt-get install -y "
            "chromium) or point to one with --chromium /path/to/chromium."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        fail("Playwright for Python is missing: pip install '.[dev]' into the virtualenv.")


def isolate(data_dir, base_url):
    """This process and its children use the throwaway directory and nothing else."""
    for name in ISOLATED_ENV:
        os.environ.pop(name, None)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mapsite.settings",
            "MAPSITE_ENV": "embedded",
            "MAPSITE_DATA_DIR": str(data_dir),
            "SITE_URL": base_url,
            "LOG_LEVEL": "WARNING",
        }
    )


def prepare():
    """Migrate and seed as `make run` does; returns the room's path and Maria's link."""
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.urls import reverse

    quiet = io.StringIO()
    call_command("migrate", interactive=False, verbosity=0, stdout=quiet)
    call_command("collectstatic", interactive=False, verbosity=0, stdout=quiet)
    call_command("seed_demo", stdout=quiet)
    call_command("recount_room_signals", stdout=quiet)
    call_command("scan_overdue", stdout=quiet)

    from accounts.models import User
    from plans.demo import DEMO_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL
    from rooms.actors import Actor
    from rooms.models import Room
    from stakeholders.links import link_issue
    from stakeholders.models import Stakeholder

    seller = User.objects.get(email=DEMO_EMAIL)
    room = Room.objects.get(name=ROOM_NAME)
    maria = Stakeholder.objects.get(room=room, name=BUYER_NAME)
    _, token = link_issue(actor=Actor(user=seller), room=room, stakeholder=maria)
    paths = {
        "room": reverse("plans:room", args=[room.pk]),
        "buyer": reverse("buyer:open", args=[token]),
        "dashboard": "/dashboard/",
    }
    connections.close_all()
    return paths, (DEMO_EMAIL, MANAGER_EMAIL, DEMO_PASSWORD)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def web_server(port, log_path):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    argv = [
        str(gunicorn), "mapsite.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", "1",
        "--threads", "4",
        "--logger-class", "mapsite.gunicorn_logging.RedactingLogger",
        "--no-control-socket",
    ]  # fmt: skip
    with open(log_path, "w") as log:
        proc = subprocess.Popen(argv, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if proc.poll() is not None:
                fail(f"the web server exited early:\n{Path(log_path).read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    fail(f"the web server did not answer in {SERVER_TIMEOUT:.0f} s")
                time.sleep(0.3)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def sign_in(page, base, email, password):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    if "/accounts/login/" in page.url:
        fail(f"could not sign in as {email}")


def settle(page):
    """Fonts loaded and no animation half-way."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(400)


ERROR_TITLES = ("Not found", "Not allowed", "Something went wrong", "Server Error", "Bad Request")


def check_page(page, what):
    """No error page, not even one answered with 200 (a redirect to one, say)."""
    title = page.title()
    if "/accounts/login/" in page.url or title.startswith(ERROR_TITLES):
        fail(f"{what} shows {title!r} at {page.url}, not the product")


def shrink(png, path):
    """Re-encode with Pillow if it is there: optimised, then as a 256-colour palette if
    that is what it takes to stay under MAX_BYTES."""
    try:
        from PIL import Image
    except ImportError:
        path.write_bytes(png)
        return
    image = Image.open(io.BytesIO(png)).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    if buffer.tell() > MAX_BYTES:
        buffer = io.BytesIO()
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            buffer, "PNG", optimize=True
        )
    path.write_bytes(buffer.getvalue())


def shoot(chromium, base, paths, logins, out):
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    seller_email, manager_email, password = logins
    shots = []

    def save(name, png):
        out.mkdir(parents=True, exist_ok=True)
        path = out / name
        shrink(png, path)
        shots.append(path)

    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            fail(f"Chromium at {chromium} did not start: {exc.message.splitlines()[0]}")
        try:
            # The seller's room, then its timeline section on its own.
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, base, seller_email, password)
            response = page.goto(base + paths["room"])
            if not response or not response.ok:
                fail(f"the seller room answered {response and response.status}")
            page.get_by_role("heading", name=ROOM_NAME).first.wait_for()
            settle(page)
            check_page(page, "the seller room")
            save("seller-room.png", page.screenshot())
            timeline = page.locator("#timeline")
            timeline.scroll_into_view_if_needed()
            settle(page)
            save("timeline.png", timeline.screenshot())
            context.close()

            # The manager's dashboard.
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            page.set_default_timeout(15_000)
            sign_in(page, base, manager_email, password)
            response = page.goto(base + paths["dashboard"])
            if not response or not response.ok:
                fail(f"the dashboard answered {response and response.status}")
            settle(page)
            check_page(page, "the dashboard")
            save("dashboard.png", page.screenshot())
            context.close()

            # The buyer room through Maria's link: desktop, then a phone.
            context = browser.new_context(viewport=DESKTOP)
            page = context.new_page()
            page.set_default_timeout(15_000)
            response = page.goto(base + paths["buyer"])
            if not response or not response.ok:
                fail(f"the buyer link answered {response and response.status}")
            settle(page)
            check_page(page, "the buyer room")
            save("buyer-room.png", page.screenshot())
            context.close()

            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(base + paths["buyer"])
            settle(page)
            check_page(page, "the buyer room on a phone")
            height = min(PHONE_HEIGHT, page.evaluate("document.documentElement.scrollHeight"))
            clip = {"x": 0, "y": 0, "width": PHONE["width"], "height": height}
            save("buyer-room-phone.png", page.screenshot(full_page=True, clip=clip))
            context.close()
        finally:
            browser.close()
    return shots


def main():
    args = parse_args()
    check_browser(args.chromium)
    out = Path(args.out).resolve()
    data_dir = Path(tempfile.mkdtemp(prefix="mapsite-screenshots-"))
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        isolate(data_dir, base)
        print(f"Seeding the demo in {data_dir} ...", flush=True)
        paths, logins = prepare()
        with web_server(port, data_dir / "web.log"):
            print(f"Taking screenshots from {base} ...", flush=True)
            shots = shoot(args.chromium, base, paths, logins, out)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    for path in shots:
        try:
            shown = path.relative_to(BASE_DIR)
        except ValueError:
            shown = path
        print(f"wrote {shown}  ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
