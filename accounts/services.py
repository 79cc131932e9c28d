"""Writes that create or change organisations, members, invitations, passwords and API
tokens."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mapsite import emails
from mapsite.text import single_line

from .models import Invitation, Membership, Organization, Role, User, hash_token


class EmailTaken(Exception):  # noqa: N818
    """Someone already signs in with this email address."""


def org_create(*, name, email, password, user_name=""):
    """A new organisation and its first admin, in one transaction."""
    email = User.objects.normalize_email(email).lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise EmailTaken(email)
        try:
            user = User.objects.create_user(email=email, password=password, name=user_name)
        except IntegrityError as exc:  # a concurrent sign-up won the race
            raise EmailTaken(email) from exc
        org = Organization.objects.create(name=single_line(name))
        Membership.objects.create(org=org, user=user, role=Role.ADMIN)
    return org, user


def invitation_create(*, org, invited_by, email, role):
    """Returns (invitation, raw token). Only the token's hash is stored."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        org=org,
        email=User.objects.normalize_email(email).lower(),
        role=role,
        token_hash=hash_token(token),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    return invitation, token


class LastAdminError(Exception):
    """The change would leave an organisation without any admin."""


class InvitationNotPending(Exception):  # noqa: N818
    """The invitation was accepted, revoked or has expired."""


def org_create_for_user(*, user, name):
    """A new organisation for a signed-in user, who becomes its admin."""
    with transaction.atomic():
        org = Organization.objects.create(name=single_line(name))
        Membership.objects.create(org=org, user=user, role=Role.ADMIN)
    return org


def invitation_link(token):
    return f"{settings.SITE_URL}/accounts/invite/{token}/"


def invitation_send(*, org, invited_by, email, role):
    """Invite ``email`` to ``org``: (invitation, raw token, accept link).

    A pending invitation of the same address to the same organisation is revoked
    first, so re-inviting someone re-sends a fresh link. The email is sent after
    the transaction commits; if sending fails the new invitation is revoked and the
    error propagates.
    """
    email = User.objects.normalize_email(email).lower()
    now = timezone.now()
    with transaction.atomic():
        Invitation.objects.filter(
            org=org,
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).update(revoked_at=now)
        invitation, token = invitation_create(
            org=org, invited_by=invited_by, email=email, role=role
        )
    link = invitation_link(token)
    context = {"invitation": invitation, "org": org, "inviter": invited_by, "link": link}
    # Names stored before they were cleaned must not break the subject line.
    subject = single_line(f"{invited_by.display_name} invited you to {org.name} on mapsite")
    message = emails.build(
        "invitation",
        context,
        subject=subject,
        to=[invitation.email],
        sender=(invited_by.display_name if invited_by else "", org.name, None),
        reply_to=invited_by.email if invited_by else None,
    )
    try:
        message.send()
    except Exception:
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
        raise
    return invitation, token, link


def invitation_revoke(*, invitation):
    if invitation.revoked_at is None and invitation.accepted_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def _accept(invitation, user):
    """Membership for ``user`` from ``invitation``; called inside a transaction."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at is not None and locked.accepted_by_id == user.pk:
        # Accepting twice (double click, back button) is harmless; but a member
        # removed since then cannot come back through the old link.
        membership = Membership.objects.filter(org_id=locked.org_id, user=user).first()
        if membership is None:
            raise InvitationNotPending(locked.pk)
        return membership
    if not locked.is_pending:
        raise InvitationNotPending(locked.pk)
    # An existing member keeps their role: an invitation never demotes anyone.
    membership, _ = Membership.objects.get_or_create(
        org_id=locked.org_id, user=user, defaults={"role": locked.role}
    )
    locked.accepted_at = timezone.now()
    locked.accepted_by = user
    locked.save(update_fields=["accepted_at", "accepted_by"])
    invitation.accepted_at, invitation.accepted_by = locked.accepted_at, user
    return membership


def invitation_accept(*, invitation, user):
    """Join the invitation's organisation as ``user`` (idempotent)."""
    with transaction.atomic():
        return _accept(invitation, user)


