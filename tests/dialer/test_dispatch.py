"""The claim loop: due customers become queued calls, within every limit, never twice."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Call, Campaign, Customer, DoNotCall, PhoneNumber
from campaigns.rules.strategy import WEEKDAYS
from dialer.dispatch import dispatch_campaign, tick
from tests.conftest import customers
from tests.dialer.test_caller_pools import pooled

ANY_TIME = {"respect_recipient_time_zone": False, "max_concurrent_calls": 5}


def started(campaign: Campaign, owner) -> Campaign:
    return services.campaign_start(campaign=campaign, by=owner)


def enqueued() -> tuple[list, callable]:
    sent: list[str] = []
    return sent, sent.extend


def recount(campaign: Campaign) -> dict[str, int]:
    by_status = dict(Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    return {
        "calls_queued": by_status.get("queued", 0),
        "calls_in_progress": sum(by_status.get(s, 0) for s in ("ringing", "in-progress", "forwarding")),
        "calls_ended": by_status.get("ended", 0),
    }


def their_campaign(
    other_org, other_caller_id, people: list, strategy: dict, name: str = "Theirs"
) -> Campaign:
    """A started campaign of the other organization (Globex), calling at any hour."""
    other_org.allow_ignoring_recipient_time = True
    other_org.save(update_fields=["allow_ignoring_recipient_time"])
    data = services.CampaignInput(
        name=name,
        assistant_id="asst-1",
        phone_number_id=str(other_caller_id.pk),
        customers=people,
        strategy=strategy,
    )
    return services.campaign_start(
        campaign=services.campaign_create(organization=other_org, by=None, data=data), by=None
    )


def counters(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    return {k: getattr(campaign, k) for k in ("calls_queued", "calls_in_progress", "calls_ended")}


@pytest.mark.django_db(transaction=True)
def test_it_queues_no_more_calls_than_the_campaign_allows(make_campaign, owner) -> None:
    campaign = started(make_campaign(12, strategy=ANY_TIME), owner)
    sent, enqueue = enqueued()
    assert dispatch_campaign(campaign, enqueue=enqueue) == 5
    assert len(sent) == 5  # handed to placement after commit
    assert Customer.objects.filter(campaign=campaign, state="queued").count() == 5
    assert (
        counters(campaign)
        == recount(campaign)
        == {"calls_queued": 5, "calls_in_progress": 0, "calls_ended": 0}
    )
    assert dispatch_campaign(campaign, enqueue=enqueue) == 0  # every line busy
    campaign.refresh_from_db()
    assert campaign.waiting_reason == "all_lines_busy"


@pytest.mark.django_db(transaction=True)
def test_the_organization_cap_holds_across_campaigns(make_campaign, owner, org) -> None:
    org.max_concurrent_calls = 7
    org.save()
    first = started(make_campaign(10, strategy=ANY_TIME, name="A"), owner)
    second = started(
        make_campaign(10, strategy=ANY_TIME, name="B", customers=customers(10, start=100)), owner
    )
    _, enqueue = enqueued()
    assert dispatch_campaign(first, enqueue=enqueue) == 5
    assert dispatch_campaign(second, enqueue=enqueue) == 2


@pytest.mark.django_db(transaction=True)
def test_it_paces_calls_per_minute_evenly_and_says_pacing_is_what_waits(make_campaign, owner) -> None:
    campaign = started(make_campaign(10, strategy={**ANY_TIME, "calls_per_minute": 12}), owner)
    _, enqueue = enqueued()
    now = timezone.now()
    assert dispatch_campaign(campaign, now=now, enqueue=enqueue) == 1  # one, not twelve at once
    campaign.refresh_from_db()
    assert dispatch_campaign(campaign, now=now + timedelta(seconds=2), enqueue=enqueue) == 0
    campaign.refresh_from_db()
    assert campaign.waiting_reason == "pacing"  # not "every line is in use": one call of five lines
    assert campaign.waiting_until == now + timedelta(seconds=5)
    assert dispatch_campaign(campaign, now=now + timedelta(seconds=5), enqueue=enqueue) == 1
    campaign.refresh_from_db()
    assert Call.objects.filter(campaign=campaign).count() == 2
    assert campaign.waiting_reason == ""


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_share_one_pacing_bucket(make_campaign, owner) -> None:
    """The bucket is stored on the campaign row: a second worker (a fresh copy of the campaign,
    as another process loads it) finds it spent."""
    campaign = started(make_campaign(10, strategy={**ANY_TIME, "calls_per_minute": 60}), owner)
    _, enqueue = enqueued()
    now = timezone.now()
    first = dispatch_campaign(Campaign.objects.get(pk=campaign.pk), now=now, enqueue=enqueue)
    second = dispatch_campaign(Campaign.objects.get(pk=campaign.pk), now=now, enqueue=enqueue)
    assert (first, second) == (2, 0)
    assert (
        dispatch_campaign(
            Campaign.objects.get(pk=campaign.pk), now=now + timedelta(seconds=1), enqueue=enqueue
        )
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_it_skips_numbers_put_on_the_do_not_call_list_after_import(make_campaign, owner, org) -> None:
    campaign = started(make_campaign(3, strategy=ANY_TIME), owner)
    blocked = campaign.customers.first()
    DoNotCall.objects.create(
        organization=org, number=blocked.number, source="manual"
    )  # a race with the import
    _, enqueue = enqueued()
    assert dispatch_campaign(campaign, enqueue=enqueue) == 2
    blocked.refresh_from_db()
    assert (blocked.state, blocked.reason) == ("skipped", "do_not_call")
    assert not Call.objects.filter(customer=blocked).exists()


@pytest.mark.django_db(transaction=True)
def test_it_makes_customers_wait_for_their_own_morning(make_campaign, owner) -> None:
    # 03:00 tomorrow in Chicago: the callee-local floor (08:00-21:00) says wait until 08:00 there.
    morning = datetime.combine(
        timezone.now().date() + timedelta(days=1), time(8), tzinfo=ZoneInfo("America/Chicago")
    )
    now = morning - timedelta(hours=5)
    campaign = started(make_campaign(2, customers=customers(2, area="312")), owner)
    _, enqueue = enqueued()
    assert dispatch_campaign(campaign, now=now, enqueue=enqueue) == 0
    waiting = Customer.objects.filter(campaign=campaign)
    assert {(c.state, c.reason) for c in waiting} == {("pending", "recipient_local_time")}
    assert {c.next_attempt_at for c in waiting} == {morning}
    assert "America/Chicago" in waiting[0].reason_detail


@pytest.mark.django_db(transaction=True)
def test_a_paused_campaign_dispatches_nothing(make_campaign, owner) -> None:
    campaign = services.campaign_pause(campaign=started(make_campaign(3, strategy=ANY_TIME), owner), by=owner)
    _, enqueue = enqueued()
    assert dispatch_campaign(campaign, enqueue=enqueue) == 0
    assert not Call.objects.filter(campaign=campaign).exists()


@pytest.mark.django_db(transaction=True)
def test_tick_starts_due_campaigns_and_leaves_future_ones(make_campaign) -> None:
    due = make_campaign(2, strategy=ANY_TIME, name="due")
    later = make_campaign(
        2,
        strategy=ANY_TIME,
        name="later",
        customers=customers(2, start=10),
        earliest_at=datetime(2099, 1, 1, tzinfo=UTC),
    )
    held = make_campaign(
        2, strategy={**ANY_TIME, "auto_start": False}, name="held", customers=customers(2, start=20)
    )
    _, enqueue = enqueued()
    tick(enqueue=enqueue)
    statuses = dict(Campaign.objects.values_list("name", "status"))
    assert statuses == {"due": "in-progress", "later": "scheduled", "held": "scheduled"}
    assert Call.objects.filter(campaign=due).count() == 2
    assert not Call.objects.filter(campaign__in=[later, held]).exists()


@pytest.mark.django_db(transaction=True)
def test_tick_finishes_a_campaign_past_latest_at_and_says_why_customers_were_not_called(make_campaign, owner):
    campaign = started(make_campaign(3, strategy=ANY_TIME), owner)
    Campaign.objects.filter(pk=campaign.pk).update(
        latest_at=datetime(2026, 1, 1, tzinfo=UTC), earliest_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    _, enqueue = enqueued()
    tick(enqueue=enqueue)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.ended_reason) == ("ended", "campaign.ended.success")
    assert set(campaign.customers.values_list("state", "reason")) == {("skipped", "schedule_expired")}
    assert campaign.customers_final == 3


def _claim_concurrently(campaign_id, rounds: int, barrier: threading.Barrier, errors: list) -> None:
    try:
        barrier.wait()
        for _ in range(rounds):
            dispatch_campaign(Campaign.objects.get(pk=campaign_id), enqueue=lambda ids: None)
    except Exception as exc:  # noqa: BLE001
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_claim_a_customer_twice(make_campaign, owner, org) -> None:
    org.max_concurrent_calls = 1000
    org.save()
    campaign = started(make_campaign(300, strategy={**ANY_TIME, "max_concurrent_calls": 500}), owner)
    barrier, errors = threading.Barrier(4), []
    threads = [
        threading.Thread(target=_claim_concurrently, args=(campaign.pk, 6, barrier, errors)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    per_customer = Call.objects.filter(campaign=campaign).values("customer").annotate(n=Count("id"))
    assert per_customer.count() == 300
    assert max(row["n"] for row in per_customer) == 1
    assert counters(campaign) == recount(campaign)


@pytest.mark.django_db(transaction=True)
def test_tick_sends_again_a_queued_call_whose_placement_task_was_lost(make_campaign, owner) -> None:
    campaign = started(make_campaign(2, strategy=ANY_TIME), owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)  # the tasks never reach a worker
    lost = Call.objects.filter(campaign=campaign).first()
    Call.objects.filter(pk=lost.pk).update(created_at=lost.created_at - timedelta(minutes=1))
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    assert sent == [str(lost.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_lost_call_is_re_sent_once_per_interval_not_on_every_tick(make_campaign, owner) -> None:
    campaign = started(make_campaign(1, strategy=ANY_TIME), owner)
    dispatch_campaign(campaign, enqueue=lambda ids: None)
    Call.objects.filter(campaign=campaign).update(created_at=timezone.now() - timedelta(minutes=1))
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    tick(enqueue=enqueue)  # no worker took it yet: not sent twice
    assert len(sent) == 1
    tick(enqueue=enqueue, now=timezone.now() + timedelta(seconds=61))
    assert len(sent) == 2


@pytest.mark.django_db(transaction=True)
def test_equal_campaigns_share_the_organizations_lines_evenly_and_a_higher_priority_goes_first(
    make_campaign, owner, org
) -> None:
    """«Performance, round two» 2: the first campaign of an organization used to take every line."""
    org.max_concurrent_calls = 30
    org.save()
    equal = [
        started(
            make_campaign(
                customers=customers(20, start=100 * i),
                strategy={**ANY_TIME, "max_concurrent_calls": 20},
                name=f"E{i}",
            ),
            owner,
        )
        for i in range(4)
    ]
    urgent = started(
        make_campaign(
            customers=customers(20, start=900),
            strategy={**ANY_TIME, "max_concurrent_calls": 10, "priority": 9},
        ),
        owner,
    )
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    urgent.refresh_from_db()
    assert urgent.calls_queued == 10  # its cap, first
    shares = sorted(Campaign.objects.get(pk=c.pk).calls_queued for c in equal)
    assert shares == [5, 5, 5, 5]  # the 20 lines left, evenly
    assert len(sent) == 30


@pytest.mark.django_db(transaction=True)
def test_every_campaign_the_organizations_lines_cannot_serve_says_so_in_one_write(
    make_campaign, owner, org
) -> None:
    """Issue 18: a pass over many campaigns wrote each one's waiting reason in a statement of its
    own (a fifth of a pass over a thousand); now one per distinct reason, and only where it
    changed, and a campaign that gets a line later is told it is dialing again."""
    org.max_concurrent_calls = 2
    org.save()
    campaigns = [
        started(make_campaign(customers=customers(3, start=100 * i), strategy=ANY_TIME, name=f"W{i}"), owner)
        for i in range(6)
    ]
    with CaptureQueriesContext(connection) as captured:
        tick(enqueue=lambda ids: None)
    rows = {c.pk: Campaign.objects.get(pk=c.pk) for c in campaigns}
    dialing = [c for c in rows.values() if c.calls_queued]
    held = [c for c in rows.values() if not c.calls_queued]
    assert len(dialing) == 2 and all(c.waiting_reason == "" for c in dialing)
    assert len(held) == 4 and all(c.waiting_reason == "organization_lines_busy" for c in held)
    # (tick's own clearing of campaigns with nobody due is one statement too, and writes nothing here)
    busy = "SET \"waiting_reason\" = 'organization_lines_busy'"
    writes = [q["sql"] for q in captured.captured_queries if busy in q["sql"]]
    assert len(writes) == 1  # the four held campaigns, together; the two dialing were "" already
    tick(enqueue=lambda ids: None)  # the two with a call wait for a line for their next customer too
    assert {Campaign.objects.get(pk=c.pk).waiting_reason for c in campaigns} == {"organization_lines_busy"}
    with CaptureQueriesContext(connection) as captured:
        tick(enqueue=lambda ids: None)  # the same lines still busy: nothing changed, nothing written
    assert not [q for q in captured.captured_queries if busy in q["sql"]]
    # Their calls end (the organization's live calls are counted from the calls): the two lines
    # go to two of the held campaigns (none of their calls yet), which are dialing again.
    Call.objects.filter(campaign__in=dialing).update(status="ended", ended_reason="customer-ended-call")
    tick(enqueue=lambda ids: None)
    now_dialing = [c for c in held if Campaign.objects.get(pk=c.pk).calls.filter(status="queued").exists()]
    assert len(now_dialing) == 2
    assert all(Campaign.objects.get(pk=c.pk).waiting_reason == "" for c in now_dialing)


@pytest.mark.django_db(transaction=True)
def test_each_organizations_free_lines_are_its_own_when_the_tick_counts_them_together(
    make_campaign, owner, org, other_org, other_caller_id
) -> None:
    """Issue 18: the tick counts the live calls of every organization in one statement; each
    still gets its own cap less its own live calls, none of another's."""
    org.max_concurrent_calls = 3
    org.save()
    other_org.max_concurrent_calls = 2
    other_org.save()
    ours = started(
        make_campaign(customers=customers(10), strategy={**ANY_TIME, "max_concurrent_calls": 10}), owner
    )
    dispatch_campaign(ours, enqueue=lambda ids: None, limit=1)  # one of its 3 lines in use already
    their_campaign(
        other_org, other_caller_id, customers(10, start=500), {**ANY_TIME, "max_concurrent_calls": 10}
    )
    assert selectors.live_calls_counts([org.pk, other_org.pk]) == {org.pk: 1, other_org.pk: 0}
    tick(enqueue=lambda ids: None)
    assert selectors.live_calls_counts([org.pk, other_org.pk]) == {org.pk: 3, other_org.pk: 2}
    assert (selectors.live_calls_count(org.pk), selectors.live_calls_count(other_org.pk)) == (3, 2)


