"""Seller pages on a phone and on a laptop, as a seller sees them: on a 390 px phone the
room list, the documents and the stakeholder map read as cards whose every field (Target
close, Owner, ...) is on screen, and the dashboard's wide table scrolls inside its own
box; on a laptop the room list is still a table, and the plan shows every field's whole
value (nothing cut off, empty fields visible, badges inside their cell)."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from rooms.models import Room

from .test_plan_editor import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def seller(browser, live_server):
    call_command("seed_demo")
    room = Room.objects.get(buyer_company="Acme Corp")
    contexts = []

    def open_at(width):
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        sign_in(page, live_server.url)
        return page

    yield open_at, room, live_server.url
    for context in contexts:
        context.close()


def assert_on_screen(locator, width, what):
    box = locator.bounding_box()
    assert box is not None, f"{what} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{what} is off screen: {box}"


def column_label(cell):
    """The column name a card shows beside a cell (the cell's ::before)."""
    return cell.evaluate("(td) => getComputedStyle(td, '::before').content")


def test_on_a_phone_tables_read_as_cards_with_every_field_on_screen(seller):
    open_at, room, base = seller
    page = open_at(390)

    page.goto(f"{base}{reverse('rooms:list')}?show=all")
    rows = page.locator("table.list tbody tr")
    assert rows.count() >= 5
    for i in range(rows.count()):
        row = rows.nth(i)
        deal = row.locator("td").first.inner_text().splitlines()[0]
        for name in ("Target close", "Owner"):
            cell = row.locator(f'td[data-label="{name}"]')
            expect(cell).not_to_be_empty()
            assert_on_screen(cell, 390, f"{name} of {deal}")
            assert name in column_label(cell)
    assert page.evaluate(SIDEWAYS) == 0

    page.goto(f"{base}{reverse('plans:room', args=[room.pk])}")
    documents = page.locator("table.documents tbody tr")
    expect(documents.first).to_be_visible()
    for i in range(documents.count()):
        row = documents.nth(i)
        assert_on_screen(row.get_by_role("link").first, 390, "the document's name")
        for name in ("Milestone", "Shared by", "Opened by the buyer's side"):
            cell = row.locator(f'td[data-label="{name}"]')
            assert_on_screen(cell, 390, name)
            assert name in column_label(cell)
        assert_on_screen(row.get_by_role("button", name="Delete"), 390, "the delete button")

    people = page.locator("#stakeholders form.sheet-row")
    assert people.count() >= 4
    for i in range(people.count()):
        person = people.nth(i)
        for field in ("name", "email", "title", "side", "role", "influence", "track"):
            assert_on_screen(
                person.locator(f"[name={field}]"), 390, f"stakeholder {i + 1}'s {field}"
            )
        assert_on_screen(
            person.locator('[data-label="Access"]'), 390, f"stakeholder {i + 1}'s access"
        )
    # Each field says what it is, since the column heads are hidden on a phone.
    expect(page.locator("#stakeholders .sheet-head")).to_be_hidden()
    role_label = people.first.locator('[data-label="Role"]').evaluate(
        "(d) => getComputedStyle(d, '::before').content"
    )
    assert "Role" in role_label
    assert page.evaluate(SIDEWAYS) == 0

    page.goto(f"{base}{reverse('dashboard:index')}")
    box = page.get_by_role("region", name="Open rooms")
    expect(box).to_have_attribute("tabindex", "0")
    expect(page.get_by_text("Scroll sideways for more columns")).to_be_visible()
    assert box.evaluate("(e) => e.scrollWidth > e.clientWidth")  # it scrolls inside its box...
    assert page.evaluate(SIDEWAYS) == 0  # ...and the page does not
    box.focus()  # a keyboard user can scroll it
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('[role=region].dash-scroll').scrollLeft > 0"
    )


def test_on_a_laptop_the_room_list_is_a_table(seller):
    open_at, _, base = seller
    page = open_at(1366)
    page.goto(f"{base}{reverse('rooms:list')}?show=all")
    for name in ("Deal", "Buyer", "Value", "Stage", "Target close", "Owner"):
        expect(page.get_by_role("columnheader", name=name)).to_be_visible()
    assert (
        page.locator("table.list tbody tr").first.evaluate("(tr) => getComputedStyle(tr).display")
        == "table-row"
    )
    assert column_label(page.locator('table.list td[data-label="Owner"]').first) in (
        "none",
        "normal",
    )


# Text fields (and textareas) whose value is wider or taller than their box, and selects
# too narrow for the option they show.
CLIPPED = """(scope) => {
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre';
  document.body.appendChild(probe);
  const out = [];
  const fields = ':is(input[type=text], input[type=email], textarea, select)';
  for (const e of document.querySelectorAll(`${scope} ${fields}`)) {
    const r = e.getBoundingClientRect();
    if (!r.width) continue;
    let cut = e.scrollWidth > e.clientWidth + 1
      || (e.tagName === 'TEXTAREA' && e.scrollHeight > e.clientHeight + 1);
    if (e.tagName === 'SELECT' && e.selectedIndex >= 0) {
      const s = getComputedStyle(e);
      probe.style.font = s.font;
      probe.style.letterSpacing = s.letterSpacing;
      probe.textContent = e.options[e.selectedIndex].text;
      const room = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 16;
      cut = probe.getBoundingClientRect().width > room;
    }
    const shown = e.tagName === 'SELECT' ? e.options[e.selectedIndex].text : e.value;
    if (cut) out.push(`${e.id || e.name}: ${shown.slice(0, 40)}`);
  }
  probe.remove();
  return out;
}"""


def test_on_a_laptop_the_seller_room_shows_every_field_whole(seller):
    open_at, room, base = seller
    page = open_at(1366)
    page.goto(f"{base}{reverse('plans:room', args=[room.pk])}")
    expect(page.locator("#plan .task-row").first).to_be_visible()

    assert page.evaluate(CLIPPED, "#plan") == []
    assert page.evaluate(CLIPPED, "#stakeholders") == []
    assert page.evaluate(SIDEWAYS) == 0

    # An empty field is visible: a border and a word on what goes in it.
    empty = page.locator("#plan textarea[name=notes]:placeholder-shown").first
    expect(empty).to_have_attribute("placeholder", "Add notes…")
    style = empty.evaluate(
        "(e) => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).borderTopColor]"
    )
    assert style[0] != "none" and style[1] not in ("transparent", "rgba(0, 0, 0, 0)"), style

    # Badges (overdue, flagged, changed since agreed...) stay inside their cell.
    spilled = page.evaluate(
        """() => [...document.querySelectorAll('#plan .row-meta .badge')].filter((b) => {
            const cell = b.closest('.cell, .milestone-extra').getBoundingClientRect();
            const r = b.getBoundingClientRect();
            return r.left < cell.left - 1 || r.right > cell.right + 1;
        }).map((b) => b.textContent.trim())"""
    )
    assert page.locator("#plan .row-meta .badge").count() > 0
    assert spilled == []
