"""The whole demo seed, in order: the organisation and its three accounts (the seller,
the manager, a second rep), the sample room, then the pipeline of other deals."""

from accounts.models import Membership, Role, User
from accounts.services import org_create
from rooms.actors import Actor

from . import DEMO_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL, REP_EMAIL
from .pipeline import Pipeline
from .sample import sample_room_create


def demo_create():
    """The demo organisation and everything in it (the caller holds the transaction)."""
    org, seller = org_create(
        name="Northwind Software",
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        user_name="Sarah Kim",
    )
    manager = User.objects.create_user(
        email=MANAGER_EMAIL, password=DEMO_PASSWORD, name="Morgan Lee"
    )
    Membership.objects.create(org=org, user=manager, role=Role.MANAGER)
    membership = Membership.objects.get(org=org, user=seller)
    rep = User.objects.create_user(email=REP_EMAIL, password=DEMO_PASSWORD, name="Jordan Patel")
    rep_membership = Membership.objects.create(org=org, user=rep, role=Role.REP)
    actor = Actor(user=seller)
    sample_room_create(membership=membership, actor=actor)
    Pipeline(membership=membership, rep_membership=rep_membership).create()