def invitation_accept_new_user(*, invitation, name, password):
    """Create the invited person's account and membership: (user, membership)."""
    email = invitation.email.lower()
    with transaction.atomic():
        if User.objects.filter(email__iexact=email).exists():
            raise EmailTaken(email)
        try:
            with transaction.atomic():
                user = User.objects.create_user(email=email, password=password, name=name)
        except IntegrityError as exc:
            raise EmailTaken(email) from exc
        membership = _accept(invitation, user)
    return user, membership


def _other_admins_exist(membership):
    return (
        Membership.objects.select_for_update()
        .filter(org_id=membership.org_id, role=Role.ADMIN)
        .exclude(pk=membership.pk)
        .exists()
    )


def membership_change_role(*, membership, role):
    """Change a member's role; the last admin of an organisation cannot be demoted."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        demoting = membership.role == Role.ADMIN and role != Role.ADMIN
        if demoting and not _other_admins_exist(membership):
            raise LastAdminError(membership.org_id)
        membership.role = role
        membership.save(update_fields=["role"])
    return membership


def membership_remove(*, membership):
    """Remove a member; the last admin of an organisation cannot be removed."""
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership.pk)
        if membership.role == Role.ADMIN and not _other_admins_exist(membership):
            raise LastAdminError(membership.org_id)
        membership.delete()


# --- API tokens ------------------------------------------------------------------------

API_TOKEN_PREFIX = "msk_"
# A token's last use is written at most this often (a request is not a write).
API_TOKEN_TOUCH_SECONDS = 60


def api_token_create(*, membership, name):
    """A new API token for a member in their organisation. Returns (token, raw); the
    raw token exists only in this return value and on the page that shows it once."""
    from .models import ApiToken

    name = single_line(name)
    if not name:
        raise ValueError("Give the token a name, e.g. the integration that will use it.")
    raw = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        membership=membership,
        org_id=membership.org_id,
        user_id=membership.user_id,
        name=name[:100],
        prefix=raw[:10],
        token_hash=hash_token(raw),
    )
    return token, raw


def api_token_revoke(*, user, token_id):
    """Revoke one of the user's own tokens; ``ApiToken.DoesNotExist`` for anyone else's."""
    from .models import ApiToken

    token = ApiToken.objects.get(pk=token_id, user=user)
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    return token


def api_token_authenticate(raw):
    """The active token a raw string names (membership, user and org loaded), or None.
    Records its use, at most once a minute."""
    from .models import ApiToken

    if not isinstance(raw, str) or not raw.startswith(API_TOKEN_PREFIX) or len(raw) > 100:
        return None
    token = (
        ApiToken.objects.active()
        .select_related("membership", "membership__org", "user")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > (
        API_TOKEN_TOUCH_SECONDS
    ):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- passwords and sessions --------------------------------------------------------------


@dataclass(frozen=True)
class PasswordSet:
    tokens_revoked: int
    sessions_ended: int

    @property
    def summary(self):
        tokens = f"{self.tokens_revoked} API token{'' if self.tokens_revoked == 1 else 's'}"
        sessions = f"{self.sessions_ended} session{'' if self.sessions_ended == 1 else 's'}"
        return f"{tokens} revoked, {sessions} signed out."


def user_sessions_end(*, user, keep_session_key=None):
    """End every session ``user`` is signed in with (but ``keep_session_key``): deleted
    from the database and the cache in front of it. Returns how many."""
    from django.core.cache import caches

    from .models import UserSession
    from .sessions import SessionStore

    sessions = UserSession.objects.filter(user=user)
    if keep_session_key:
        sessions = sessions.exclude(session_key=keep_session_key)
    keys = list(sessions.values_list("session_key", flat=True))
    if keys:
        UserSession.objects.filter(session_key__in=keys).delete()
        caches[settings.SESSION_CACHE_ALIAS].delete_many(
            [SessionStore.cache_key_prefix + key for key in keys]
        )
    return len(keys)


def user_password_set(*, user, password, keep_session_key=None):
    """Give ``user`` a new password (``None``: no usable password) and end what the old
    one opened: every API token of theirs is revoked and every session of theirs but
    ``keep_session_key`` (the browser that made the change) is ended.

    The one way a password changes: the change and reset forms, the admin and the
    changepassword command all call it. Returns a ``PasswordSet``."""
    from .models import ApiToken

    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        ended = user_sessions_end(user=user, keep_session_key=keep_session_key)
    return PasswordSet(tokens_revoked=revoked, sessions_ended=ended)
