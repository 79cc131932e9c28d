"""Run the overdue sweep once: `python manage.py scan_overdue [--today YYYY-MM-DD]`."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from alerts.sweep import sweep_overdue
from plans.models import OverdueLevel


class Command(BaseCommand):
    help = "Flag tasks 3+ days overdue and alert at 7+, once each; print what happened."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="Count days as if today were this date (YYYY-MM-DD) in every timezone.",
        )

    def handle(self, *args, **options):
        today = None
        if options["today"]:
            try:
                today = datetime.date.fromisoformat(options["today"])
            except ValueError as exc:
                raise CommandError(f"--today must be a date like 2026-11-23: {exc}") from None
        result = sweep_overdue(today=today)
        for level, title, room, days in sorted(result.details, key=lambda d: d[0]):
            word = "alerted" if level == OverdueLevel.ALERTED else "flagged"
            self.stdout.write(f"{word}  {title} — {room} ({days} days overdue)")
        self.stdout.write(self.style.SUCCESS(result.summary()))
