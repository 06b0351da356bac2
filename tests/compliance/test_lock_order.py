"""One lock order: a transaction that holds campaign rows never waits for an earlier one.

A batch of outcomes holds its campaigns' rows (services.record_call_events); an opt-out recorded in
it skips the number in other campaigns, which means locking their rows too. Waiting for a row
before the last one held is how two such transactions deadlock: those are taken NOWAIT, the
database refuses at once, and the batch is recorded again (one by one, then on the next run).
"""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from campaigns import services
from campaigns.models import Campaign, Customer, DoNotCall
from campaigns.services.tx import campaigns_held, lock_campaigns
from tests.conftest import customers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes every writer; there are no row locks to order")


def other_connection() -> psycopg.Connection:
    params = {k: v for k, v in connection.get_connection_params().items() if k != "context"}
    return psycopg.connect(**params)


def three_campaigns(make_campaign) -> list[Campaign]:
    # Callable at any hour of the day the suite runs (the organization allows it): these tests are
    # about locks, not hours (regression: they failed whenever it was night in Los Angeles).
    anytime = {"respect_recipient_time_zone": False}
    made = [make_campaign(name=f"c{i}", customers=customers(1, start=i), strategy=anytime) for i in range(3)]
    return sorted(made, key=lambda c: str(c.pk))


def test_a_row_before_the_last_one_held_is_refused_at_once_not_waited_for(postgres, make_campaign) -> None:
    first, middle, last = three_campaigns(make_campaign)
    with other_connection() as other:
        other.execute("SELECT 1 FROM campaigns_campaign WHERE id = %s FOR UPDATE", [middle.pk])
        began = time.monotonic()
        with pytest.raises(OperationalError) as refused, transaction.atomic():
            lock_campaigns([first.pk, last.pk], "no_key_update")
            with campaigns_held([first.pk, last.pk]):
                lock_campaigns([middle.pk], "no_key_update")
        assert refused.value.__cause__.sqlstate == "55P03"  # lock_not_available
        assert time.monotonic() - began < 2  # not the deadlock detector's wait


def test_rows_after_the_last_one_held_are_waited_for(postgres, make_campaign) -> None:
    first, middle, last = three_campaigns(make_campaign)
    with other_connection() as other:
        other.execute("SELECT 1 FROM campaigns_campaign WHERE id = %s FOR UPDATE", [last.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        try:
            with pytest.raises(OperationalError) as waited, transaction.atomic():
                lock_campaigns([first.pk], "no_key_update")
                with campaigns_held([first.pk, middle.pk]):
                    lock_campaigns([last.pk], "no_key_update")
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert "lock timeout" in str(waited.value)  # it waited (until our short timeout)


def test_an_opt_out_in_a_batch_skips_the_number_in_a_campaign_another_transaction_holds(
    postgres, make_campaign, owner, org
) -> None:
    """The batch holds two campaigns around a third that holds the same person, pending; someone
    holds that third campaign. The batch is refused at once (never a deadlock wait), recorded one
    event at a time, which waits its turn, and the person is skipped in the third campaign too."""
    from dialer.dispatch import dispatch_campaign
    from tests.campaigns.test_call_events import accept, event

    first, middle, last = three_campaigns(make_campaign)
    number = middle.customers.get().number
    # The opted-out person is also the pending customer of `middle`.
    Customer.objects.filter(campaign=first).update(number=number)
    calls = []
    for campaign in (first, last):
        services.campaign_start(campaign=campaign, by=owner)
        dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)
        [call] = campaign.calls.all()
        calls.append(accept(call, f"prov-{call.pk}"))
    services.campaign_start(campaign=middle, by=owner)
    account = calls[0].provider_account
    opt_out = event(calls[0], "status-update", "ended", ended_reason="customer-opted-out")
    ringing = event(calls[1], "status-update", "ringing")
    with other_connection() as other:
        other.execute("BEGIN")
        other.execute("SELECT 1 FROM campaigns_campaign WHERE id = %s FOR UPDATE", [middle.pk])
        with pytest.raises(OperationalError), transaction.atomic():
            services.record_call_events(
                [(calls[0].provider_account, opt_out), (calls[1].provider_account, ringing)]
            )
        other.execute("ROLLBACK")
    # One by one (what dialer.webhooks does next): the opt-out holds only `first`, so it waits.
    services.record_call_event(account=account, event=opt_out)
    services.record_call_event(account=account, event=ringing)
    assert DoNotCall.objects.filter(organization=org, number=number).exists()
    skipped = Customer.objects.get(campaign=middle)
    assert (skipped.state, skipped.reason) == ("skipped", "do_not_call")
    middle.refresh_from_db()
    assert (middle.customers_skipped, middle.customers_final) == (1, 1)


@pytest.mark.django_db
def test_a_lock_helper_given_one_id_instead_of_a_collection_refuses(org) -> None:
    """A string id would be taken character by character for ids, locking nothing (the review of
    issue 18 found lock_organizations given one organization's id)."""
    from campaigns.services.tx import lock_organizations

    with transaction.atomic():
        for one in (org.pk, str(org.pk)):
            with pytest.raises(TypeError, match="as a collection"):
                lock_organizations(one, "update")
        lock_organizations([org.pk], "update")  # as meant
