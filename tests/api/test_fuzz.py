"""A schema-driven fuzz run: schemathesis generates requests from /api/v1/schema/ for
every operation (valid and invalid inputs), sends them to a live server with a valid
token, and checks every answer: no 5xx, status codes, content types and bodies as the
schema says. Detail routes are tried with random ids and with ids of real rows."""

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import Membership, Role
from accounts.services import api_token_create
from plans.models import Milestone, Task
from plans.services import plan_start
from rooms.actors import Actor
from stakeholders.links import link_issue
from tests.factories import MembershipFactory, RoomFactory, StakeholderFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _seed(org):
    admin = MembershipFactory(org=org, role=Role.ADMIN).user
    membership = Membership.objects.get(user=admin, org=org)
    room = RoomFactory(org=org, owner=admin)
    plan_start(actor=Actor(user=admin), room=room, template_slug="standard")
    buyer = StakeholderFactory(room=room)
    link, _ = link_issue(actor=Actor(user=admin), room=room, stakeholder=buyer)
    _, raw = api_token_create(membership=membership, name="fuzz")
    ids = {
        "rooms": str(room.pk),
        "milestones": str(Milestone.objects.filter(room=room).first().pk),
        "tasks": str(Task.objects.filter(room=room).first().pk),
        "stakeholders": str(buyer.pk),
        "links": str(link.pk),
    }
    return raw, ids


def _runner(live_server, operation, strategy, mode, headers, failures, counter):
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        call_headers = headers
        response = case.call(base_url=live_server.url, headers=call_headers)
        counter.append((mode.value, response.status_code))
        checks = list(CHECKS)
        if mode == GenerationMode.NEGATIVE:
            checks.append(negative_data_rejection)
        try:
            case.validate_response(response, checks=checks, headers=call_headers)
        except (Exception, BaseExceptionGroup) as exc:  # collect them all, then fail with the list
            failures.append(f"{operation.label} [{mode.value}]: {exc}"[:1500])

    return run


def test_fuzz_the_api_from_its_schema(live_server, org, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    settings.API_SIGNIN_RATE = "100000/min"
    raw, ids = _seed(org)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/?format=json")
    headers = {"Authorization": f"Token {raw}"}
    failures, statuses = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        resource = operation.path.removeprefix("/api/v1/").split("/")[0]
        variants = [None]
        if "{id}" in operation.path and resource in ids:
            variants.append({"id": ids[resource]})
        for path_parameters in variants:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(
                    generation_mode=mode, path_parameters=path_parameters
                )
                _runner(live_server, operation, strategy, mode, headers, failures, statuses)()
    print(sorted(Counter(statuses).items()))
    assert len(statuses) > 500
    assert not [code for _, code in statuses if code >= 500]
    # The token works: valid requests get through (not all refused at the door).
    assert sum(1 for mode, code in statuses if mode == "positive" and code < 300) > 150
    assert not failures, "\n\n".join(failures[:10]) + f"\n\n({len(failures)} failures)"
