"""A seller signs in, opens the sample room and edits a task in place, in Chromium."""

import datetime

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.demo import DEMO_EMAIL, DEMO_PASSWORD
from plans.models import Task

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()


def test_edit_a_task_inline_and_see_it_persisted_and_logged(page, live_server):
    call_command("seed_demo")
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Acme Corp — Finance automation").click()
    expect(page.get_by_role("heading", name="Mutual action plan")).to_be_visible()

    task = Task.objects.get(title="Review security documentation")
    row = page.locator(f"#task-{task.pk}")
    new_due = task.due_date + datetime.timedelta(days=9)

    row.get_by_label("Status of 2.2").select_option("done")
    expect(row.locator(".saved")).to_be_visible()
    expect(row.locator("input[name=version]")).to_have_value(str(task.version + 1))
    row.get_by_label("Due date of 2.2").fill(new_due.isoformat())
    expect(row.locator("input[name=version]")).to_have_value(str(task.version + 2))

    page.reload()
    row = page.locator(f"#task-{task.pk}")
    expect(row.get_by_label("Status of 2.2")).to_have_value("done")
    expect(row.get_by_label("Due date of 2.2")).to_have_value(new_due.isoformat())
    task.refresh_from_db()
    assert task.status == "done" and task.due_date == new_due

    activity = page.locator("section[aria-labelledby=activity-h]")
    expect(activity).to_contain_text("marked Review security documentation done")
    expect(activity).to_contain_text(f"to {new_due.day} {new_due:%b}")


def test_edits_of_different_fields_from_two_pages_both_win(browser, live_server):
    call_command("seed_demo")
    one, two = browser.new_context(), browser.new_context()
    try:
        a, b = one.new_page(), two.new_page()
        for page in (a, b):
            sign_in(page, live_server.url)
            page.get_by_role("link", name="Acme Corp — Finance automation").click()
        task = Task.objects.get(title="Return redlines")
        b.locator(f"#task-{task.pk}").get_by_label("Notes on 4.2").fill("Redlines due Friday")
        b.locator(f"#task-{task.pk}").get_by_label("Notes on 4.2").press("Tab")
        expect(b.locator(f"#task-{task.pk} .saved")).to_be_visible()

        a.locator(f"#task-{task.pk}").get_by_label("Status of 4.2").select_option("in_progress")
        expect(a.locator(f"#task-{task.pk} .saved")).to_be_visible()
        expect(a.locator(f"#task-{task.pk} .conflict")).to_have_count(0)
        task.refresh_from_db()
        assert (task.status, task.notes) == ("in_progress", "Redlines due Friday")
    finally:
        one.close()
        two.close()


def test_ticking_a_dependency_saves_it_and_updates_the_summary(page, live_server):
    from plans.models import Milestone

    call_command("seed_demo")
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Acme Corp — Finance automation").click()
    legal = Milestone.objects.get(title="Legal review complete")
    head = page.locator(f"#milestone-{legal.pk}")
    head.locator("details.deps summary").click()
    head.get_by_label("1. Technical validation complete").check()
    expect(head.locator(".saved")).to_be_visible()
    expect(head.locator("details.deps summary")).to_contain_text("1. Technical validation complete")
    assert legal.depends_on.filter(title="Technical validation complete").exists()


def test_enter_in_a_title_saves_it_once_and_starts_no_new_line(page, live_server):
    call_command("seed_demo")
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Acme Corp — Finance automation").click()
    task = Task.objects.get(title="Review security documentation")
    row = page.locator(f"#task-{task.pk}")
    title = row.get_by_label("Action 2.2")
    title.fill("Review the security pack")
    title.press("Enter")
    expect(row.locator("input[name=version]")).to_have_value(str(task.version + 1))
    expect(title).to_have_value("Review the security pack")  # no line break typed
    expect(title).to_be_focused()
    title.press("Tab")  # leaving the field sends nothing more
    page.wait_for_timeout(500)
    expect(row.locator("input[name=version]")).to_have_value(str(task.version + 1))
    fresh = Task.objects.get(pk=task.pk)
    assert (fresh.title, fresh.version) == ("Review the security pack", task.version + 1)
