"""Error pages are the product's own, and a buyer's stays a buyer's page."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_seller_address_gets_the_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Not found · mapsite</title>" in html and "Back to your rooms" in html


def test_an_unknown_buyer_address_gets_the_buyer_404_with_its_headers(client):
    response = client.get("/b/room/no-such-page/")
    assert response.status_code == 404
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert "Back to your rooms" not in response.content.decode()
