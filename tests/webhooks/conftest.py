import pytest

from accounts.models import Membership
from webhooks.services import endpoint_create

from .receiver import Receiver


@pytest.fixture
def receiver(allow_local_receivers):
    """A CRM stand-in on 127.0.0.1, reachable because the tests allow that network the
    way an operator would (OUTBOUND_ALLOW_NETWORKS)."""
    server = Receiver().start()
    yield server
    server.stop()


@pytest.fixture
def admin_membership(admin_user, org):
    return Membership.objects.get(user=admin_user, org=org)


@pytest.fixture
def endpoint(admin_membership, receiver):
    """An endpoint of the organisation subscribed to everything, at the receiver."""
    from webhooks.models import EventType

    endpoint, secret = endpoint_create(
        membership=admin_membership, url=receiver.url, events=list(EventType.values)
    )
    receiver.secret = secret
    return endpoint
