"""What a person sees at the sizes they use, measured in the browser, in French and English:
the bills list on a 390x844 phone (filters folded behind one button, a date column, phone numbers
and references whole, badges inside the card) and, at 1366x768, the Staff page's actions without
sideways scrolling and the French menu on one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_accessibility import WAIT, choose_language, sign_in
from tests.conftest import WebClient
from tests.http.test_bills import issue
from tests.http.test_two_factor import enrol

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
PAYERS = ["79123456", "nkurunziza.jean-baptiste@gmail.com", "68123456", "clientmail@gmail.com"]

# How many lines an element's visible text takes (the distinct tops of its text's rectangles;
# text only for screen readers, clipped to a pixel, is left out).
LINES = """el => {
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), tops = new Set();
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest(".visually-hidden") || parent.getBoundingClientRect().width <= 1) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));
  }
  return tops.size; }"""
NO_SIDEWAYS_SCROLL = "() => document.scrollingElement.scrollWidth <= window.innerWidth"


def _bills(server: LiveServer) -> None:
    web = WebClient(server.app.test_client())
    web.login("cashier@example.com")
    for number, payer in enumerate(PAYERS, start=1):
        kind = "phone" if payer.isdigit() else "email"
        # The long address is nobody's at iHela: that bill is listed as refused.
        issue(web, payer=payer, payer_kind=kind, amount=str(1_250_000 * number))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_bills_list_on_a_phone(
    page: Page,
    live_server: LiveServer,
    staff: dict[str, User],
    sandbox: Any,
    lang: str,
    tmp_path: Path,
) -> None:
    _bills(live_server)
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/login")
    choose_language(page, lang)
    sign_in(page, live_server, "cashier@example.com")
    page.goto(live_server.url + "/bills/")
    rows = page.locator("[data-testid=bills] tbody tr")
    expect(rows).to_have_count(len(PAYERS), timeout=WAIT)
    page.screenshot(path=str(tmp_path / f"bills-phone-{lang}.png"), full_page=True)

    # The filters fold behind one button; the keyboard opens them.
    filters, toggle = page.get_by_test_id("bill-filters"), page.get_by_test_id("filters-toggle")
    expect(filters).to_be_hidden(timeout=WAIT)
    expect(toggle).to_have_text("Filtres" if lang == "fr" else "Filters", timeout=WAIT)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # A date on every row, in its own column.
    expect(page.locator("[data-testid=bills] thead th").first).to_have_text(
        "Émise le" if lang == "fr" else "Issued", timeout=WAIT
    )
    for issued in page.get_by_test_id("issued").all():
        expect(issued).to_be_visible(timeout=WAIT)
        expect(issued).to_contain_text("26", timeout=WAIT)

    # Phone numbers and references each on one line, all of them on the screen.
    for selector in ["[data-testid=payer]:visible", "[data-testid=bills] code"]:
        for element in page.locator(selector).all():
            assert element.evaluate(LINES) == 1, element.inner_text()
            box = element.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"], box
    phone_numbers = page.locator("[data-testid=payer]:visible").filter(has_text="123456")
    expect(phone_numbers).to_have_count(2, timeout=WAIT)

    # Amounts and status badges inside the list's card: nothing hidden to the right.
    card = page.locator("[data-list-poll]")
    assert card.evaluate("el => el.scrollWidth <= el.clientWidth")
    card_box = card.bounding_box()
    assert card_box is not None
    badges = page.locator("[data-testid=bills] .badge")
    expect(badges).to_have_count(len(PAYERS), timeout=WAIT)
    for badge in [*badges.all(), *page.get_by_test_id("amount-phone").all()]:
        expect(badge).to_be_visible(timeout=WAIT)
        box = badge.bounding_box()
        assert box is not None and box["x"] + box["width"] <= card_box["x"] + card_box["width"]

    toggle.focus()
    page.keyboard.press("Enter")
    expect(filters).to_be_visible(timeout=WAIT)
    expect(toggle).to_have_attribute("aria-expanded", "true", timeout=WAIT)
    page.screenshot(path=str(tmp_path / f"bills-phone-filters-{lang}.png"), full_page=True)
    page.locator("#q").fill("68123456", timeout=WAIT)
    page.locator("#q").press("Enter", timeout=WAIT)
    expect(rows).to_have_count(1, timeout=WAIT)
    expect(toggle).to_contain_text("1", timeout=WAIT)  # one filter in use, said on the button
    assert page.evaluate(NO_SIDEWAYS_SCROLL)


def test_without_javascript_the_filters_stay_open(
    browser: Browser, live_server: LiveServer, staff: dict[str, User]
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="en-GB")
    try:
        page = context.new_page()
        sign_in(page, live_server, "cashier@example.com")
        page.goto(live_server.url + "/bills/")
        expect(page.get_by_test_id("bill-filters")).to_be_visible(timeout=WAIT)
        expect(page.get_by_test_id("filters-toggle")).to_be_hidden(timeout=WAIT)
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_staff_page_and_menu_at_1366(
    page: Page, live_server: LiveServer, staff: dict[str, User], lang: str, tmp_path: Path
) -> None:
    enrol(live_server.app, "accountant2@example.com")  # a row with "Reset two-factor" too
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/login")
    choose_language(page, lang)
    sign_in(page, live_server, "admin@example.com")
    page.goto(live_server.url + "/admin/users")
    expect(page.locator("[data-testid=users] tbody tr")).to_have_count(len(staff), timeout=WAIT)
    page.screenshot(path=str(tmp_path / f"staff-1366-{lang}.png"))

    # The menu on one line: every entry on the same row, none broken in two.
    items = page.locator(
        ".navbar-brand, .navbar .nav-link, [data-testid=signed-in], "
        "[data-testid=language-switch] button, .navbar form .btn"
    )
    tops = {round(box["y"] + box["height"] / 2) for box in _boxes(items)}
    assert max(tops) - min(tops) <= 4, tops
    for item in items.all():
        assert item.evaluate(LINES) == 1, item.inner_text()
    navbar = page.locator(".navbar").bounding_box()
    brand = page.locator(".navbar-brand").bounding_box()
    assert navbar is not None and brand is not None
    assert navbar["height"] <= brand["height"] + 2 * 8 + 2, (navbar, brand)  # one row + padding

    # Every person's actions within the screen, without scrolling sideways.
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    scroller = page.get_by_test_id("users-scroll")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth")
    for details in page.locator("[data-testid=users] details").all():
        details.locator("summary").click(timeout=WAIT)  # the new-password form, opened
    actions = page.locator("[data-testid=users] button, [data-testid=users] input:visible")
    expect(actions.first).to_be_visible(timeout=WAIT)
    for box in _boxes(actions):
        assert box["x"] >= 0 and box["x"] + box["width"] <= DESKTOP["width"], box
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth")
    page.screenshot(path=str(tmp_path / f"staff-1366-open-{lang}.png"))


def _boxes(locator: Any) -> list[dict[str, float]]:
    boxes = [element.bounding_box() for element in locator.all()]
    assert boxes and all(box is not None for box in boxes)
    return [box for box in boxes if box is not None]


@pytest.mark.parametrize(
    ("email", "path", "table"),
    [
        ("admin@example.com", "/admin/users", "users"),
        ("accountant@example.com", "/cashins/approvals", "approvals"),
    ],
)
def test_wide_tables_on_a_phone_scroll_inside_their_box(
    browser: Browser,
    live_server: LiveServer,
    staff: dict[str, User],
    email: str,
    path: str,
    table: str,
) -> None:
    """A table wider than the phone scrolls in its own box; the page itself never sideways (a
    heading read only by screen readers, in the last column, used to stretch the page)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
    try:
        page = context.new_page()
        sign_in(page, live_server, email)
        page.goto(live_server.url + path)
        scroller = page.locator(".table-responsive").filter(has=page.get_by_test_id(table))
        expect(scroller).to_be_visible(timeout=WAIT)
        assert scroller.evaluate("el => el.scrollWidth > el.clientWidth")  # wider than the phone
        assert page.evaluate("() => window.innerWidth") == PHONE["width"]  # not zoomed out
        assert page.evaluate(NO_SIDEWAYS_SCROLL)
    finally:
        context.close()
