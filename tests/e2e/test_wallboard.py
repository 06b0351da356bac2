"""«Dashboard: a wallboard a supervisor would trust», in Chromium at 1280 and 390 px.

The campaign's calls are moved by the real dialer code in this process (dispatch, the placement
claims, record_call_event), so the page is watched while calls start, live on after End, and end.
"""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from campaigns import services
from campaigns.models import Call, Campaign, PhoneNumber
from campaigns.services.inputs import TRANSCRIPT, CallEvent
from dialer import claims
from dialer.dispatch import dispatch_campaign
from tests.e2e.browser import log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ANY_TIME = {"respect_recipient_time_zone": False, "max_concurrent_calls": 2, "auto_start": False}


def placed(call: Call) -> Call:
    """The call through the placement steps, as if the provider had accepted it."""
    [taken] = claims.take([call.pk])
    [confirmed] = claims.confirm_at_gate([(taken, "POST /call", "{}")])
    claims.store_answers(answers=[], placed=[(confirmed, f"prov-{call.pk}")])
    return Call.objects.get(pk=call.pk)


def deliver(call: Call, status: str, **extra) -> None:
    event = CallEvent(kind="status-update", status=status, call_id=str(call.pk), **extra)
    services.record_call_event(account=call.provider_account, event=event)


def watch(page: Page) -> list[str]:
    """Console errors and native dialogs, which the page must not produce."""
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(f"{msg.text} ({msg.location.get('url')})") if msg.type == "error" else None
        ),
    )
    page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    return problems


def test_a_supervisor_watches_calls_finish_after_end_with_counters_that_read_right(
    live_server, page: Page, org, owner, make_campaign
) -> None:
    org.time_zone = "Europe/Paris"
    org.save()
    campaign = services.campaign_start(campaign=make_campaign(5, strategy=ANY_TIME), by=owner)
    assert dispatch_campaign(campaign, enqueue=lambda ids: None) == 2
    calls = [placed(call) for call in Call.objects.filter(campaign=campaign).order_by("created_at")]
    for call in calls:
        deliver(call, "in-progress")
    problems = watch(page)

    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    # 4. Customers apart from calls, with words a supervisor reads.
    expect(page.locator('[data-counter="customers_to_call"]')).to_have_text("5")
    expect(page.locator('[data-counter="calls_in_progress"]')).to_have_text("2")
    expect(page.locator("#campaign-counters .progress-text")).to_contain_text("2 of 5 called")
    # 6. The status badge has a name; 3. the panel says what holds the calls back now.
    expect(page.get_by_role("img", name="Campaign status: In progress")).to_be_visible()
    expect(page.locator("#campaign-waiting .waiting-now")).to_contain_text(
        "Every line of the campaign is in use: 2 of 2 calls under way"
    )
    # The wallboard: who is being called, since when, from which caller ID.
    live = page.locator("#campaign-wallboard [data-live-call]")
    expect(live).to_have_count(2)
    expect(live.filter(has_text="Customer 0")).to_have_count(1)
    expect(live.first).to_contain_text("+14155550100")  # the caller ID it calls from
    # 5. Times carry their date and zone, the exact instant on hover.
    stamp = live.first.locator("time")
    expect(stamp).to_contain_text(re.compile(r"\d+ \w{3} \d\d:\d\d CET"))
    expect(stamp).to_have_attribute("title", re.compile(r"Europe/Paris \(UTC\+01:00\)"))
    shoot(page, "wallboard-running")

    # 6. Pause and Resume act at once (no native box); End asks in the page.
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("img", name="Campaign status: Paused")).to_be_visible()
    waiting = page.locator("#campaign-waiting")
    expect(waiting.locator(".waiting-now")).to_have_text(re.compile("^Paused: calls under way finish"))
    expect(waiting).not_to_contain_text("Due now")
    assert page.content().count("calls under way finish") == 1  # said once, not three times
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_role("img", name="Campaign status: In progress")).to_be_visible()
    page.locator(".confirm-end summary").click()
    expect(page.locator(".confirm-box")).to_contain_text("The 3 customers waiting to be called are cancelled")
    page.get_by_role("button", name="End the campaign").click()
    expect(page.get_by_role("img", name="Campaign status: Ended")).to_be_visible()

    # 1. The counters keep moving after End while calls are in flight, then stop polling.
    counters = page.locator("#campaign-counters")
    expect(counters).to_have_attribute("data-polling", "yes")
    expect(page.locator('[data-counter="customers_cancelled"]')).to_have_text("3")
    expect(page.locator("#campaign-waiting .waiting-now")).to_contain_text("2 calls still under way finish")
    shoot(page, "wallboard-ending")
    deliver(calls[0], "ended", ended_reason="customer-ended-call")
    deliver(calls[1], "ended", ended_reason="customer-busy")
    expect(page.locator('[data-counter="calls_in_progress"]')).to_have_text("0", timeout=15_000)
    expect(page.locator('[data-counter="customers_reached"]')).to_have_text("1")
    expect(page.locator('[data-counter="outcomes"]')).to_contain_text("Answered 1 · Busy 1")
    expect(counters).to_have_attribute("data-polling", "no", timeout=15_000)
    # 4. An ended campaign never reads 100% done with customers never called.
    expect(page.locator("#campaign-counters .progress-text")).to_contain_text(
        "2 of 5 called (40%) · 4 cancelled when it ended"
    )
    expect(page.locator('#campaign-wallboard [data-rate="answer"]')).to_have_text("50%")
    # The last poll refreshes every panel once more: none is left showing calls as they were.
    expect(page.locator("#campaign-charts")).to_contain_text("Answered 1")
    expect(page.locator("#customer-rows")).not_to_contain_text("Dialing")
    shoot(page, "wallboard-ended")
    assert problems == []


