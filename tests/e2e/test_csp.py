"""Every page under the Content-Security-Policy, in a real browser: nothing refused, htmx still works.

The policy (config/settings.py, django-csp) allows our own origin only, inline
script or style only with the request's nonce, and no eval. Chromium reports
each refusal twice: a `securitypolicyviolation` event in the page and a console
error; both are collected across navigations and must stay empty.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign
from tests.conftest import customers
from tests.e2e.browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Runs before any script of every document: forwards each refusal to the test (the binding
# survives navigations, where a list kept in the page would not).
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.violatedDirective} refused ${e.blockedURI || "inline"} ` +
                        `at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""
HTTP_STATUS_NOTE = "Failed to load resource: the server responded with a status of"


@dataclass
class Refusals:
    violations: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_none(self) -> None:
        assert self.violations == [], self.violations
        assert self.console == [], self.console
        assert self.errors == [], self.errors


@pytest.fixture
def refusals(page: Page) -> Iterator[Refusals]:
    seen = Refusals()
    page.expose_binding("__cspViolation", lambda _source, text: seen.violations.append(text))
    page.add_init_script(_REPORT_VIOLATIONS)

    # Any console error counts: CSP refusals, and htmx's own (it logs a refused eval there too),
    # except the browser's note of an HTTP error status (the tests check the statuses they expect).
    def console(msg) -> None:  # noqa: ANN001
        if msg.type == "error" and not msg.text.startswith(HTTP_STATUS_NOTE):
            seen.console.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm
    yield seen


def polls(page: Page, path_part: str, *, seconds: float) -> int:
    """How many requests to a URL containing `path_part` the page sends in `seconds`."""
    sent: list[str] = []

    def count(request) -> None:  # noqa: ANN001
        if path_part in request.url:
            sent.append(request.url)

    page.on("request", count)
    page.wait_for_timeout(seconds * 1000)
    page.remove_listener("request", count)
    return len(sent)


def test_the_policy_is_enforced_and_a_refusal_is_seen(live_server, page: Page, refusals, owner) -> None:
    """The detector itself: an injected inline handler is refused by the browser and reported."""
    response = page.goto(f"{live_server.url}/accounts/login/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    page.evaluate(
        """document.body.insertAdjacentHTML("beforeend", '<img src="/x" onerror="document.title=1">')"""
    )
    page.wait_for_timeout(300)
    assert any("script-src" in v for v in refusals.violations), refusals.violations
    assert page.title() != "1"


def test_every_dashboard_page_works_under_the_policy(
    live_server, page: Page, refusals, org, owner, caller_id, make_campaign
) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550199", "asked on the phone")])
    make_campaign(3, name="Spring renewals", strategy={"auto_start": False})

    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    log_in(page, live_server.url, "olivia")

    # Campaign list: the search is an htmx request on typing.
    page.get_by_label("Search by name").fill("autumn")
    expect(page.locator("#campaign-rows")).to_contain_text("No campaign matches")
    page.get_by_label("Search by name").fill("")
    expect(page.locator("#campaign-rows")).to_contain_text("Spring renewals")

    # Builder: the dial-plan switch is CSS only.
    page.get_by_role("link", name="New campaign").click()
    expect(page.get_by_role("heading", name="New campaign")).to_be_visible()
    page.get_by_label("A dial plan: several caller IDs, each with its own customers").check()
    expect(page.locator("#dial-plan")).to_be_visible()

    # Do not call: a form post, an htmx search, an htmx-boosted remove behind hx-confirm.
    page.get_by_role("link", name="Do not call").click()
    page.get_by_label("Number", exact=True).fill("+1 212 555 0100")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Added to the list.")
    page.get_by_label("Search numbers and notes").fill("phone")
    expect(page.locator("#dnc-rows")).not_to_contain_text("+12125550100")
    page.get_by_role("button", name="Remove +14155550199").click()
    expect(page.locator(".messages")).to_contain_text("it may be called again")

    page.get_by_role("link", name="Caller IDs").click()
    expect(page.get_by_role("heading", name="Caller IDs", level=1)).to_be_visible()

    # Providers and API keys: the secret-once answers.
    page.get_by_role("link", name="Providers").click()
    page.get_by_label("Name").fill("Rehearsal")
    page.get_by_label("Vapi-compatible").check()  # the form's sections switch in CSS alone
    expect(page.get_by_label("Base URL")).to_be_visible()
    page.get_by_label("Simulated (no real calls)").check()
    expect(page.get_by_label("Base URL")).to_be_hidden()
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_test_id("webhook-url")).to_contain_text("/webhooks/simulated/")

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("api-key")).to_contain_text("dd_")

    page.get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()

    refusals.assert_none()


@pytest.mark.worker
def test_the_live_campaign_page_polls_and_refreshes_under_the_policy(
    live_server, page: Page, refusals, celery_processes, org, owner, caller_id
) -> None:
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    campaign = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Autumn survey",
            assistant_id="a",
            phone_number_id=str(caller_id.pk),
            customers=customers(200),  # still running when the checks below end
            strategy={"respect_recipient_time_zone": False, "max_concurrent_calls": 2, "auto_start": False},
        ),
    )
    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Autumn survey").click()

    # 1. Start through htmx (hx-post behind hx-confirm); the counters then move without a reload.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("In progress")
    expect(page.locator('[data-counter="calls_ended"]')).not_to_have_text("0", timeout=30_000)
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"

    # 2. Polling stops while the tab is hidden and resumes when it is visible again.
    assert polls(page, "/counters", seconds=4.5) >= 1
    page.evaluate(
        """Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true})"""
    )
    page.wait_for_timeout(500)  # a request already in flight may still land
    assert polls(page, "/counters", seconds=4.5) == 0
    page.evaluate("delete document.visibilityState")
    assert polls(page, "/counters", seconds=4.5) >= 1

    # 3. Pause through htmx; the calls log opens one call's record on toggle (hx-trigger="toggle once").
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("Paused")
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    page.get_by_role("link", name="Open the calls page").click()
    page.locator(".calls details summary").first.click()
    expect(page.locator(".calls details[open] .call-log")).to_contain_text("Provider record")

    refusals.assert_none()


def test_the_api_docs_and_the_django_admin_work_under_the_policy(live_server, page: Page, refusals) -> None:
    get_user_model().objects.create_superuser("root", "root@example.com", "correct horse battery")

    response = page.goto(f"{live_server.url}/api/docs")
    assert "'nonce-" in response.headers["content-security-policy"]
    # Swagger UI ran (its start-up script is inline, nonce'd) and fetched the schema from /api/schema.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Dialdeck API", timeout=15_000)
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    page.locator(".opblock-summary-path", has_text="/campaign").first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()  # a real request from the page
    expect(page.locator(".live-responses-table .response .response-col_status").first).to_have_text("401")

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto(f"{live_server.url}/admin/auth/user/")
    expect(page.locator("#changelist")).to_be_visible()
    # A form with the admin's scripted widget (the two-list permission picker) and a save.
    page.goto(f"{live_server.url}/admin/auth/group/add/")
    expect(page.locator("#id_permissions_filter")).to_be_visible()
    page.get_by_label("Name:").fill("Auditors")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    refusals.assert_none()
