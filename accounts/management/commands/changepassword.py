"""``manage.py changepassword <email>``: Django's command, with the new password set
through accounts.services.user_password_set (the user's API tokens are revoked and all
their sessions ended)."""

from django.contrib.auth.management.commands import changepassword
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import User
from accounts.services import user_password_set

MAX_TRIES = 3


class Command(changepassword.Command):
    help = (
        "Change a user's password. Their API tokens are revoked and every session of "
        "theirs is signed out."
    )

    def handle(self, *args, **options):
        email = options["username"]
        if not email:
            raise CommandError("Give the email address of the user.")
        try:
            user = User.objects.db_manager(options["database"]).get_by_natural_key(email)
        except User.DoesNotExist:
            raise CommandError(f"No user with email {email}.") from None

        self.stdout.write(f"Changing password for {user.email}")
        for _attempt in range(MAX_TRIES):
            password = self._get_pass()
            if password != self._get_pass("Password (again): "):
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:
                validate_password(password, user)
            except ValidationError as error:
                self.stderr.write("\n".join(error.messages))
                continue
            outcome = user_password_set(user=user, password=password)
            return f"Password changed for {user.email}: {outcome.summary}"
        raise CommandError(f"Password of {user.email} left unchanged after {MAX_TRIES} attempts.")