def test_the_panel_says_pacing_when_pacing_is_what_waits(
    live_server, page: Page, org, owner, make_campaign
) -> None:
    campaign = make_campaign(4, strategy={**ANY_TIME, "max_concurrent_calls": 5, "calls_per_minute": 1})
    campaign = services.campaign_start(campaign=campaign, by=owner)
    assert dispatch_campaign(campaign, enqueue=lambda ids: None) == 1  # one call, not a burst
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    panel = page.locator("#campaign-waiting")
    expect(panel).to_have_attribute("data-activity", "pacing")
    expect(panel.locator(".waiting-now")).to_contain_text("Pacing: at most 1 call a minute, evenly spaced")
    expect(panel).not_to_contain_text("Every line")
    shoot(page, "wallboard-pacing")
    assert Campaign.objects.get(pk=campaign.pk).calls_queued == 1
    assert problems == []


def test_the_overview_shows_every_running_campaign_and_the_global_pause_live(
    live_server, page: Page, org, owner, make_campaign
) -> None:
    first = services.campaign_start(campaign=make_campaign(3, name="Renewals", strategy=ANY_TIME), by=owner)
    services.campaign_start(campaign=make_campaign(3, name="Win-back", strategy=ANY_TIME), by=owner)
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Overview").click()
    rows = page.locator("#overview-rows tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#overview-rows")).to_contain_text("Renewals")
    shoot(page, "overview")
    # Refreshed live: a pause elsewhere shows here without a reload.
    services.organization_pause(organization=org, by=owner)
    expect(page.locator(f'[data-campaign="{first.pk}"] [data-activity]')).to_have_attribute(
        "data-activity", "organization_paused", timeout=15_000
    )
    expect(page.locator("#overview-rows")).to_contain_text("All dialing is paused")
    shoot(page, "overview-paused")
    assert problems == []


def test_a_rested_caller_id_shows_on_the_overview_and_leads_to_its_row(
    live_server, page: Page, owner, make_campaign
) -> None:
    campaign = services.campaign_start(
        campaign=make_campaign(3, name="Renewals", strategy=ANY_TIME), by=owner
    )
    number = campaign.phone_number
    PhoneNumber.objects.filter(pk=number.pk).update(
        rested_at=timezone.now(), rested_reason="4% of its last 50 calls answered"
    )
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.get_by_role("link", name="Overview").click()
    alert = page.locator("#overview-rows").get_by_role("link", name=f"Caller ID {number.number} rested")
    expect(alert).to_contain_text("4% of its last 50 calls answered")
    shoot(page, "overview-caller-id-rested")
    alert.click()
    expect(page).to_have_url(re.compile(rf"/caller-ids#caller-{number.pk}$"))
    expect(page.locator(f"#caller-{number.pk}")).to_be_visible()
    assert problems == []


def say(call: Call, role: str, words: str) -> None:
    """A line of the call's live transcript, as the provider streams it (through the recorder)."""
    event = CallEvent(kind=TRANSCRIPT, status="", call_id=str(call.pk), role=role, transcript=words)
    services.record_call_event(account=call.provider_account, event=event, now=timezone.now())


def test_a_supervisor_reads_a_live_transcript_as_it_is_said(
    live_server, page: Page, org, owner, make_campaign
) -> None:
    campaign = services.campaign_start(campaign=make_campaign(2, strategy=ANY_TIME), by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    call = placed(Call.objects.filter(campaign=campaign).order_by("created_at").first())
    deliver(call, "in-progress")
    say(call, "assistant", "Hello, this is the Renewals team calling.")
    problems = watch(page)
    log_in(page, live_server.url, "olivia")
    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")
    # The wallboard's live calls say what was said last, and lead to the whole transcript.
    row = page.locator(f'#campaign-wallboard [data-live-call="{call.pk}"]')
    expect(row.locator(".last-said")).to_contain_text("Agent: Hello, this is the Renewals team calling.")
    say(call, "user", "Oh hi, yes?")
    expect(row.locator(".last-said")).to_contain_text("Callee: Oh hi, yes?", timeout=15_000)
    row.locator(".last-said a").click()
    transcript = page.get_by_role("log", name="Transcript")
    expect(transcript.locator("li")).to_have_count(2)
    expect(page.locator("#transcript-live")).to_contain_text("Live")
    # Lines said while the page is open appear below the others, without a reload.
    say(call, "assistant", "I am calling about your renewal.")
    expect(transcript.locator("li")).to_have_count(3, timeout=15_000)
    expect(transcript.locator("li").last).to_contain_text("Agent")
    expect(transcript.locator("li").last).to_contain_text("I am calling about your renewal.")
    shoot(page, "call-live-transcript")
    # The call ends: the badge goes and the page stops asking.
    deliver(call, "ended", ended_reason="customer-ended-call")
    expect(page.locator("#transcript-live")).to_be_empty(timeout=15_000)
    expect(page.locator("#transcript-poll")).not_to_have_attribute("hx-trigger", "every 2s")
    expect(transcript.locator("li")).to_have_count(3)
    assert problems == []
