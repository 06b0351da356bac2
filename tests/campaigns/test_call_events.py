"""record_call_event: the only writer of outcomes. Idempotent, order-tolerant, counters always true."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Count
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, Customer, DoNotCall
from campaigns.services.inputs import CallEvent
from dialer import claims
from dialer.dispatch import dispatch_campaign
from tests.conftest import customers

ANY_TIME = {
    "respect_recipient_time_zone": False,
    "max_attempts": 2,
    "retry_delays": {"busy": 60, "noAnswer": 60, "voicemail": 60, "failed": 60},
}


@pytest.fixture
def running(make_campaign, owner) -> Campaign:
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=ANY_TIME), by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    return campaign


def accept(call: Call, provider_call_id: str) -> Call:
    """The call through the placement steps, as if a provider had accepted it with that id."""
    [taken] = claims.take([call.pk])
    [confirmed] = claims.confirm_at_gate([(taken, "POST /call", "{}")])
    claims.store_answers(answers=[], placed=[(confirmed, provider_call_id)])
    return Call.objects.get(pk=call.pk)


def placed(campaign: Campaign) -> Call:
    call = Call.objects.filter(campaign=campaign).order_by("attempt", "customer__position").first()
    return accept(call, f"prov-{call.pk}")


def event(call: Call, kind: str, status: str, **extra) -> CallEvent:
    return CallEvent(kind=kind, status=status, call_id=str(call.pk), **extra)


def deliver(call: Call, *events: CallEvent) -> None:
    for e in events:
        services.record_call_event(account=call.provider_account, event=e)


def recount(campaign: Campaign) -> dict[str, int]:
    by_status = dict(Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    return {
        "calls_queued": by_status.get("queued", 0),
        "calls_in_progress": sum(by_status.get(s, 0) for s in ("ringing", "in-progress", "forwarding")),
        "calls_ended": by_status.get("ended", 0),
        "calls_ended_voicemail": Call.objects.filter(campaign=campaign, ended_reason="voicemail").count(),
    }


def counters(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    return {k: getattr(campaign, k) for k in recount(campaign)}


def lifecycle(call: Call, reason: str = "customer-ended-call") -> list[CallEvent]:
    started = timezone.now()
    return [
        event(call, "status-update", "ringing"),
        event(call, "status-update", "in-progress", at=started),
        event(call, "status-update", "ended", ended_reason=reason, at=started + timedelta(seconds=42)),
        event(
            call,
            "end-of-call-report",
            "ended",
            ended_reason=reason,
            cost=Decimal("0.12"),
            summary="Confirmed.",
            started_at=started,
            ended_at=started + timedelta(seconds=42),
            recording_url="https://example.com/r.wav",
            analysis={"successEvaluation": "true"},
        ),
    ]


def test_a_call_answered_and_finished_completes_its_customer(running) -> None:
    call = placed(running)
    deliver(call, *lifecycle(call))
    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.summary, call.cost) == (
        "ended",
        "customer-ended-call",
        "Confirmed.",
        Decimal("0.12"),
    )
    assert call.duration_seconds == pytest.approx(42, abs=0.01)
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.last_outcome) == ("completed", "customer-ended-call")
    assert counters(running) == recount(running)


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))), ids=lambda o: "".join(map(str, o)))
def test_any_order_of_the_same_events_gives_the_same_result(running, order) -> None:
    call = placed(running)
    events = lifecycle(call)
    deliver(call, *(events[i] for i in order))
    call.refresh_from_db()
    assert (call.status, call.ended_reason, call.report_received) == ("ended", "customer-ended-call", True)
    assert call.summary == "Confirmed."
    assert Customer.objects.get(pk=call.customer_id).state == "completed"
    assert counters(running) == recount(running)


def test_every_event_delivered_three_times_counts_once(running) -> None:
    call = placed(running)
    for e in lifecycle(call, reason="voicemail"):
        deliver(call, e, e, e)
    running.refresh_from_db()
    assert (running.calls_ended, running.calls_ended_voicemail) == (1, 1)
    assert counters(running) == recount(running)
    assert call.log.filter(kind="webhook").count() == 4


def test_a_late_ringing_never_moves_a_call_backwards(running) -> None:
    call = placed(running)
    deliver(call, event(call, "status-update", "in-progress"), event(call, "status-update", "ringing"))
    call.refresh_from_db()
    assert call.status == "in-progress"
    assert counters(running) == recount(running)


def test_an_event_for_an_unknown_call_changes_nothing(running, provider) -> None:
    before = counters(running)
    result = services.record_call_event(
        account=provider,
        event=CallEvent(
            kind="status-update", status="ended", provider_call_id="nope", ended_reason="customer-busy"
        ),
    )
    assert result is None
    assert counters(running) == before


def test_another_accounts_event_cannot_touch_our_call(running, other_caller_id) -> None:
    call = placed(running)
    result = services.record_call_event(
        account=other_caller_id.provider_account,
        event=event(call, "status-update", "ended", ended_reason="customer-busy"),
    )
    assert result is None
    call.refresh_from_db()
    assert call.status == "queued"


def test_a_busy_line_is_retried_after_the_delay_then_fails_when_attempts_run_out(running) -> None:
    call = placed(running)
    deliver(call, event(call, "status-update", "ended", ended_reason="customer-busy"))
    customer = Customer.objects.get(pk=call.customer_id)
    assert customer.state == "pending"
    assert customer.next_attempt_at > timezone.now() + timedelta(seconds=50)
    Customer.objects.filter(pk=customer.pk).update(next_attempt_at=timezone.now())
    Campaign.objects.filter(pk=running.pk).update()  # nothing else changes
    dispatch_campaign(Campaign.objects.get(pk=running.pk), enqueue=lambda ids: None)
    second = Call.objects.get(customer=customer, attempt=2)
    second = accept(second, "prov-2nd")
    deliver(second, event(second, "status-update", "ended", ended_reason="customer-did-not-answer"))
    customer.refresh_from_db()
    assert (customer.state, customer.reason, customer.attempts) == ("failed", "max_attempts", 2)
    assert counters(running) == recount(running)


def test_an_opt_out_puts_the_number_on_the_do_not_call_list(running, org) -> None:
    call = placed(running)
    deliver(call, event(call, "status-update", "ended", ended_reason="customer-opted-out"))
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason) == ("skipped", "do_not_call")
    assert DoNotCall.objects.get(organization=org, number=customer.number).source == "opt-out"


def test_a_call_ending_after_the_campaign_ended_closes_its_customer_for_good(running, owner) -> None:
    call = placed(running)
    Call.objects.filter(pk=call.pk).update(placing_at=timezone.now())  # it is at the provider
    services.campaign_end(campaign=running, by=owner)
    deliver(call, event(call, "status-update", "ended", ended_reason="customer-busy"))
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason) == ("cancelled", "cancelled")
    running.refresh_from_db()
    assert running.customers_final == running.customers_total
    assert counters(running) == recount(running)


def test_ending_drops_queued_calls_that_never_left_us(running, owner) -> None:
    assert Call.objects.filter(campaign=running).count() == 3
    services.campaign_end(campaign=running, by=owner)
    assert not Call.objects.filter(campaign=running).exists()
    assert set(running.customers.values_list("state", "attempts")) == {("cancelled", 0)}
    assert (
        counters(running)
        == recount(running)
        == {"calls_queued": 0, "calls_in_progress": 0, "calls_ended": 0, "calls_ended_voicemail": 0}
    )


@pytest.mark.django_db(transaction=True)
def test_a_call_ending_while_a_user_ends_the_campaign_schedules_no_retry(make_campaign, owner) -> None:
    """The race: the campaign is being ended (its row locked, not yet committed) when a busy
    call's outcome is recorded. The recorder must wait and see the end, not schedule a retry in
    a campaign that has just ended (its customer would stay pending for ever)."""
    import threading
    import time

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite writers never overlap (IMMEDIATE transactions)")
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=ANY_TIME), by=owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    call = placed(campaign)
    Call.objects.filter(pk=call.pk).update(placing_at=timezone.now())  # it is at the provider
    deliver(call, event(call, "status-update", "ringing"))
    locked = threading.Event()

    def end_slowly() -> None:
        try:
            with transaction.atomic():
                services.campaign_end(campaign=Campaign.objects.get(pk=campaign.pk), by=owner)
                locked.set()
                time.sleep(1.0)  # the recorder runs meanwhile
        finally:
            connection.close()

    ender = threading.Thread(target=end_slowly)
    ender.start()
    assert locked.wait(10)
    deliver(call, event(call, "status-update", "ended", ended_reason="customer-busy"))
    ender.join(10)
    customer = Customer.objects.get(pk=call.customer_id)
    assert (customer.state, customer.reason) == ("cancelled", "cancelled")
    assert not Customer.objects.filter(campaign=campaign, state__in=["pending", "queued", "dialing"]).exists()
    campaign.refresh_from_db()
    assert campaign.customers_final == 3


# -- a batch (services.record_call_events) decides exactly what the same events one by one do ----

COUNTERS = [
    f.attname for f in Campaign._meta.concrete_fields if f.attname.startswith(("calls_", "customers_"))
]
CALL_FIELDS = ["status", "ended_reason", "summary", "cost", "duration_seconds", "report_received"]
CALL_FIELDS += ["started_at", "ended_at", "recording_url", "provider_call_id", "objective_met"]
CUSTOMER_FIELDS = ["state", "reason", "attempts", "next_attempt_at", "dialed_at", "connected_at"]
CUSTOMER_FIELDS += ["last_outcome", "callbacks"]


def _outcome_mix(calls: list[Call], seed: int) -> list[CallEvent]:
    """Each call's lifecycle with its own endedReason (one opts out), duplicated and shuffled by
    `seed`, as providers deliver them."""
    import random

    reasons = ["customer-ended-call", "customer-busy", "voicemail", "customer-opted-out"]
    out = []
    for i, call in enumerate(calls):
        out += lifecycle(call, reason=reasons[i % len(reasons)])
    rng = random.Random(seed)
    out += rng.sample(out, k=len(out) // 3)  # redeliveries
    rng.shuffle(out)
    return out


def _plain(value: object, field: str) -> object:
    """Event and placement times differ between the two runs (each makes its own calls): kept as
    whether they are set; next_attempt_at is decided from the `now` both runs share."""
    return value is not None if field.endswith("_at") and field != "next_attempt_at" else value


def _state(campaign: Campaign) -> tuple:
    campaign.refresh_from_db()
    calls = Call.objects.filter(campaign=campaign).order_by("customer__position", "attempt")
    customers = Customer.objects.filter(campaign=campaign).order_by("position")
    return (
        {k: getattr(campaign, k) for k in COUNTERS},
        [tuple(_plain(getattr(c, f), f) for f in CALL_FIELDS if f != "provider_call_id") for c in calls],
        [tuple(_plain(getattr(c, f), f) for f in CUSTOMER_FIELDS) for c in customers],
        sorted(c.log.filter(kind="webhook").count() for c in calls),
    )


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_of_events_records_what_the_same_events_one_by_one_record(make_campaign, owner, seed) -> None:
    now = timezone.now()
    states = []
    for batched in (False, True):
        # The opt-out's number differs between the two runs (a do-not-call entry is per number).
        campaign = services.campaign_start(
            campaign=make_campaign(
                strategy=ANY_TIME, name=f"batched {batched}", customers=customers(4, start=10 * batched)
            ),
            by=owner,
        )
        dispatch_campaign(campaign, enqueue=lambda ids: None)
        calls = [accept(c, f"prov-{c.pk}") for c in Call.objects.filter(campaign=campaign)]
        calls.sort(key=lambda c: c.customer.position)
        events = _outcome_mix(calls, seed)
        account = calls[0].provider_account
        if batched:
            services.record_call_events([(account, e) for e in events], now=now)
        else:
            for e in events:
                services.record_call_event(account=account, event=e, now=now)
        assert counters(campaign) == recount(campaign)
        states.append(_state(campaign))
    for one, other in zip(states[0][1:], states[1][1:], strict=True):
        assert one == other
    assert states[0][0] == states[1][0]
    assert states[1][2][3][0] == "skipped"  # the opted-out customer, in the batch too


def test_an_event_naming_a_call_by_the_provider_id_an_earlier_event_of_the_batch_told(running) -> None:
    [taken] = claims.take([Call.objects.filter(campaign=running).first().pk])
    [call] = claims.confirm_at_gate([(taken, "POST /call", "{}")])  # sent; its answer not stored yet
    first = CallEvent(kind="status-update", status="ringing", call_id=str(call.pk), provider_call_id="p-1")
    second = CallEvent(kind="status-update", status="in-progress", provider_call_id="p-1")
    found = services.record_call_events([(call.provider_account, first), (call.provider_account, second)])
    assert [f and f.pk for f in found] == [call.pk, call.pk]
    call.refresh_from_db()
    assert (call.status, call.provider_call_id) == ("in-progress", "p-1")
    assert counters(running) == recount(running)
