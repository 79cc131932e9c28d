import pytest
from django.test import Client

from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


def test_null_origin_is_accepted_on_buyer_paths_only_with_the_token():
    client = Client(enforce_csrf_checks=True)
    client.get("/b/room/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    # Without the token: refused, whatever the origin.
    assert client.post("/b/leave/", HTTP_ORIGIN="null").status_code == 403
    # With it: accepted although the browser could only say "null".
    response = client.post("/b/leave/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert response.status_code == 200


def test_null_origin_is_still_refused_elsewhere(room):
    StakeholderFactory(room=room)
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post("/accounts/login/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert response.status_code == 403
