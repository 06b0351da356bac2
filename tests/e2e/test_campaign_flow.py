"""A manager's day, in a real browser against a live server, with a real Celery worker and beat dialing.

Build a campaign from a CSV with two bad rows (the preview shows both; fix them;
save), start it, watch the counters move without reloading until it ends,
export its customers; pause and resume another campaign.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Campaign, Customer
from tests.conftest import customers
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CSV = (
    "number,name,email,plan\n"
    "+14155550101,Ada Lovelace,ada@example.com,gold\n"
    "4155550102,Bob Bad,,silver\n"  # line 3: no country code
    "+14155550103,Cy Young,,\n"
    "+14155550104,Di Prince,,gold\n"
    "+1415555010x,Ed Typo,,\n"  # line 6: a letter in the number
    "+14155550106,Flo Jo,,\n"
    "+14155550107,Gus Grand,,\n"
    "+14155550108,Hal Nine,,\n"
)
FAST = {
    "respect_recipient_time_zone": False,
    "max_concurrent_calls": 2,
    "max_attempts": 2,
    "retry_delays": {"busy": 1, "noAnswer": 1, "voicemail": 1, "failed": 1},
    "auto_start": False,
}


@contextmanager
def explained(campaign: Campaign, processes) -> Iterator[None]:  # noqa: ANN001
    """When a wait on the dialer fails, print what it left behind and what the worker and beat logged."""
    try:
        yield
    except AssertionError:
        campaign.refresh_from_db()
        customers = list(campaign.customers.values_list("number", "state", "attempts", "reason"))
        calls = list(campaign.calls.values_list("customer__number", "attempt", "status", "ended_reason"))
        alive = [proc.poll() is None for proc, _ in processes.running]
        print(f"\n{campaign.status=} {campaign.waiting_reason=}\n{customers=}\n{calls=}\n{alive=}\n")
        print(processes.logs())
        raise


def counter(page: Page, name: str) -> int:
    return int(page.locator(f'[data-counter="{name}"]').inner_text().replace(",", ""))


def test_a_manager_builds_a_campaign_from_a_csv_starts_it_and_watches_it_to_the_end(
    live_server, page: Page, celery_processes, org, manager, caller_id
) -> None:
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    org.time_zone = "Europe/Paris"
    org.save()
    page.on("dialog", lambda dialog: dialog.accept())  # hx-confirm

    log_in(page, live_server.url, "manny")
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("Spring renewals")
    page.get_by_label("Voice agent id").fill("asst-e2e")
    page.get_by_label("Caller ID to call from").select_option(str(caller_id.pk))
    page.get_by_label("Upload a CSV file", exact=True).set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_label("Respect each callee's local time").uncheck()
    page.get_by_label("Attempts per customer").fill("2")
    page.get_by_label("Calls at the same time").fill("4")
    for outcome in ("busy", "no answer", "voicemail", "failed"):
        page.get_by_label(f"After {outcome} (minutes)").fill("0")
    page.get_by_role("button", name="Save campaign").click()

    # 1. The preview names both bad rows by line, and nothing is saved.
    expect(page.locator('tr[data-line="3"]')).to_contain_text(
        "Phone number: must be a full international number"
    )
    expect(page.locator('tr[data-line="6"]')).to_contain_text("+1415555010x")
    expect(page.locator(".preview-summary")).to_contain_text("8 rows read: 6 ready, 2 bad")
    assert not Campaign.objects.exists()
    shoot(page, "builder-preview")

    # 2. Fix them where they are, save.
    box = page.get_by_label("…or paste CSV rows", exact=True)
    fixed = (
        box.input_value()
        .replace("4155550102,Bob", "+14155550102,Bob")
        .replace("+1415555010x", "+14155550105")
    )
    box.fill(fixed)
    page.get_by_role("button", name="Save campaign").click()
    expect(page.locator("#campaign-status h1")).to_have_text("Spring renewals")
    expect(page.locator("#campaign-status .badge")).to_have_text("Scheduled")
    campaign = Campaign.objects.get()
    assert campaign.customers_total == 8 and campaign.auto_start is False and campaign.max_attempts == 2
    shoot(page, "campaign-scheduled")

    # 3. Start it; the counters move by themselves, without a reload, until it ends.
    page.evaluate("window.__sameDocument = true")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("In progress")
    with explained(campaign, celery_processes):
        expect(page.locator('[data-counter="calls_ended"]')).not_to_have_text("0", timeout=30_000)
    shoot(page, "campaign-running")
    with explained(campaign, celery_processes):
        expect(page.locator("#campaign-status .badge")).to_have_text("Ended", timeout=90_000)
    expect(page.locator("#campaign-counters .progress-text")).to_contain_text("8 of 8 called")
    assert page.evaluate("window.__sameDocument") is True, "the page reloaded"
    campaign.refresh_from_db()
    assert campaign.status == "ended" and campaign.ended_reason == "campaign.ended.success"
    expect(page.locator('[data-counter="calls_ended"]')).to_have_text(str(campaign.calls_ended))
    assert page.get_by_role("button", name="Pause").count() == 0
    shoot(page, "campaign-ended")

    # 4. Export its customers with their outcomes.
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").first.click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert [r["number"] for r in rows] == [f"+1415555010{i}" for i in range(1, 9)]
    assert {r["state"] for r in rows} <= {"completed", "voicemail", "failed", "skipped"}
    by_number = {r["number"]: r for r in rows}
    assert by_number["+14155550101"]["name"] == "Ada Lovelace"
    assert by_number["+14155550101"]["variables"] == '{"plan": "gold"}'
    stored = dict(Customer.objects.filter(campaign=campaign).values_list("number", "state"))
    assert {n: r["state"] for n, r in by_number.items()} == stored

    # 5. The customers, the calls, and one call's provider record.
    page.get_by_role("link", name="Open the customers page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Customers of Spring renewals")
    shoot(page, "campaign-customers")
    page.go_back()
    page.get_by_role("link", name="Open the calls page").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Calls of Spring renewals")
    page.locator(".calls details summary").first.click()
    expect(page.locator(".calls details[open] .call-log")).to_contain_text("Provider record")
    shoot(page, "campaign-calls")
    first_call = campaign.calls.order_by("-created_at").first()
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}/calls/{first_call.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"Call to \+1415555010\d"))
    shoot(page, "call")


def test_a_manager_pauses_and_resumes_another_campaign(
    live_server, page: Page, celery_processes, org, owner, manager, caller_id
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
            customers=customers(40),
            strategy=FAST,
        ),
    )
    services.campaign_start(campaign=campaign, by=owner)
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page, live_server.url, "manny")
    page.get_by_role("link", name="Autumn survey").click()
    with explained(campaign, celery_processes):
        expect(page.locator('[data-counter="calls_ended"]')).not_to_have_text("0", timeout=30_000)

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("Paused")
    expect(page.locator("#campaign-status")).to_contain_text("Paused: calls in progress finish")
    expect(page.locator("#campaign-waiting")).to_contain_text("Paused: calls under way finish")
    assert Campaign.objects.get(pk=campaign.pk).status == "paused"
    shoot(page, "campaign-paused")

    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("In progress")
    assert Campaign.objects.get(pk=campaign.pk).status == "in-progress"
    ended_before = counter(page, "calls_ended")
    with explained(campaign, celery_processes):
        expect(page.locator('[data-counter="calls_ended"]')).not_to_have_text(
            str(ended_before), timeout=30_000
        )

    page.locator(".confirm-end summary").click()  # End asks in the page, not in a browser box
    page.get_by_role("button", name="End the campaign").click()
    expect(page.locator("#campaign-status .badge")).to_have_text("Ended")
    assert Campaign.objects.get(pk=campaign.pk).ended_reason == "campaign.in-progress.ended-by-user"
