"""A manager opens the dashboard, filters to zombie rooms and follows one into its room."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.demo import DEMO_PASSWORD, MANAGER_EMAIL

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(MANAGER_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()


def test_filter_to_zombie_rooms_and_open_one(page, live_server):
    call_command("seed_demo")
    sign_in(page, live_server.url)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Deal dashboard")).to_be_visible()
    table = page.locator("#dashboard-table")
    expect(table.locator("tbody tr")).to_have_count(5)
    expect(page.locator(".kpi")).to_have_count(4)

    page.get_by_label("Badge").select_option("zombie")
    # htmx swaps the table in place and the address bar keeps the filter.
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server.url}/dashboard/?badge=zombie&sort=health&page=1")
    expect(table).to_contain_text("Globex — Data platform")
    expect(table.locator(".badge-zombie")).to_have_text("Zombie")

    # Sorting keeps the filter.
    table.get_by_role("link", name="Value").click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/?badge=zombie&sort=value&page=1")
    expect(table.locator("tbody tr")).to_have_count(1)

    # Reloading the shared URL gives the same view.
    page.reload()
    expect(page.get_by_label("Badge")).to_have_value("zombie")
    expect(page.locator("#dashboard-table tbody tr")).to_have_count(1)

    page.get_by_role("link", name="Globex — Data platform").click()
    expect(page.get_by_role("heading", name="Globex — Data platform")).to_be_visible()
    signals = page.get_by_label("MAP signals")
    expect(signals).to_contain_text("Zombie")
    expect(signals).to_contain_text("Buyer milestones")


def test_search_without_javascript(browser, live_server):
    call_command("seed_demo")
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live_server.url)
        page.goto(f"{live_server.url}/dashboard/")
        page.get_by_label("Search").fill("initech")
        page.get_by_role("button", name="Apply").click()
        expect(page.locator("#dashboard-table tbody tr")).to_have_count(1)
        expect(page.locator("#dashboard-table")).to_contain_text("Initech — Payroll migration")
        assert "q=initech" in page.url
    finally:
        context.close()
