"""Bulk actions on every customer a filter matches (not only a page), and moving customers between
campaigns of one organization: one UPDATE, counters moved by the rows changed in the same
transaction (they equal a recount after), audited, refused with a clear reason where the state
forbids it."""

from __future__ import annotations

from collections import Counter

import pytest

from campaigns import services
from campaigns.models import AuditEvent, Campaign, Customer
from campaigns.rules.contacts import BUCKETS, bucket
from campaigns.services import CustomerFilter
from tests.conftest import customers
from tests.dashboard.conftest import their_campaign as their_campaign  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db(transaction=True)
QUIET = {"auto_start": False, "respect_recipient_time_zone": False}


def stored(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    return {name: getattr(campaign, name) for name in (*BUCKETS, "customers_total")}


def recount(campaign: Campaign) -> dict[str, int]:
    rows = Customer.objects.filter(campaign=campaign).values_list("state", "reason")
    found = Counter(bucket(state, reason) for state, reason in rows)
    return {name: found.get(name, 0) for name in BUCKETS} | {"customers_total": sum(found.values())}


def settle(campaign: Campaign, positions: list[int], state: str, **more: object) -> None:
    """Put some customers in another state, as calls would have, and the counters with them."""
    Customer.objects.filter(campaign=campaign, position__in=positions).update(state=state, **more)
    Campaign.objects.filter(pk=campaign.pk).update(**recount(campaign))


def names(campaign: Campaign, **where: object) -> set[str]:
    return set(Customer.objects.filter(campaign=campaign, **where).values_list("name", flat=True))


def test_cancel_every_customer_matching_a_search_across_pages(make_campaign, owner) -> None:
    campaign = make_campaign(120, strategy=QUIET)  # five pages of 25
    settle(campaign, [1, 15], "completed")
    # "Customer 1" matches Customer 1, 10-19 and 100-119: 31 names, of whom 2 are no longer pending.
    done = services.customers_cancel(
        campaign=campaign, by=owner, matching=CustomerFilter(q="Customer 1"), confirmed=29
    )
    assert done == 29
    assert names(campaign, state="cancelled") == {
        f"Customer {i}" for i in (*range(10, 20), *range(100, 120)) if i != 15
    }
    assert stored(campaign) == recount(campaign)
    audit = AuditEvent.objects.get(action="customers.cancel")
    assert audit.after == {"filter": {"q": "Customer 1"}, "confirmed": 29, "cancelled": 29}


def test_retry_every_pending_customer_with_a_reason(make_campaign, owner) -> None:
    campaign = make_campaign(40, strategy=QUIET)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    later = Customer.objects.filter(campaign=campaign, position__lt=10)
    later.update(reason="retry_delay", next_attempt_at=campaign.created_at.replace(year=2099))
    done = services.customers_retry_now(
        campaign=campaign, by=owner, matching=CustomerFilter(state="pending", reason="retry_delay")
    )
    assert done == 10
    assert not Customer.objects.filter(campaign=campaign, next_attempt_at__year=2099).exists()


@pytest.mark.parametrize("action", ["customers_cancel", "customers_retry_now"])
def test_a_filter_for_customers_who_are_not_pending_is_refused_naming_the_state(
    action, make_campaign, owner
) -> None:
    campaign = make_campaign(5, strategy=QUIET)
    settle(campaign, [0, 1], "completed")
    with pytest.raises(services.ValidationFailed) as refused:
        getattr(services, action)(campaign=campaign, by=owner, matching=CustomerFilter(state="completed"))
    [error] = refused.value.errors
    assert error.field == "state" and "only customers still waiting (pending)" in str(error)
    assert "this filter chooses completed ones" in str(error)
    assert stored(campaign) == recount(campaign) and not AuditEvent.objects.filter(
        action__startswith="customers."
    )


def test_an_ended_campaign_refuses_bulk_actions(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(5, strategy=QUIET), by=owner)
    services.campaign_end(campaign=campaign, by=owner)
    with pytest.raises(services.InvalidTransition):
        services.customers_cancel(campaign=campaign, by=owner, matching=CustomerFilter())


# -- moving customers between campaigns ---------------------------------------------------------


@pytest.fixture
def target(make_campaign) -> Campaign:
    """A scheduled campaign of the same organization with two customers, one number shared."""
    return make_campaign(
        0, name="Winback", strategy=QUIET, customers=customers(1, start=7) + customers(1, start=500)
    )


def test_customers_move_into_a_scheduled_campaign_with_both_counters(make_campaign, owner, target) -> None:
    source = services.campaign_start(campaign=make_campaign(30, strategy=QUIET), by=owner)
    settle(source, [2], "completed")  # settled: stays
    Customer.objects.filter(campaign=source, position=4).update(attempts=1)  # called once: stays
    moved = services.customers_move(
        campaign=source, to=target, by=owner, matching=CustomerFilter(q="Customer "), confirmed=27
    )
    # 30 customers, minus the settled one, the one already called, and Customer 7 (target has the number).
    assert moved == 27
    assert names(target) == {f"Customer {i}" for i in range(30) if i not in (2, 4)} | {"Customer 500"}
    assert names(source) == {"Customer 2", "Customer 4", "Customer 7"}
    assert stored(source) == recount(source) and stored(target) == recount(target)
    # After the target's own customers, in the source's order, each position once.
    rows = list(Customer.objects.filter(campaign=target).order_by("position").values_list("name", "position"))
    assert [name for name, _ in rows[:2]] == ["Customer 7", "Customer 500"]
    assert [name for name, _ in rows[2:5]] == ["Customer 0", "Customer 1", "Customer 3"]
    positions = [p for _, p in rows]
    assert positions == sorted(set(positions))
    out, into = (
        AuditEvent.objects.get(action="customers.move_out"),
        AuditEvent.objects.get(action="customers.move_in"),
    )
    assert (out.target_id, into.target_id) == (str(source.pk), str(target.pk))
    assert out.after["moved"] == into.after["moved"] == 27 and out.after["campaign_name"] == "Winback"


def test_chosen_customers_move_into_a_paused_campaign_and_are_dialed_in_its_order(
    make_campaign, owner, target
) -> None:
    source = make_campaign(5, strategy=QUIET)
    target = services.campaign_pause(campaign=services.campaign_start(campaign=target, by=owner), by=owner)
    chosen = list(Customer.objects.filter(campaign=source, position__in=[0, 3]).values_list("pk", flat=True))
    assert services.customers_move(campaign=source, to=target, by=owner, customer_ids=chosen) == 2
    assert stored(source) == recount(source) and stored(target) == recount(target)
    moved = Customer.objects.filter(pk__in=chosen)
    assert {c.sort_key for c in moved} == {c.position for c in moved}  # fifo: its dialing order


@pytest.mark.parametrize("status", ["in-progress", "ended"])
def test_a_running_or_ended_target_is_refused_and_nothing_moves(status, make_campaign, owner, target) -> None:
    source = make_campaign(5, strategy=QUIET)
    target = services.campaign_start(campaign=target, by=owner)
    if status == "ended":
        target = services.campaign_end(campaign=target, by=owner)
    with pytest.raises(services.ValidationFailed) as refused:
        services.customers_move(campaign=source, to=target, by=owner, matching=CustomerFilter())
    [error] = refused.value.errors
    assert error.field == "to" and f"“Winback” is {status}" in str(error)
    assert Customer.objects.filter(campaign=source).count() == 5
    assert stored(source) == recount(source)


def test_another_organizations_campaign_is_refused(make_campaign, owner, their_campaign) -> None:
    source = make_campaign(3, strategy=QUIET)
    with pytest.raises(services.ValidationFailed) as refused:
        services.customers_move(campaign=source, to=their_campaign, by=owner, matching=CustomerFilter())
    assert refused.value.errors[0].field == "to"
    assert Customer.objects.filter(campaign=source).count() == 3
