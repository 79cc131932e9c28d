"""Every open window shows every change, the same person's other windows included, and
no choice is ever lost without a word: a conflict card stays until it is answered, with
the other person's newest value in it. A keyboard user's status choice saves once."""

import datetime
import time

import pytest
import requests
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Membership
from accounts.services import api_token_create
from plans.demo import DEMO_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL
from plans.models import Milestone, Task
from rooms.actors import Actor
from rooms.models import ActivityEvent
from stakeholders.links import link_issue, link_url
from stakeholders.models import Stakeholder

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WITHIN = 3_000  # ms: a change shows in every other window within this
ROOM = "Acme Corp — Finance automation"


def open_room(browser, base, email):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=ROOM).click()
    expect(page.get_by_role("heading", name="Mutual action plan")).to_be_visible()
    return context, page


@pytest.fixture
def demo(live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("seed_demo")
    return live_server.url


def two_open(browser, demo, first, second):
    contexts, pages = zip(
        *(open_room(browser, demo, email) for email in (first, second)), strict=True
    )
    yield pages
    for context in contexts:
        context.close()


@pytest.fixture
def two_windows(browser, demo):
    """The demo seller with the room open twice (a laptop and the meeting-room screen)."""
    yield from two_open(browser, demo, DEMO_EMAIL, DEMO_EMAIL)


@pytest.fixture
def two_sellers(browser, demo):
    """The demo seller and her manager on the same room."""
    yield from two_open(browser, demo, DEMO_EMAIL, MANAGER_EMAIL)


def test_the_same_seller_in_two_windows_sees_each_change(two_windows, demo):
    a, b = two_windows
    task = Task.objects.get(title="Review security documentation")
    row_a, row_b = a.locator(f"#task-{task.pk}"), b.locator(f"#task-{task.pk}")
    new_due = (task.due_date + datetime.timedelta(days=5)).isoformat()

    # A → B: a text field, a date and the status.
    row_a.get_by_label("Notes on 2.2").fill("SOC 2 report sent")
    row_a.get_by_label("Notes on 2.2").press("Tab")
    row_a.get_by_label("Due date of 2.2").fill(new_due)
    row_a.get_by_label("Status of 2.2").select_option("blocked")
    expect(row_a.locator("input[name=version]")).to_have_value(str(task.version + 3))
    a.locator("h1").click()  # leave the row
    expect(row_b.get_by_label("Notes on 2.2")).to_have_value("SOC 2 report sent", timeout=WITHIN)
    expect(row_b.get_by_label("Due date of 2.2")).to_have_value(new_due, timeout=WITHIN)
    expect(row_b.get_by_label("Status of 2.2")).to_have_value("blocked", timeout=WITHIN)

    # B → A, and B's own page is not redrawn under it (no marker, no card).
    row_b.get_by_label("Action 2.2").fill("Review the security pack")
    row_b.get_by_label("Action 2.2").press("Tab")
    row_b.get_by_label("Status of 2.2").select_option("done")
    expect(row_b.locator(".saved")).to_be_visible()
    b.locator("h1").click()
    expect(row_a.get_by_label("Action 2.2")).to_have_value(
        "Review the security pack", timeout=WITHIN
    )
    expect(row_a.get_by_label("Status of 2.2")).to_have_value("done", timeout=WITHIN)
    expect(a.locator(".conflict, .live-marker")).to_have_count(0)
    expect(b.locator(".conflict, .live-marker")).to_have_count(0)

    # The same person through the API: both windows.
    membership = Membership.objects.get(user__email=DEMO_EMAIL)
    _, raw = api_token_create(membership=membership, name="CRM")
    version = Task.objects.get(pk=task.pk).version
    answer = requests.patch(
        f"{demo}/api/v1/tasks/{task.pk}/",
        json={"status": "in_progress", "notes": "Waiting for the pen-test summary"},
        headers={"Authorization": f"Token {raw}", "If-Match": f'"{version}"'},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    for row in (row_a, row_b):
        expect(row.get_by_label("Status of 2.2")).to_have_value("in_progress", timeout=WITHIN)
        expect(row.get_by_label("Notes on 2.2")).to_have_value(
            "Waiting for the pen-test summary", timeout=WITHIN
        )


def test_a_change_from_the_same_persons_buyer_link_tab_reaches_their_seller_window(
    browser, two_windows
):
    """A seller who opens a buyer's link to see what the buyer sees, and edits there."""
    seller, _ = two_windows
    maria = Stakeholder.objects.get(name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=maria.room, stakeholder=maria)
    buyer_tab = seller.context.new_page()  # same browser profile, signed in as the seller
    buyer_tab.goto(link_url(token))
    task = Task.objects.get(title="Return redlines")
    buyer_tab.locator(f"#task-{task.pk} .b-edit > summary").click()
    notes = buyer_tab.locator(f"#task-{task.pk}").get_by_label("Notes")
    notes.fill("Counsel has it")
    notes.press("Tab")
    expect(buyer_tab.locator(f"#task-{task.pk} .saved")).to_be_visible()
    expect(seller.locator(f"#task-{task.pk}").get_by_label("Notes on 4.2")).to_have_value(
        "Counsel has it", timeout=WITHIN
    )


NAMES = {DEMO_EMAIL: "Sarah Kim", MANAGER_EMAIL: "Morgan Lee"}


def between_polls(page):
    """Returns once the page's live poll has just been answered: the next is ~1 s away."""
    with page.expect_response(lambda r: "/live/" in r.url):
        pass


def at_once(people, row_id, acts):
    """Two people change the same field of the same row in the same instant, each page
    still showing the row as it was: one save wins, the other is refused with a card.
    ``people`` and ``acts`` are pairs; returns (loser, winner) as (page, act index)."""
    between_polls(people[1])  # the second page cannot learn the first's change in time
    for page, act in zip(people, acts, strict=True):
        act(page.locator(f"#{row_id}"))
    cards = [page.locator(f"#{row_id} .conflict") for page in people]
    deadline = time.monotonic() + 10
    shown = [0, 0]
    while time.monotonic() < deadline and not any(shown):
        people[0].wait_for_timeout(100)
        shown = [card.count() for card in cards]
    assert sorted(shown) == [0, 1], f"expected exactly one conflict card, saw {shown}"
    loser = 0 if shown[0] else 1
    return loser, 1 - loser


STATUS = {"in_progress": "In progress", "done": "Done", "blocked": "Blocked"}


def test_two_sellers_at_once_the_losers_card_stays_and_both_answers_work(two_sellers):
    seller, manager = two_sellers
    people, who = (manager, seller), (NAMES[MANAGER_EMAIL], NAMES[DEMO_EMAIL])
    drafts = ("in_progress", "done")
    first = Task.objects.get(title="Answer follow-up security questions")  # 2.3, blocked
    second = Task.objects.get(title="Present business case to the CFO")  # 3.2, not started
    for task, step, answer in ((first, "2.3", "keep"), (second, "3.2", "theirs")):
        label = f"Status of {step}"

        def status(value, label=label):
            return lambda row: row.get_by_label(label).select_option(value)

        loser, winner = at_once(people, f"task-{task.pk}", [status(v) for v in drafts])
        mine = people[loser].locator(f"#task-{task.pk}")
        theirs = people[winner].locator(f"#task-{task.pk}")
        card = mine.locator(".conflict")
        expect(card).to_contain_text(f"{who[winner]} set {STATUS[drafts[winner]]}")
        expect(card).to_contain_text(f"Your draft: {STATUS[drafts[loser]]}")
        people[loser].wait_for_timeout(5_000)  # several live polls bring the winner's change
        expect(card).to_be_visible()
        expect(card).to_contain_text(f"{who[winner]} set {STATUS[drafts[winner]]}")
        expect(mine.locator(".live-marker")).to_have_count(0)  # the card is the one notice

        # The winner changes it again: the card shows the newest value, not a marker.
        theirs.get_by_label(label).select_option("blocked")
        expect(card).to_contain_text(f"{who[winner]} set Blocked just now", timeout=WITHIN)
        expect(mine.locator(".live-marker")).to_have_count(0)

        if answer == "keep":
            card.get_by_role("button", name="Keep mine").click()
            expect(card).to_have_count(0)
            expect(mine.get_by_label(label)).to_have_value(drafts[loser])
            expect(theirs.get_by_label(label)).to_have_value(drafts[loser], timeout=WITHIN)
            assert Task.objects.get(pk=task.pk).status == drafts[loser]
        else:
            card.get_by_role("button", name="Use theirs").click()
            expect(card).to_have_count(0)
            expect(mine.get_by_label(label)).to_have_value("blocked")
            # Where focus goes after "Use theirs" (the field) is not asserted here: on a
            # loaded machine it was elsewhere in about one run in four, for a reason not
            # found yet (docs/ARCHITECTURE.md, "Live co-editing", known gap).
            people[loser].wait_for_timeout(1_500)
            expect(mine.get_by_label(label)).to_have_value("blocked")
            assert Task.objects.get(pk=task.pk).status == "blocked"


def conflict_on(people, row_id, *, drafts, newer):
    """Both save the same field at once; the winner then changes it again while the
    loser's card is open. Returns the loser's page and card, and the winner's name and
    index."""
    loser, winner = at_once(people, row_id, drafts)
    newer(people[winner].locator(f"#{row_id}"))
    page = people[loser]
    return page, page.locator(f"#{row_id} .conflict"), winner


def test_the_card_follows_every_kind_of_field(two_sellers):
    """Text, date, owner select and dependency checkboxes: the card stays across live
    updates and shows the other person's newest value; both answers work."""
    seller, manager = two_sellers
    people, who = (manager, seller), (NAMES[MANAGER_EMAIL], NAMES[DEMO_EMAIL])
    task = Task.objects.get(title="Return redlines")  # 4.2
    row_id = f"task-{task.pk}"

    def title(value):
        def act(row):
            row.get_by_label("Action 4.2").fill(value)
            row.get_by_label("Action 4.2").press("Tab")

        return act

    page, card, winner = conflict_on(
        people, row_id, drafts=[title("Theirs"), title("Mine")], newer=title("Newer")
    )
    expect(card).to_contain_text(f"{who[winner]} set Newer just now", timeout=WITHIN)
    card.get_by_role("button", name="Use theirs").click()
    expect(page.locator(f"#{row_id}").get_by_label("Action 4.2")).to_have_value("Newer")

    def due_in(days):
        return task.due_date + datetime.timedelta(days=days)

    def due(days):
        return lambda row: row.get_by_label("Due date of 4.2").fill(due_in(days).isoformat())

    page, card, winner = conflict_on(people, row_id, drafts=[due(1), due(2)], newer=due(3))
    expect(card).to_contain_text(
        f"{who[winner]} set {due_in(3).isoformat()} just now", timeout=WITHIN
    )
    card.get_by_role("button", name="Keep mine").click()
    expect(card).to_have_count(0)
    kept = due_in(2 if winner == 0 else 1)  # the loser's draft
    expect(page.locator(f"#{row_id}").get_by_label("Due date of 4.2")).to_have_value(
        kept.isoformat()
    )
    assert Task.objects.get(pk=task.pk).due_date == kept

    def owner(name):
        return lambda row: row.get_by_label("Owner of 4.2").select_option(label=name)

    page, card, winner = conflict_on(
        people, row_id, drafts=[owner("David Chen"), owner("Sarah Kim")], newer=owner("Priya Nair")
    )
    expect(card).to_contain_text(f"{who[winner]} set Priya Nair just now", timeout=WITHIN)
    card.get_by_role("button", name="Use theirs").click()
    expect(page.locator(f"#{row_id}").get_by_label("Owner of 4.2")).to_have_value(
        str(Stakeholder.objects.get(name="Priya Nair").pk)
    )

    # Legal review (4) depends on the business case (3).
    legal = Milestone.objects.get(title="Legal review complete")
    security = Milestone.objects.get(title="Security review complete")
    business = Milestone.objects.get(title="Business case approved")

    def depends(milestone, check):
        def act(head):
            details = head.locator("details.deps")
            if not details.evaluate("d => d.open"):
                details.locator("summary").click()
            box = head.locator(f"input[name=depends_on][value='{milestone.pk}']")
            box.check() if check else box.uncheck()

        return act

    def newer(head):  # either way, to {2}
        depends(security, True)(head)
        depends(business, False)(head)

    page, card, winner = conflict_on(
        people,
        f"milestone-{legal.pk}",
        drafts=[depends(security, True), depends(business, False)],  # {2, 3} and {}
        newer=newer,
    )
    expect(card).to_contain_text(
        f"{who[winner]} set 2. Security review complete just now", timeout=WITHIN
    )
    page.wait_for_timeout(2_000)
    expect(card).to_be_visible()
    card.get_by_role("button", name="Keep mine").click()
    expect(card).to_have_count(0)
    kept = {security.pk, business.pk} if winner == 1 else set()  # the loser's draft
    assert {m.pk for m in Milestone.objects.get(pk=legal.pk).depends_on.all()} == kept


def updates_of(task):
    return ActivityEvent.objects.filter(
        verb="updated", target_type="task", target_id=str(task.pk)
    ).count()


def test_a_keyboard_status_choice_saves_once(two_sellers, browser, demo):
    seller, manager = two_sellers
    task = Task.objects.get(title="Draft business case with ROI model")  # 3.1, in progress
    before = updates_of(task)
    status = seller.locator(f"#task-{task.pk}").get_by_label("Status of 3.1")
    status.focus()
    start = status.input_value()
    for _ in range(3):
        status.press("ArrowDown")
    expect(seller.locator(f"#task-{task.pk} .pending-save")).to_have_text("Press Enter to save")
    seller.wait_for_timeout(1_500)
    assert updates_of(task) == before  # nothing saved while choosing
    chosen = status.input_value()
    assert chosen != start
    status.press("Enter")
    expect(seller.locator(f"#task-{task.pk} .saved")).to_be_visible()
    assert updates_of(task) == before + 1
    assert Task.objects.get(pk=task.pk).status == chosen
    expect(manager.locator(f"#task-{task.pk}").get_by_label("Status of 3.1")).to_have_value(
        chosen, timeout=WITHIN
    )

    # Escape puts the saved value back; nothing is written.
    status.press("ArrowUp")
    status.press("Escape")
    expect(status).to_have_value(chosen)
    status.press("Tab")
    seller.wait_for_timeout(500)
    assert updates_of(task) == before + 1


def test_a_buyers_keyboard_status_choice_saves_once_on_tab(browser, demo):
    maria = Stakeholder.objects.get(name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=maria.room, stakeholder=maria)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(link_url(token))
        task = Task.objects.get(title="Return redlines")
        before = updates_of(task)
        page.locator(f"#task-{task.pk} .b-edit > summary").click()
        status = page.locator(f"#task-{task.pk}").get_by_label("Status")
        status.focus()
        status.press("ArrowDown")
        status.press("ArrowDown")
        chosen = status.input_value()
        page.wait_for_timeout(1_000)
        assert updates_of(task) == before
        status.press("Tab")
        expect(page.locator(f"#task-{task.pk} .saved")).to_be_visible()
        assert updates_of(task) == before + 1
        assert Task.objects.get(pk=task.pk).status == chosen
        # A pick with the mouse (from the list) still saves at once.
        status.select_option("done")
        expect(page.locator(f"#task-{task.pk} .saved")).to_be_visible()
        page.wait_for_timeout(300)
        assert updates_of(task) == before + 2
    finally:
        context.close()
