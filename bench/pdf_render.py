"""PDF export of a 25-task plan, against rendering the same room's page.

    .venv/bin/python bench/pdf_render.py [--tasks 25] [--runs 7]

Builds a throwaway SQLite database in a temporary folder, creates a room with a plan of
TASKS tasks (the enterprise template topped up), five stakeholders, criteria and risks,
then, signed in as the room's owner through Django's test client:

1. baseline: GET the room page (HTML), best of RUNS;
2. GET the room's PDF, best of RUNS (after one warm-up render that loads the fonts);
and prints both times and the PDF's time as a ratio to the page.
"""

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup(data_dir):
    os.environ.update(
        MAPSITE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="mapsite.settings",
        ALLOWED_HOSTS="testserver",
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def build(tasks):
    from accounts.services import org_create
    from plans import services
    from plans.models import Task
    from rooms.actors import Actor
    from rooms.models import Room
    from rooms.services import room_create
    from stakeholders.models import Side
    from stakeholders.services import stakeholder_create

    org, user = org_create(name="Northwind", email="bench@example.com", password="bench-pw-2026!")
    membership = user.memberships.get()
    actor = Actor(user=user)
    room = room_create(
        membership=membership,
        actor=actor,
        name="Acme — Finance automation",
        buyer_company="Acme Corp",
        target_close_date=datetime.date.today() + datetime.timedelta(days=60),
        goal="Cut month-end close from 10 days to 4.",
        close_reason="Budget expires at fiscal year end",
        review_weekday=0,
        review_time=datetime.time(10, 0),
        timezone="Europe/Berlin",
    )
    plan = services.plan_start(actor=actor, room=room, template_slug="enterprise")
    people = [
        stakeholder_create(actor=actor, room=room, name=f"Person {i}", side=side)
        for i, side in enumerate([Side.BUYER] * 3 + [Side.SELLER] * 2)
    ]
    milestones = list(plan.milestones.all())
    i = 0
    while Task.objects.filter(room=room).count() < tasks:
        services.task_create(
            actor=actor,
            room=room,
            milestone=milestones[i % len(milestones)],
            title=f"Extra step {i}",
            owner=people[i % len(people)],
            notes="Notes " * 10,
        )
        i += 1
    for n in range(3):
        services.criterion_create(actor=actor, room=room, plan=plan, title=f"Criterion {n}")
        services.risk_create(actor=actor, room=room, plan=plan, title=f"Risk {n}")
    return Room.objects.get(pk=room.pk), user


def best(runs, fn):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=25)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mapsite-pdf-bench-") as data_dir:
        setup(data_dir)
        from django.test import Client
        from django.urls import reverse

        from plans.models import Task

        room, user = build(args.tasks)
        client = Client()
        client.force_login(user)
        page_url = reverse("plans:room", args=[room.pk])
        pdf_url = reverse("plans:pdf", args=[room.pk])

        def page():
            assert client.get(page_url).status_code == 200

        pdf_sizes = []

        def pdf():
            response = client.get(pdf_url)
            assert response.status_code == 200
            pdf_sizes.append(len(response.content))

        page()
        pdf()  # warm-up: imports the renderer and loads the fonts once per process
        page_time = best(args.runs, page)
        pdf_time = best(args.runs, pdf)
        count = Task.objects.filter(room=room).count()
        print(f"tasks in the plan:        {count}")
        print(f"room page (HTML), best of {args.runs}: {page_time * 1000:.1f} ms")
        print(
            f"PDF, best of {args.runs}:             {pdf_time * 1000:.1f} ms "
            f"({pdf_sizes[-1] / 1024:.0f} KB)"
        )
        print(f"ratio PDF / page:         {pdf_time / page_time:.1f}")


if __name__ == "__main__":
    main()
