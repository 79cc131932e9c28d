"""The live poll as the benchmarks drive it: rooms with buyer viewers and their links,
each viewer's window and headers, links opened and the seller signed in (aiohttp), a
buyer link opened and its poll brought up to date (http.client), what the poll's
"who's here" digest looks like, and the SQL queries of a "nothing changed" poll."""

import asyncio
import html
import os
import re

from bench._http import request

PASSWORD = "bench-password-2026"


def make_rooms(n_rooms, n_viewers, n_seller_windows):
    import datetime

    from django.utils import timezone

    from accounts.models import Membership
    from accounts.services import org_create
    from plans.live.tickets import buyer_ticket, seller_ticket
    from plans.models import Task
    from plans.services import plan_start
    from rooms.actors import Actor
    from rooms.services import room_create
    from stakeholders.links import link_issue
    from stakeholders.services import stakeholder_create

    org, seller = org_create(name="Bench Org", email="seller@bench.example", password=PASSWORD)
    membership = Membership.objects.get(org=org, user=seller)
    actor = Actor(user=seller)
    rooms = []
    for r in range(n_rooms):
        room = room_create(
            membership=membership,
            actor=actor,
            name=f"Deal {r}",
            buyer_company=f"Buyer {r}",
            target_close_date=timezone.now().date() + datetime.timedelta(days=60),
        )
        plan_start(actor=actor, room=room, template_slug="standard")
        tokens = []
        for v in range(n_viewers):
            person = stakeholder_create(
                actor=actor,
                room=room,
                name=f"Viewer {r}-{v}",
                side="buyer",
                email=f"v{r}-{v}@buyer.example",
            )
            link, token = link_issue(actor=actor, room=room, stakeholder=person)
            tokens.append((token, buyer_ticket(link.pk, room.pk)))
        task = Task.objects.for_room(room).order_by("order").first()
        rooms.append(
            {
                "id": str(room.pk),
                "task": str(task.pk),
                "version": task.version,
                "tokens": tokens,
                "seller_tickets": [seller_ticket(seller.pk, room.pk)] * n_seller_windows,
            }
        )
    return rooms


DIGEST = re.compile(r'data-digest="([0-9a-f]*)"')


def window_id():
    return os.urandom(16).hex()


def viewer_headers(viewer):
    return {
        "Cookie": f"sessionid={viewer['cookie']}",
        "HX-Request": "true",
        "X-Live-Ticket": viewer["ticket"],
    }


async def open_links(http, base, rooms):
    """Each viewer opens its link once: a session cookie per viewer."""
    viewers = []
    sem = asyncio.Semaphore(20)

    async def open_one(room, token, ticket):
        async with sem, http.get(f"{base}/b/{token}/", allow_redirects=False) as response:
            assert response.status == 303, response.status
            cookie = response.cookies["sessionid"].value
        viewers.append(
            {
                "room": room["id"],
                "kind": "buyer",
                "url": f"{base}/b/room/live/",
                "cookie": cookie,
                "ticket": ticket,
                "window": window_id(),
                "rev": 0,
                "here": "",
                "n": 0,
            }
        )

    await asyncio.gather(*(open_one(r, t, k) for r in rooms for t, k in r["tokens"]))
    return viewers


def seller_windows(base, rooms, seller):
    """The editing seller's own other windows on each room (a second screen, a tab)."""
    return [
        {
            "room": room["id"],
            "kind": "seller",
            "url": f"{base}/rooms/{room['id']}/live/",
            "row": f'id="task-{room["task"]}"',
            "cookie": seller["session"],
            "ticket": ticket,
            "window": window_id(),
            "rev": 0,
            "here": "",
            "n": 0,
        }
        for room in rooms
        for ticket in room["seller_tickets"]
    ]


async def seller_login(http, base):
    async with http.get(f"{base}/accounts/login/") as response:
        await response.read()
        csrf = response.cookies["csrftoken"].value
    async with http.post(
        f"{base}/accounts/login/",
        data={
            "username": "seller@bench.example",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf,
        },
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    ) as response:
        assert response.status == 302, response.status
        return {"session": response.cookies["sessionid"].value, "csrf": csrf}


def open_link(port, token):
    """The personal link: a 303 with a buyer session, then the room, whose page carries
    the live ticket and the revision; then the poll brought up to date (like live.js)."""
    status, _, cookies, _ = request(port, "GET", f"/b/{token}/")
    assert status == 303 and "sessionid" in cookies, status
    headers = {"Cookie": f"sessionid={cookies['sessionid']}"}
    status, _, _, body = request(port, "GET", "/b/room/", headers=headers)
    assert status == 200, status
    page = body.decode()
    ticket = html.unescape(re.search(r'data-live-ticket="([^"]*)"', page).group(1))
    revision = int(re.search(r'data-revision="(\d+)"', page).group(1))
    poll = {**headers, "HX-Request": "true", "X-Live-Ticket": ticket}
    here = ""
    for _ in range(3):
        status, response, _, body = request(
            port, "GET", f"/b/room/live/?rev={revision}&here={here}&p=1", headers=poll
        )
        if status == 200:
            revision = int(response.getheader("X-Room-Revision"))
            found = DIGEST.search(body.decode())
            if found:
                here = found.group(1)
    return headers, (f"/b/room/live/?rev={revision}&here={here}", poll)


def poll_query_count(token):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token, ticket = token
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_LIVE_TICKET=ticket)
    client.get(f"/b/{token}/")
    first = client.get("/b/room/live/", {"rev": 0, "p": "1"})
    revision = int(first["X-Room-Revision"])
    digest = DIGEST.search(first.content.decode()).group(1)
    counts = []
    for extra in ({}, {"p": "1"}):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/b/room/live/", {"rev": revision, "here": digest, **extra})
        assert response.status_code == 204, response.status_code
        counts.append(len(ctx.captured_queries))
    return max(counts)