@pytest.mark.django_db(transaction=True)
def test_a_campaign_with_live_calls_gets_fewer_new_lines_than_one_without(make_campaign, owner, org) -> None:
    org.max_concurrent_calls = 10
    org.save()
    busy = started(
        make_campaign(customers=customers(20), strategy={**ANY_TIME, "max_concurrent_calls": 20}, name="B"),
        owner,
    )
    dispatch_campaign(busy, enqueue=lambda ids: None, limit=6)  # 6 lines in use already
    idle = started(
        make_campaign(
            customers=customers(20, start=500), strategy={**ANY_TIME, "max_concurrent_calls": 20}, name="I"
        ),
        owner,
    )
    tick(enqueue=lambda ids: None)
    busy.refresh_from_db()
    idle.refresh_from_db()
    assert (busy.calls_queued, idle.calls_queued) == (6, 4)  # water-filled: the idle one catches up


def test_hours_and_concurrency_changed_while_running_apply_from_the_next_pass(make_campaign, owner) -> None:
    """Issue 17: a supervisor narrows a running campaign's hours and concurrency; the dispatcher's
    next pass follows them (nothing is queued outside the new hours), and the change is audited."""
    from campaigns.models import AuditEvent

    campaign = started(make_campaign(10, strategy=ANY_TIME), owner)
    now = timezone.now()
    closed = (now + timedelta(hours=3)).astimezone(UTC)  # a window that starts hours from now
    window = {"day": WEEKDAYS[closed.weekday()], "start": f"{closed:%H}:00", "end": f"{closed:%H}:30"}
    changes = services.CampaignChanges(
        fields={"strategy"},
        strategy={"calling_hours": [window], "time_zone": "UTC", "max_concurrent_calls": 2},
    )
    services.campaign_update(campaign=campaign, by=owner, changes=changes)
    campaign.refresh_from_db()
    assert campaign.status == "in-progress" and campaign.max_concurrent_calls == 2
    assert dispatch_campaign(campaign, enqueue=lambda ids: None, now=now) == 0  # outside the new hours
    assert campaign.calls.count() == 0
    later = closed.replace(minute=10, second=0, microsecond=0)
    assert dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None, now=later) == 2
    audit = AuditEvent.objects.filter(action="campaign.update", target_id=str(campaign.pk)).latest(
        "created_at"
    )
    assert audit.after["max_concurrent_calls"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_caller_ids_cap_holds_across_the_campaigns_claimed_together(make_campaign, owner, org, caller_id):
    """Issue 18: an organization's campaigns are claimed in one round; the caller ID they share
    counts every call chosen in that round, whichever campaign chose it."""
    caller_id.max_concurrent_calls = 4
    caller_id.save()
    both = [
        started(make_campaign(customers=customers(5, start=100 * i), strategy=ANY_TIME, name=f"C{i}"), owner)
        for i in range(2)
    ]
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    assert len(sent) == Call.objects.filter(phone_number=caller_id).count() == 4
    waiting = Customer.objects.filter(campaign__in=both, state="pending", reason="no_caller_id")
    assert waiting.count() == 6  # the rest wait for the number, in both campaigns
    for campaign in both:
        assert counters(campaign) == recount(campaign)


@pytest.mark.django_db(transaction=True)
def test_a_campaign_whose_first_customers_are_refused_claims_again_in_the_same_pass(
    make_campaign, owner, org
) -> None:
    """Issue 18: the round repeats for the campaigns claimed together whose refusals left room."""
    refused = started(
        make_campaign(customers=customers(6), strategy={**ANY_TIME, "max_concurrent_calls": 3}), owner
    )
    other = started(
        make_campaign(
            customers=customers(6, start=500), strategy={**ANY_TIME, "max_concurrent_calls": 3}, name="O"
        ),
        owner,
    )
    first = list(Customer.objects.filter(campaign=refused).order_by("next_attempt_at", "sort_key")[:3])
    DoNotCall.objects.bulk_create(
        [DoNotCall(organization=org, number=c.number, source="manual") for c in first]
    )
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    assert len(sent) == 6
    assert Customer.objects.filter(campaign=refused, state="skipped", reason="do_not_call").count() == 3
    assert {c.pk for c in first}.isdisjoint(
        Call.objects.filter(campaign=refused).values_list("customer", flat=True)
    )
    for campaign in (refused, other):
        assert (
            counters(campaign)
            == recount(campaign)
            == {"calls_queued": 3, "calls_in_progress": 0, "calls_ended": 0}
        )


@pytest.mark.django_db(transaction=True)
def test_the_organizations_due_together_are_claimed_in_one_round_each_within_its_own_caps_and_list(
    make_campaign, owner, org, other_org, other_caller_id
) -> None:
    """Issue 18: a tick claims the campaigns of several organizations in one transaction (one
    insert of calls for all of them); each keeps its own cap, and a number on one organization's
    do-not-call list is skipped there and still called by the other, which did not list it."""
    org.max_concurrent_calls = 10  # room for every customer of ours: one round does it
    org.save()
    other_org.max_concurrent_calls = 2
    other_org.save()
    strategy = {**ANY_TIME, "max_concurrent_calls": 10}
    ours = [
        started(make_campaign(customers=customers(4, start=10 * i), strategy=strategy, name=f"O{i}"), owner)
        for i in range(2)
    ]
    theirs = their_campaign(other_org, other_caller_id, customers(4), strategy)  # the numbers of O0
    listed = Customer.objects.get(campaign=ours[0], number="+14155550000")
    DoNotCall.objects.create(
        organization=org, number=listed.number, source="manual"
    )  # a race with the import
    with CaptureQueriesContext(connection) as captured:
        tick(enqueue=lambda ids: None)
    inserts = [q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "campaigns_call"')]
    assert len(inserts) == 1
    assert selectors.live_calls_counts([org.pk, other_org.pk]) == {org.pk: 7, other_org.pk: 2}
    listed.refresh_from_db()
    assert (listed.state, listed.reason) == ("skipped", "do_not_call")
    assert Call.objects.filter(campaign=theirs, customer__number=listed.number).exists()
    for campaign in [*ours, theirs]:
        assert counters(campaign) == recount(campaign)


@pytest.mark.django_db(transaction=True)
def test_an_organization_whose_claim_fails_holds_up_no_other_claimed_with_it(
    make_campaign, owner, org, other_org, other_caller_id
) -> None:
    """Issue 18: organizations claimed together fail together; the tick then claims each on its
    own, and within the failing one each campaign on its own: only the broken campaigns wait.
    One fails its gate (asked before the lines are shared), one its claim."""
    broken = started(make_campaign(2, strategy=ANY_TIME, name="Broken"), owner)
    zoneless = started(
        make_campaign(customers=customers(2, start=30), strategy={"max_concurrent_calls": 5}, name="Z"),
        owner,
    )
    healthy = started(
        make_campaign(customers=customers(2, start=50), strategy=ANY_TIME, name="Healthy"), owner
    )
    theirs = their_campaign(other_org, other_caller_id, customers(2, start=90), ANY_TIME)
    # Broken data (a zone the tz database no longer has) in one campaign makes its policy raise,
    # in another's customers (their callee-local hours are checked) its claim.
    Campaign.objects.filter(pk=broken.pk).update(time_zone="Mars/Olympus_Mons")
    Customer.objects.filter(campaign=zoneless).update(time_zones="Mars/Olympus_Mons")
    tick(enqueue=lambda ids: None)
    assert Call.objects.filter(campaign=healthy).count() == 2
    assert Call.objects.filter(campaign=theirs).count() == 2
    assert not Call.objects.filter(campaign__in=[broken, zoneless]).exists()


@pytest.mark.django_db(transaction=True)
def test_a_campaign_paused_or_narrowed_after_the_pass_read_it_is_claimed_as_its_locked_row_says(
    make_campaign, owner
) -> None:
    """The pass reads the running campaigns first and locks them later: what changed in between
    (paused, a lower cap) is what the claim follows, never the row it read first."""
    paused = started(make_campaign(3, strategy=ANY_TIME, name="Paused"), owner)
    narrowed = started(
        make_campaign(customers=customers(5, start=20), strategy=ANY_TIME, name="Narrowed"), owner
    )
    read_first = [Campaign.objects.get(pk=paused.pk), Campaign.objects.get(pk=narrowed.pk)]
    services.campaign_pause(campaign=paused, by=owner)
    Campaign.objects.filter(pk=narrowed.pk).update(max_concurrent_calls=1)
    assert dispatch_campaign(read_first[0], enqueue=lambda ids: None) == 0
    assert dispatch_campaign(read_first[1], enqueue=lambda ids: None) == 1
    assert not Call.objects.filter(campaign=paused).exists()
    assert Call.objects.filter(campaign=narrowed).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_tick_claims_a_plain_a_dial_plan_and_a_pool_campaign_together_each_from_its_own_numbers(
    make_campaign, owner, org, caller_id, second_caller_id, provider
) -> None:
    """Issue 18: the tick reads its campaigns lightly and reads whole only those whose claim needs
    more than their caller ID (a dial plan, a pool); claimed in one round, each still dials from
    its own numbers, through each number's own provider account."""
    plain = started(make_campaign(customers=customers(2), strategy=ANY_TIME, name="Plain"), owner)
    plan = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Plan",
            squad_id="squad-1",
            strategy=ANY_TIME,
            dial_plan=[
                services.DialPlanInput(str(caller_id.pk), customers(2, start=20)),
                services.DialPlanInput(str(second_caller_id.pk), customers(2, start=30)),
            ],
        ),
    )
    started(plan, owner)
    local = PhoneNumber.objects.create(organization=org, provider_account=provider, number="+12125550100")
    pool = pooled(org, owner, caller_id, [local], customers(2, start=40, area="212"), strategy=ANY_TIME)
    with CaptureQueriesContext(connection) as captured:
        tick(enqueue=lambda ids: None)
    assert (
        len([q for q in captured.captured_queries if q["sql"].startswith('INSERT INTO "campaigns_call"')])
        == 1
    )

    def numbers(campaign: Campaign) -> dict[str, str]:
        return dict(
            Call.objects.filter(campaign=campaign).values_list("customer__number", "phone_number__number")
        )

    assert set(numbers(plain).values()) == {caller_id.number}
    assert numbers(plan) == {
        "+14155550020": caller_id.number,
        "+14155550021": caller_id.number,
        "+14155550030": second_caller_id.number,
        "+14155550031": second_caller_id.number,
    }
    assert numbers(pool) == {"+12125550040": local.number, "+12125550041": local.number}
    assert not Call.objects.filter(provider_account__isnull=True).exists()
    assert Call.objects.filter(campaign=pool).exclude(caller_id_choice="").count() == 2


