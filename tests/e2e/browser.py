"""What the browser tests share: logging in, full-page screenshots at two widths, page checks."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SCREENSHOTS

PASSWORD = "correct horse battery"  # tests/conftest.py gives every persona this one
WIDTHS = (1280, 390)

# Every visible form control must have an accessible name; the page has one main and one h1.
_BASICS = """() => {
  const unnamed = [];
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    if (el.type === 'hidden' || el.closest('[hidden]') || el.offsetParent === null) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label') ||
                  el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
    if (!named) unnamed.push(el.outerHTML.slice(0, 80));
  }
  return {unnamed, mains: document.querySelectorAll('main').length,
          h1s: document.querySelectorAll('h1').length,
          skip: !!document.querySelector('a.skip-link[href="#main"]'),
          width: document.documentElement.scrollWidth};
}"""


# The deepest elements that stick out of the viewport, to say what to fix.
_WIDEST = """(width) => [...document.querySelectorAll('main *')]
  .filter(el => el.getBoundingClientRect().right > width + 1 && el.children.length === 0)
  .slice(0, 5).map(el => el.outerHTML.slice(0, 120)).join(' | ')"""


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()


def check_page(page: Page) -> None:
    """Landmarks, one heading, labelled controls, and no sideways scrolling at the current width."""
    facts = page.evaluate(_BASICS)
    assert facts["unnamed"] == [], facts["unnamed"]
    assert facts["mains"] == 1 and facts["h1s"] == 1 and facts["skip"], facts
    width = page.viewport_size["width"]
    assert facts["width"] <= width, (
        f"the page scrolls sideways at {width} px ({facts['width']} px wide): "
        + page.evaluate(_WIDEST, width)
    )


def shoot(page: Page, name: str) -> None:
    """Full-page screenshots at 1280 and 390 px in test-artifacts/screenshots/, checking the page at each."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.wait_for_timeout(100)  # let the layout settle
        check_page(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size(before)
