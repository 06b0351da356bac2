"""Vapi's pre-dial check (predialPlan): real placement asks a campaign's own server over real HTTP
before each call, and a local fake Vapi places the calls it lets through."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from django.db import connection

from campaigns import services
from campaigns.models import Call, CallLog, Campaign, CampaignEvent
from campaigns.rules import contacts
from dialer import placement, predial
from tests.dialer.test_outbound import readme_verify
from tests.fakes.dialdeck_side import queue_calls, vapi_account, vapi_caller_id, vapi_campaign
from tests.fakes.predial_server import FakePredialServer, refused_url
from tests.fakes.vapi_server import FakeVapi
from tests.support import wait_for

EVENTS = ["contact.dispatched", "contact.skipped", "contact.predial-failed"]


@pytest.fixture
def vapi():
    with FakeVapi() as server:
        server.drop_webhooks = True  # nobody listens: these tests are about what leaves, and when
        yield server


@pytest.fixture
def caller(org, vapi):
    return vapi_caller_id(vapi_account(org, vapi))


@pytest.fixture
def their_server():
    with FakePredialServer() as server:
        yield server


def people(count: int, *, area: str = "415") -> list[services.CustomerInput]:
    return [
        services.CustomerInput(
            number=f"+1{area}555{i:04d}",
            name=f"Person {i}",
            assistant_overrides={"variableValues": {"slot": f"{9 + i}am"}},
        )
        for i in range(count)
    ]


def checked_campaign(caller, url: str, count: int = 3, *, timeout: float = 2, **fields) -> Campaign:
    """A Vapi campaign whose contacts are checked at `url` first (and told of every contact event)."""
    server = {"url": url, "timeoutSeconds": timeout, "headers": {"X-Api-Key": "their-key"}}
    return vapi_campaign(
        caller,
        fields.pop("customers", None) or people(count, area=fields.pop("area", "415")),
        server=server,
        server_messages=EVENTS,
        predial_plan=fields.pop("predial_plan", {}),
        **fields,
    )


def place(calls: list[Call]) -> float:
    """Real placement of the calls as one batch; returns the seconds it took."""
    began = time.monotonic()
    placement.place_many([str(call.pk) for call in calls])
    return time.monotonic() - began


def buckets(campaign: Campaign) -> tuple[dict[str, int], dict[str, int]]:
    """The stored contact counters, and a recount of the customers into the same buckets."""
    campaign.refresh_from_db()
    counted = Counter(contacts.bucket(s, r) for s, r in campaign.customers.values_list("state", "reason"))
    return {b: getattr(campaign, b) for b in contacts.BUCKETS}, {b: counted[b] for b in contacts.BUCKETS}


def outbox(campaign: Campaign, event_type: str) -> list[dict]:
    return list(
        CampaignEvent.objects.filter(campaign=campaign, event_type=event_type).values_list("data", flat=True)
    )


def test_each_contact_is_asked_with_vapis_message_before_its_call_leaves(caller, vapi, their_server) -> None:
    # Berlin with its trunk zero: stored canonical (+4930...), sent to the server as the user wrote it.
    greta = services.CustomerInput(
        number="+4903012345678", name="Greta", assistant_overrides={"variableValues": {"slot": "9am"}}
    )
    campaign = checked_campaign(caller, their_server.url + "?token=abc", customers=[greta])
    [call] = queue_calls(campaign)

    place([call])

    [asked] = their_server.received
    customer = call.customer
    assert asked.path == "/predial?token=abc"
    assert asked.headers["X-Api-Key"] == "their-key"
    assert asked.headers["Content-Type"] == "application/json"
    verify = readme_verify()  # signed as campaign events are: the README's receiver accepts it
    secret = campaign.organization.event_signing_secret
    assert verify(secret, asked.headers, asked.raw)
    assert not verify(secret, asked.headers, asked.raw.replace(b"Greta", b"Gret4"))
    message = asked.body["message"]
    assert abs(message.pop("timestamp") / 1000 - asked.at) < 5  # epoch milliseconds
    assert message == {
        "type": "campaign.predial",
        "campaignId": str(campaign.pk),
        "contact": {
            "id": str(customer.pk),
            "campaignId": str(campaign.pk),
            "orgId": str(campaign.organization_id),
            "number": "+4903012345678",
            "name": "Greta",
            "createdAt": campaign.created_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "assistantOverrides": {"variableValues": {"slot": "9am"}},
        },
    }
    [posted] = vapi.posts_to_create_calls()
    assert posted.at >= asked.answered_at  # the call left after the server said yes
    assert customer.number == posted.body["customer"]["number"] == "+493012345678"
    call.refresh_from_db()
    assert (call.status, call.customer.state) == ("queued", "dialing") and call.provider_call_id
    log = list(CallLog.objects.filter(call=call).values_list("kind", "http_status", "summary"))
    assert log[:3] == [
        ("note", None, f"pre-dial check: POST {their_server.url}"),  # no query string: it may hold a token
        ("note", 200, "pre-dial check -> 200: eligible"),
        ("request", None, "POST /call"),
    ]
    assert outbox(campaign, "contact.dispatched") == [{"contactId": str(customer.pk)}]
    assert outbox(campaign, "contact.skipped") == outbox(campaign, "contact.predial-failed") == []


@pytest.mark.parametrize("answer", ["ineligible", "wrapped-ineligible"])
def test_a_contact_the_server_calls_ineligible_is_skipped_and_reported(
    caller, vapi, their_server, answer
) -> None:
    campaign = checked_campaign(caller, their_server.url, 3)
    calls = queue_calls(campaign)
    their_server.answer = answer

    place(calls)

    assert vapi.posts_to_create_calls() == []
    assert not Call.objects.filter(
        campaign=campaign
    ).exists()  # withdrawn: Vapi's skipped contacts have no call
    customers = list(campaign.customers.order_by("position"))
    assert {(c.state, c.reason, c.attempts) for c in customers} == {("skipped", "predial_ineligible", 0)}
    assert customers[0].reason_detail == f"{their_server.url} answered eligible: false"
    stored, counted = buckets(campaign)
    assert stored == counted
    assert (campaign.customers_skipped, campaign.customers_dispatched, campaign.customers_final) == (3, 0, 3)
    assert campaign.calls_queued == 0
    assert sorted(e["contactId"] for e in outbox(campaign, "contact.skipped")) == sorted(
        str(c.pk) for c in customers
    )
    assert all(set(e) == {"contactId"} for e in outbox(campaign, "contact.skipped"))
    assert outbox(campaign, "contact.dispatched") == outbox(campaign, "contact.predial-failed") == []


FAILURES = {
    "slow": "no answer within 1 s",
    "500": "answered HTTP 500",
    "bad-json": "answer is not JSON",
    "no-eligible": "answer has no boolean eligible",
    "string-eligible": "answer has no boolean eligible",
    "refused": "no answer: ConnectionRefusedError",
}


@pytest.mark.parametrize("failure", FAILURES)
def test_a_check_that_fails_fails_closed_with_the_error_reported(caller, vapi, their_server, failure) -> None:
    url = refused_url() if failure == "refused" else their_server.url
    campaign = checked_campaign(caller, url, 2, timeout=1)
    calls = queue_calls(campaign)
    their_server.answer, their_server.delay = failure, 3.0

    took = place(calls)

    assert took < 1 + 1.5  # bounded by the campaign's timeout, whatever the server does
    assert vapi.posts_to_create_calls() == []
    customers = list(campaign.customers.order_by("position"))
    assert {(c.state, c.reason) for c in customers} == {("skipped", "predial_failed")}
    stored, counted = buckets(campaign)
    assert stored == counted
    assert (campaign.customers_predial_failed, campaign.customers_skipped) == (2, 0)
    events = outbox(campaign, "contact.predial-failed")
    assert sorted(e["contactId"] for e in events) == sorted(str(c.pk) for c in customers)
    assert all(e["error"].startswith(FAILURES[failure]) for e in events), events
    assert customers[0].reason_detail == events[0]["error"]
    assert outbox(campaign, "contact.skipped") == []


def test_a_server_url_the_dialer_may_no_longer_reach_is_not_asked(
    caller, vapi, their_server, settings
) -> None:
    campaign = checked_campaign(caller, their_server.url, 1)
    [call] = queue_calls(campaign)
    settings.PROVIDER_ALLOWED_HOSTS = [vapi.url.removeprefix("http://")]  # the provider, not their server

    place([call])

    assert their_server.received == [] and vapi.posts_to_create_calls() == []
    [event] = outbox(campaign, "contact.predial-failed")
    assert event["error"].startswith("server.url refused: 127.0.0.1 is a loopback address")
    assert campaign.customers.get().reason == "predial_failed"


def test_a_batch_with_a_mix_of_answers_settles_each_contact_and_the_counters(
    caller, vapi, their_server
) -> None:
    replies = {"0": "eligible", "1": "ineligible", "2": "500", "3": "wrapped-eligible"}
    campaign = checked_campaign(caller, their_server.url, 8)
    calls = queue_calls(campaign)
    their_server.answer = lambda contact: replies[str(int(contact["number"][-1]) % 4)]

    place(calls)

    by_state = Counter(campaign.customers.values_list("state", "reason"))
    assert by_state == {
        ("dialing", ""): 4,
        ("skipped", "predial_ineligible"): 2,
        ("skipped", "predial_failed"): 2,
    }
    assert len(vapi.posts_to_create_calls()) == 4
    stored, counted = buckets(campaign)
    assert stored == counted
    assert (campaign.customers_dispatched, campaign.customers_skipped, campaign.customers_predial_failed) == (
        4,
        2,
        2,
    )
    assert (campaign.calls_queued, campaign.customers_final) == (4, 4)
    assert Call.objects.filter(campaign=campaign).count() == 4
    assert len(outbox(campaign, "contact.dispatched")) == 4
    assert len(outbox(campaign, "contact.skipped")) == len(outbox(campaign, "contact.predial-failed")) == 2


def test_a_disabled_plan_asks_nothing(caller, vapi, their_server) -> None:
    campaign = checked_campaign(caller, their_server.url, 2, predial_plan={"enabled": False})
    their_server.answer = "ineligible"

    place(queue_calls(campaign))

    assert their_server.received == []
    assert len(vapi.posts_to_create_calls()) == 2


def test_a_slow_server_delays_nobody_but_its_own_campaigns_contacts(caller, vapi, their_server) -> None:
    # A's server takes 2 s for each of its 10 contacts (more than the placement threads), within
    # its 5 s timeout; B's answers at once, C asks nothing. One batch holds all three.
    their_server.answer, their_server.delay = "slow", 2.0
    a = checked_campaign(caller, their_server.url, 10, timeout=5, name="A")
    with FakePredialServer() as quick:
        b = checked_campaign(caller, quick.url, 3, name="B", area="212")
        c = vapi_campaign(caller, people(3, area="312"), name="C")
        batch = queue_calls(a) + queue_calls(b) + queue_calls(c)

        took = place(batch)

    sent = {}
    for post in vapi.posts_to_create_calls():
        sent.setdefault(post.body["assistantOverrides"]["metadata"]["campaignId"], []).append(post.at)
    a_first_answer = min(asked.answered_at for asked in their_server.received)
    began = min(asked.at for asked in their_server.received)
    assert len(sent[str(b.pk)]) == len(sent[str(c.pk)]) == 3
    assert max(sent[str(b.pk)] + sent[str(c.pk)]) < a_first_answer  # placed while A's server slept
    assert max(sent[str(b.pk)] + sent[str(c.pk)]) - began < 1.5
    assert len(sent[str(a.pk)]) == 10  # and A's contacts were all asked at once: one wait, not two
    assert took < 2.0 + 1.5


@pytest.mark.django_db(transaction=True)
def test_a_pause_during_the_check_keeps_the_gates_reason_over_the_servers(caller, vapi, their_server) -> None:
    campaign = checked_campaign(caller, their_server.url, 1)
    [call] = queue_calls(campaign)

    def pause_meanwhile(contact: dict) -> None:  # the user pauses while the dialer waits for the answer
        services.campaign_pause(campaign=Campaign.objects.get(pk=campaign.pk), by=None)
        connection.close()

    their_server.on_ask, their_server.answer = pause_meanwhile, "ineligible"

    place([call])

    customer = campaign.customers.get()
    assert (customer.state, customer.reason, customer.attempts) == ("pending", "campaign_paused", 0)
    assert outbox(campaign, "contact.skipped") == []  # asked again after the resume, not skipped now
    stored, counted = buckets(campaign)
    assert stored == counted


def test_the_timeout_is_the_servers_within_vapis_bounds(caller, their_server) -> None:
    def timeout(server: dict) -> float:
        return predial.timeout_of(Campaign(server=server))

    assert timeout({"url": their_server.url}) == 20
    assert timeout({"url": their_server.url, "timeoutSeconds": 5}) == 5
    assert timeout({"url": their_server.url, "timeoutSeconds": 300}) == 30  # the dashboard's cap
    assert timeout({"url": their_server.url, "timeoutSeconds": "5"}) == 20


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_campaign_with_a_pre_dial_check_runs_to_its_end_under_a_real_worker_and_beat(
    celery_processes, make_campaign, provider, their_server
) -> None:
    # Numbers ending 0-5 are eligible, 6-7 not, 8 gets a 500, 9 an answer past the 1 s timeout.
    replies = {**dict.fromkeys("012345", "eligible"), "6": "ineligible", "7": "ineligible"}
    replies |= {"8": "500", "9": "slow"}
    their_server.answer, their_server.delay = (lambda contact: replies[contact["number"][-1]]), 2.0
    provider.settings = {"seed": 3, "mix": {"answered": 1}, "talkSeconds": [20, 40]}
    provider.save()
    celery_processes.worker(concurrency=2)
    celery_processes.beat()
    cap = 3
    campaign = make_campaign(
        20,
        strategy={"respect_recipient_time_zone": False, "max_concurrent_calls": cap},
        server={"url": their_server.url, "timeoutSeconds": 1},
        server_messages=EVENTS,
        predial_plan={"enabled": True},
    )
    live = []

    def ended() -> bool:
        live.append(Call.objects.filter(campaign=campaign).exclude(status="ended").count())
        return Campaign.objects.get(pk=campaign.pk).status == "ended"

    wait_for(ended, timeout=120, what=f"the campaign to end (logs: {celery_processes.log_dir})")

    customers = list(campaign.customers.all())
    outcome = Counter((c.state, c.reason) for c in customers)
    assert outcome == {
        ("completed", ""): 12,
        ("skipped", "predial_ineligible"): 4,
        ("skipped", "predial_failed"): 4,
    }
    stored, counted = buckets(campaign)
    assert stored == counted
    assert campaign.customers_final == 20 and campaign.customers_dialed == 12
    assert max(live) <= cap  # a contact being asked holds its line like a call
    skipped = {c.pk for c in customers if c.reason == "predial_ineligible"}
    assert {e["contactId"] for e in outbox(campaign, "contact.skipped")} == {str(pk) for pk in skipped}
    failed = outbox(campaign, "contact.predial-failed")
    assert sorted(e["error"] for e in failed) == ["answered HTTP 500"] * 2 + ["no answer within 1 s"] * 2
    assert len(outbox(campaign, "contact.dispatched")) == 12
    assert len(their_server.received) == 20  # one check per contact: each was dialed once


def test_a_contact_no_thread_could_ask_in_time_is_handed_back_not_failed(
    caller, vapi, their_server, monkeypatch
) -> None:
    # One check thread for three contacts of a server that never answers within the 1 s timeout:
    # only the first gets its whole second; the others are not the server's fault.
    monkeypatch.setattr(predial, "PREDIAL_THREADS", 1)
    predial._threads.cache_clear()
    try:
        their_server.answer, their_server.delay = "slow", 3.0
        campaign = checked_campaign(caller, their_server.url, 3, timeout=1)
        calls = queue_calls(campaign)

        retries = dict(placement.place_many([str(call.pk) for call in calls]))
    finally:
        predial._threads.cache_clear()

    first, *others = calls
    assert retries == {str(first.pk): None} | {str(c.pk): placement.UNASKED_RETRY_SECONDS for c in others}
    assert campaign.customers.get(pk=first.customer_id).reason == "predial_failed"
    for call in others:
        call.refresh_from_db()
        assert (call.status, call.placing_at, call.confirmed_at) == ("queued", None, None)
        assert call.not_before is not None and call.customer.state == "queued"
    assert len(outbox(campaign, "contact.predial-failed")) == 1
    assert vapi.posts_to_create_calls() == []
    stored, counted = buckets(campaign)
    assert stored == counted