@pytest.mark.django_db
def test_the_tick_decides_a_campaign_from_its_first_read_as_from_its_whole_row(
    make_campaign, owner, org
) -> None:
    """The tick decides each running campaign's gate from a read of the fields rules.policy
    names (CAMPAIGN_FIELDS), not the whole row: the policy must come out the same, whatever the
    strategy sets."""
    from campaigns.rules.policy import campaign_policy
    from dialer.dispatch import _running

    org.blackout_dates = ["2026-12-25"]
    org.save()
    strategy = {
        "respect_recipient_time_zone": True,
        "recipient_earliest": time(10),
        "recipient_latest": time(18),
        "max_attempts": 4,
        "retry_delays": {"busy": 120, "noAnswer": 600, "voicemail": 900, "failed": 60},
        "retry_voicemail": True,
        "time_zone": "America/Chicago",
        "calling_hours": [{"day": "mon", "start": "09:00", "end": "17:00"}],
    }
    campaign = started(make_campaign(3, strategy=strategy), owner)
    Campaign.objects.filter(pk=campaign.pk).update(blackout_dates=["2027-01-01"], ambiguous_zones="campaign")
    (first_read,) = _running(Campaign.objects.filter(pk=campaign.pk))
    whole = Campaign.objects.select_related("organization").get(pk=campaign.pk)
    assert campaign_policy(first_read) == campaign_policy(whole)
    assert campaign_policy(first_read, quota_spent=True) == campaign_policy(whole, quota_spent=True)


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_many_campaigns_reads_them_whole_once_and_only_their_rules_again_at_the_gate(
    make_campaign, owner
) -> None:
    """Issue 18: a placement batch of calls of many campaigns read every campaign whole, with its
    organization joined, twice (when taken and at the gate). Now whole once, when taken (its
    request needs it), and at the gate, after the locks, only what its rules decide from; the
    organizations once for all of them."""
    from dialer import claims

    for i in range(4):
        started(make_campaign(customers=customers(1, start=10 * i), strategy=ANY_TIME, name=f"B{i}"), owner)
    sent, enqueue = enqueued()
    tick(enqueue=enqueue)
    assert len(sent) == 4
    with CaptureQueriesContext(connection) as captured:
        taken = claims.take(sent)
        confirmed = claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken])
    assert len(confirmed) == 4
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    campaigns = [sql for sql in reads if 'FROM "campaigns_campaign"' in sql]
    whole = [sql for sql in campaigns if '"assistant_overrides"' in sql]
    assert len(whole) == 1 and '"campaigns_organization"' not in whole[0]
    assert len([sql for sql in campaigns if '"calling_hours"' in sql]) == 2  # taken whole; the gate's rules
    assert len([sql for sql in reads if sql.split(" FROM ")[1].startswith('"campaigns_organization"')]) == 2


