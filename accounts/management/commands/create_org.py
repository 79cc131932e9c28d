"""Create an organisation and its first admin from the command line."""

import getpass
import sys

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.models import User
from accounts.services import EmailTaken, org_create


class Command(BaseCommand):
    help = (
        "Create an organisation and its first admin user, and print the organisation's id. "
        "Without --password, the password is asked for interactively."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Name of the organisation.")
        parser.add_argument("--email", required=True, help="Email address of its first admin.")
        parser.add_argument("--password", help="Password of the admin (asked if omitted).")
        parser.add_argument("--user-name", default="", help="The admin's full name.")

    def handle(self, *args, **options):
        name = options["name"].strip()
        if not name:
            raise CommandError("The organisation name must not be empty.")
        if len(name) > 120:
            raise CommandError("The organisation name must be at most 120 characters.")
        email = User.objects.normalize_email(options["email"].strip()).lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{options['email']!r} is not a valid email address.") from None
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"A user with email {email} already exists.")
        user_name = options["user_name"].strip()

        password = options["password"]
        if password is None:
            password = self._ask_password()
        try:
            password_validation.validate_password(password, User(email=email, name=user_name))
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None

        try:
            org, _user = org_create(name=name, email=email, password=password, user_name=user_name)
        except EmailTaken:
            raise CommandError(f"A user with email {email} already exists.") from None
        self.stdout.write(str(org.id))

    def _ask_password(self):
        if not sys.stdin.isatty():
            raise CommandError("--password is required when not running interactively.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords didn't match.")
        return password
