"""Lookups of many values in a column that a partial index covers only where it is set (a call's
provider id, a customer's number). PostgreSQL proves a partial index's condition from an IN list
of at most 100 values; past that, without the condition spelled out, it read every row the
index leaves out as well. Each lookup is checked through its plan, with sequential scans priced
out as on a table of millions of rows.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, Customer
from campaigns.services.inputs import CallEvent
from dialer.dispatch import dispatch_campaign, tick
from tests.campaigns.test_call_events import ANY_TIME, placed

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")


def plan_of(sql: str, *, only: str = "") -> str:
    """The plan of `sql` with sequential scans priced out; with `only`, the table's other indexes
    (but those of its key and constraints) dropped first, in the test's transaction, rolled back
    with it, so a small table's plan cannot pick another index that a large one would not."""
    with connection.cursor() as cursor:
        if only:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename = (SELECT tablename FROM pg_indexes"
                " WHERE indexname = %s) AND indexname <> %s"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)",  # a constraint's stays
                [only, only],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET enable_seqscan = off")  # what a table of millions of rows makes of it
        try:
            cursor.execute(f"EXPLAIN {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.execute("RESET enable_seqscan")


def test_a_batch_naming_more_than_a_hundred_calls_by_provider_id_finds_them_through_the_index(
    make_campaign, owner
) -> None:
    """PostgreSQL proves a partial index's condition from an IN list of at most 100 values: a batch
    of webhooks naming more provider ids read the whole calls table (or all of the account's calls
    through its foreign key's index) until the lookup spelled the condition out
    (Call.with_provider_ids)."""
    running = services.campaign_start(campaign=make_campaign(3, strategy=ANY_TIME), by=owner)
    dispatch_campaign(running, enqueue=lambda ids: None)
    call = placed(running)
    named = [CallEvent(kind="status-update", status="ringing", provider_call_id=f"prov-{call.pk}")]
    named += [
        CallEvent(kind="status-update", status="ringing", provider_call_id=f"gone-{i}") for i in range(150)
    ]
    with CaptureQueriesContext(connection) as seen:
        found = services.record_call_events([(call.provider_account, e) for e in named])
    assert found[0].pk == call.pk and found[1:] == [None] * 150
    [lookup] = [q["sql"] for q in seen.captured_queries if '"provider_call_id" IN' in q["sql"]]
    # Without the account's index, which a table of one call prefers (rows=1) and which reads all
    # of an account's calls at scale.
    plan = plan_of(lookup, only="call_provider_id_unique")
    assert "call_provider_id_unique" in plan
    assert "Seq Scan on campaigns_call" not in plan


def test_numbers_joining_the_do_not_call_list_skip_each_campaigns_customers_through_the_index(
    make_campaign, org, owner
) -> None:
    campaign = make_campaign(3)
    listed = Customer.objects.filter(campaign=campaign).order_by("position").first()
    numbers = [listed.number] + [f"+1206555{i:04d}" for i in range(150)]  # nobody else's
    with CaptureQueriesContext(connection) as seen:
        services.dnc_add(organization=org, by=owner, numbers=[(n, "") for n in numbers])
    listed.refresh_from_db()
    assert (listed.state, listed.reason) == ("skipped", "do_not_call")
    assert Customer.objects.filter(campaign=campaign, state="pending").count() == 2
    [skip] = [q["sql"] for q in seen.captured_queries if q["sql"].startswith('UPDATE "campaigns_customer"')]
    assert "customer_number_unique" in plan_of(skip, only="customer_number_unique")


def test_the_tick_reads_one_index_entry_per_campaign_however_many_customers_wait(org, caller_id) -> None:
    """Which running campaigns have a customer due is read from customer_due_pending, a few index
    pages per campaign, never by walking a campaign's waiting customers (dispatch._first_due).
    Asked as EXISTS, PostgreSQL chose by its statistics: on the bench's data (1,000 idle
    campaigns beside a million-customer one) it walked each campaign's pending customers
    through customer_campaign_state, 75 ms a pass against 7.6 ms; on this test's 300 campaigns
    it chose the due index for the EXISTS too, so this test guards the read, and the bench
    (bench_tick's idle pass) shows the difference."""
    now, waiting = timezone.now(), 20
    campaigns = Campaign.objects.bulk_create(
        Campaign(
            organization=org,
            name=f"idle {c}",
            assistant_id="a",
            phone_number=caller_id,
            status="in-progress",
            started_at=now,
            respect_recipient_time_zone=False,
            customers_total=waiting,
            customers_pending=waiting,
        )
        for c in range(300)
    )
    Customer.objects.bulk_create(
        Customer(
            id=uuid.uuid4(),
            campaign=campaign,
            position=i,
            sort_key=i,
            number=f"+1415{n:04d}{i:03d}",
            next_attempt_at=now + timedelta(days=1),
            attempts=1,
            reason="retry_delay",
        )
        for n, campaign in enumerate(campaigns)
        for i in range(waiting)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaign, campaigns_customer")
    with CaptureQueriesContext(connection) as seen:
        tick(enqueue=lambda ids: None)
    [due] = [
        q["sql"]
        for q in seen.captured_queries
        if q["sql"].startswith("SELECT") and "next_attempt_at" in q["sql"]
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {due}")
        [[[plan]]] = cursor.fetchall()
    assert "customer_campaign_state" not in str(plan)
    read = plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"]
    assert read < 5 * len(campaigns), read  # a few index pages per campaign, not its waiting rows