def _held_and_free(make_campaign, owner, org, held: dict) -> tuple[Campaign, Campaign]:
    """Two started campaigns of an organization of 10 lines, 20 customers each: one with the
    `held` strategy, one that may dial at once (15 lines of its own); then three beats of the tick."""
    org.max_concurrent_calls = 10
    org.save()
    pair = [
        started(make_campaign(customers=customers(20, start=start), strategy=strategy, name=name), owner)
        for start, strategy, name in (
            (100, held, "Held"),
            (300, {**ANY_TIME, "max_concurrent_calls": 15}, "Free"),
        )
    ]
    for _ in range(3):
        tick(enqueue=lambda ids: None)
    return Campaign.objects.get(pk=pair[0].pk), Campaign.objects.get(pk=pair[1].pk)


@pytest.mark.django_db(transaction=True)
def test_a_campaign_outside_its_hours_takes_no_share_of_the_organizations_lines(
    make_campaign, owner, org
) -> None:
    """The lines were shared before each campaign's gate was asked: a campaign outside its calling
    hours (no live call, so first in line every pass) was given part of the organization's free
    lines, could not use them, and its open sister campaign was held at half the lines, told they
    went to the organization's other campaigns. The gate is asked first now: only campaigns that
    may dial are given lines, and the closed one says why it waits."""
    later = (timezone.now() + timedelta(hours=3)).astimezone(UTC)  # a window hours from now
    window = {"day": WEEKDAYS[later.weekday()], "start": f"{later:%H}:00", "end": f"{later:%H}:30"}
    hours = {"calling_hours": [window], "time_zone": "UTC", "max_concurrent_calls": 10}
    closed, free = _held_and_free(make_campaign, owner, org, hours)
    assert (closed.calls_queued, free.calls_queued) == (0, 10)  # every line the organization has
    assert closed.waiting_reason == "outside_calling_hours"
    assert free.waiting_reason == "organization_lines_busy"  # the organization's 10 are in use


@pytest.mark.django_db(transaction=True)
def test_a_paced_campaign_takes_no_more_of_the_organizations_lines_than_its_pacing_allows(
    make_campaign, owner, org
) -> None:
    """The same class as a closed campaign's share: a campaign paced to a few calls a minute, with
    few live calls, was first in line every pass and held lines its pacing would not let it use.
    Each campaign is now given at most what its own limits (lines and pacing) let it start."""
    pacing = {**ANY_TIME, "max_concurrent_calls": 10, "calls_per_minute": 1}
    paced, free = _held_and_free(make_campaign, owner, org, pacing)
    assert paced.calls_queued == 1  # its one call a minute
    assert free.calls_queued == 9  # and every other line of the organization
