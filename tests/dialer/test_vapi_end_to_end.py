"""A campaign on a Vapi-compatible provider, for real: a live Dialdeck server, a real Celery worker
and beat, and a fake Vapi server that answers POST /call and posts its webhooks back over HTTP."""

from __future__ import annotations

import time

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils.html import escape

from campaigns import services
from campaigns.models import Call, CallLog, Campaign, TranscriptLine
from tests.fakes.dialdeck_side import counters, recount, vapi_account, vapi_caller_id, vapi_campaign
from tests.fakes.vapi_server import SCRIPT, FakeVapi
from tests.support import wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def outcome(body: dict) -> str:
    """Numbers ending in 3 or 7 do not answer the first time; those ending in 5 reach voicemail."""
    last, attempt = body["customer"]["number"][-1], body["assistantOverrides"]["metadata"]["attempt"]
    if last in "37" and attempt == 1:
        return "customer-did-not-answer"
    return "voicemail" if last == "5" else "customer-ended-call"


def test_a_30_customer_campaign_runs_to_the_end_through_a_vapi_compatible_provider_over_http(
    live_server, celery_processes, org
) -> None:
    with FakeVapi() as vapi:
        vapi.ended_reason = outcome
        vapi.deliveries, vapi.shuffle = 2, True  # every webhook twice, in any order: recorded once
        vapi.fail_next(2, status=500)
        vapi.fail_next(1, status=429, retry_after=1)
        caller = vapi_caller_id(vapi_account(org, vapi))
        celery_processes.worker(concurrency=2, SITE_URL=live_server.url)
        celery_processes.beat(SITE_URL=live_server.url)
        people = [services.CustomerInput(number=f"+1415555{i:04d}", name=f"Person {i}") for i in range(30)]
        began = time.monotonic()
        campaign = vapi_campaign(
            caller, people, strategy={"max_concurrent_calls": 10, "retry_voicemail": False}
        )

        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
            timeout=240,  # generous: a loaded 2-core machine takes a minute and more
            what=f"the campaign to end (logs: {celery_processes.log_dir})",
        )
        elapsed = time.monotonic() - began
        vapi.settle()

    campaign.refresh_from_db()
    assert campaign.ended_reason == "campaign.ended.success"
    states = dict(campaign.customers.values_list("state").annotate(n=Count("id")))
    assert states == {"completed": 27, "voicemail": 3}
    calls = Call.objects.filter(campaign=campaign)
    assert calls.count() == 30 + 6  # six customers did not answer the first time and were called again
    assert vapi.placed_counts() == {str(pk): 1 for pk in calls.values_list("pk", flat=True)}
    assert len(vapi.posts_to_create_calls()) == 36 + 3  # and three POSTs failed, then were retried
    assert counters(campaign) == recount(campaign)
    assert campaign.customers_final == 30
    # Unanswered calls: ringing, ended, report. Answered ones add in-progress. Each posted twice.
    messages = 6 * 3 + 30 * 4
    assert [d.answer for d in vapi.webhooks] == [200] * 2 * messages
    logged = CallLog.objects.filter(call__campaign=campaign, kind="webhook")
    wait_for(  # the last posts were answered (stored in the inbox); their recording may still run
        lambda: logged.count() == messages and not calls.filter(report_received=False).exists(),
        timeout=60,
        what=lambda: f"every message recorded ({logged.count()} of {messages})",
    )
    print(f"\n36 calls on the fake Vapi in {elapsed:.1f}s = {36 / elapsed:.1f} calls/s")


def test_a_campaign_that_asks_vapi_for_transcripts_keeps_each_calls_lines_once_in_order(
    live_server, celery_processes, org, owner, client
) -> None:
    """The campaign's own serverMessages ask for transcripts (as code written for Vapi does): the
    fake streams each answered call's lines, partial then final, every message twice and in any
    order; each call keeps the final lines once, in the order said, and its page shows them."""
    with FakeVapi() as vapi:
        vapi.talk = 0.6  # long enough for the lines to arrive while the call is under way
        vapi.deliveries, vapi.shuffle = 2, True
        caller = vapi_caller_id(vapi_account(org, vapi))
        celery_processes.worker(concurrency=2, SITE_URL=live_server.url)
        celery_processes.beat(SITE_URL=live_server.url)
        people = [services.CustomerInput(number=f"+1415555{i:04d}", name=f"Person {i}") for i in range(4)]
        campaign = vapi_campaign(
            caller,
            people,
            assistant_overrides={"serverMessages": ['transcript[transcriptType="final"]']},
            strategy={"max_concurrent_calls": 4},
        )
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == "ended",
            timeout=240,
            what=f"the campaign to end (logs: {celery_processes.log_dir})",
        )
        vapi.settle()
        kept = TranscriptLine.objects.filter(call__campaign=campaign)
        wait_for(  # the last posts may still be in the inbox
            lambda: kept.count() == 4 * len(SCRIPT),
            timeout=60,
            what=lambda: f"every line ({kept.count()} kept)",
        )
    sent = [post.body for post in vapi.posts_to_create_calls()]
    assert all("transcript" in str(body["assistantOverrides"]["serverMessages"]) for body in sent)
    transcripts = [d for d in vapi.webhooks if d.type == "transcript"]
    assert len(transcripts) == 4 * len(SCRIPT) * 2 * 2  # partial and final, each posted twice
    assert {d.answer for d in transcripts} == {200}
    for call in Call.objects.filter(campaign=campaign):
        lines = list(call.transcript_lines.order_by("at", "id").values_list("role", "text"))
        assert lines == SCRIPT, call
    client.force_login(owner)
    call = Call.objects.filter(campaign=campaign).first()
    page = client.get(reverse("campaigns:call", args=[campaign.pk, call.pk])).content.decode()
    for _, words in SCRIPT:
        assert escape(words) in page
    assert 'hx-trigger="every 2s"' not in page  # ended: nothing polls
