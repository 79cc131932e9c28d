"""Create the demo organisation and its sample room, once, with a small pipeline of
other deals (open and closed, won and lost, with and without buyer engagement) so the
dashboard and its 12-week charts have something to show.

Re-running keeps everything as it is and prints the demo sign-in again.
"""

from django.apps import apps
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from plans.demo import DEMO_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL
from plans.demo.seed import demo_create


class Command(BaseCommand):
    help = "Create the demo organisation (Northwind Software) and a sample room, once."

    def handle(self, *args, **options):
        if User.objects.filter(email=DEMO_EMAIL).exists():
            self.stdout.write("Demo data already present; left as it is.")
        else:
            with transaction.atomic():
                demo_create()
            self.stdout.write(self.style.SUCCESS("Demo organisation Northwind Software created."))
        if apps.is_installed("documents"):
            # Shared documents live in an app above this one: run its own step, by name.
            call_command("seed_demo_documents", stdout=self.stdout)
        if apps.is_installed("checkins"):
            call_command("seed_demo_checkins", stdout=self.stdout)
        self.stdout.write(f"Demo seller:  {DEMO_EMAIL}  /  password: {DEMO_PASSWORD}")
        self.stdout.write(f"Demo manager: {MANAGER_EMAIL}  /  password: {DEMO_PASSWORD}")
        self.stdout.write("The manager's deal dashboard: /dashboard/")
