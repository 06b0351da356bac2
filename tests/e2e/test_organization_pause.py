"""An admin stops all dialing from the organization page, in the browser, on a desktop and on a phone.

The stop needs a ticked box, not a script's dialog: the browser itself refuses the form until it
is ticked (the page runs no inline script under the Content-Security-Policy).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import AuditEvent, Organization
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HTTP_STATUS_NOTE = "Failed to load resource: the server responded with a status of"  # not a script error


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_pauses_all_dialing_and_sees_it(width, live_server, page: Page, org, owner) -> None:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and not msg.text.startswith(HTTP_STATUS_NOTE)
            else None
        ),
    )
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, "olivia")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Organization").click()
    expect(page.get_by_role("heading", name="Organization", level=1)).to_be_visible()
    state = page.locator("#dialing-state")
    expect(state).to_contain_text("Dialing is on.")
    shoot(page, "organization")

    pause = page.get_by_role("button", name="Pause all dialing")
    pause.click()  # not ticked: the browser keeps the form
    confirm = page.get_by_label("Yes, stop every campaign from placing calls now")
    assert confirm.evaluate("box => box.validity.valueMissing")
    expect(state).to_contain_text("Dialing is on.")
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is None

    confirm.check()
    pause.click()

    expect(page.locator(".messages")).to_contain_text("All dialing is paused")
    expect(state).to_have_text(re.compile(r"All dialing paused since \d+ \w+ \d\d:\d\d UTC by olivia\."))
    expect(page.get_by_role("button", name="Resume all dialing")).to_be_visible()
    expect(page.locator("table.history")).to_contain_text("Paused all dialing")
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is not None
    assert AuditEvent.objects.filter(action="organization.pause", actor=owner).count() == 1
    shoot(page, "organization-paused")
    assert problems == [], problems
