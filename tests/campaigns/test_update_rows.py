"""services.tx.update_rows: many locked rows' changed fields in one statement (what recording a
batch of webhook events writes its calls with), on PostgreSQL and SQLite alike."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, Customer
from campaigns.services.tx import update_rows
from dialer.dispatch import dispatch_campaign

ANY_TIME = {"respect_recipient_time_zone": False}


@pytest.fixture
def calls(make_campaign, owner) -> list[Call]:
    campaign = services.campaign_start(campaign=make_campaign(3, strategy=ANY_TIME), by=owner)
    dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)
    return list(Call.objects.filter(campaign=campaign).order_by("pk"))


FIELDS = (
    "status",
    "ended_reason",
    "ended_at",
    "started_at",
    "duration_seconds",
    "cost",
    "analysis",
    "structured_data",
    "structured_data_valid",
    "transcript",
)


def test_each_row_gets_its_own_values_of_every_type_in_one_statement(calls) -> None:
    now = timezone.now().replace(microsecond=123456)
    for i, call in enumerate(calls):
        call.status = "ended"
        call.ended_reason = f"reason-{i}"
        call.ended_at = now + timedelta(seconds=i)
        call.started_at = None if i == 0 else now
        call.duration_seconds = 1.5 * i
        call.cost = Decimal("0.1234") * i
        call.analysis = {"summary": f"call {i}", "nested": [i, {"deep": i % 2 == 0}]}
        call.structured_data = None if i == 1 else {"answered": i == 2}
        call.structured_data_valid = None if i == 1 else i == 2
        call.transcript = 'AI: l\'été ‘quoted’ "double" %s %(x)s\nUser: ✓' * (i + 1)
    untouched = Call.objects.get(pk=calls[0].pk).provider_call_id
    with CaptureQueriesContext(connection) as queries:
        update_rows(Call, calls, FIELDS)
    assert len(queries) == 1
    for i, call in enumerate(calls):
        stored = Call.objects.get(pk=call.pk)
        assert {f: getattr(stored, f) for f in FIELDS} == {f: getattr(call, f) for f in FIELDS}, i
    assert Call.objects.get(pk=calls[0].pk).provider_call_id == untouched  # a field not named


def test_rows_not_given_are_left_alone(calls) -> None:
    first, *others = calls
    first.summary = "changed"
    update_rows(Call, [first], ["summary"])
    assert Call.objects.get(pk=first.pk).summary == "changed"
    assert all(Call.objects.get(pk=c.pk).summary == c.summary for c in others)


def test_no_rows_is_no_statement(calls) -> None:
    with CaptureQueriesContext(connection) as queries:
        update_rows(Call, [], ["status"])
    assert not queries


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite does not check a varchar's length")
def test_a_value_too_long_for_its_column_is_refused_not_cut(calls) -> None:
    """A cast to varchar(100) would cut it silently; the column's own check refuses it, and
    nothing of the statement is written."""
    calls[0].caller_id_choice = "fine"
    calls[1].caller_id_choice = "x" * 101
    with pytest.raises(DataError), transaction.atomic():
        update_rows(Call, calls[:2], ["caller_id_choice"])
    assert Call.objects.get(pk=calls[0].pk).caller_id_choice == ""


def test_with_if_null_only_rows_still_unset_are_written_and_counted(calls) -> None:
    first, second, third = (c.customer for c in calls)
    earlier = timezone.now().replace(microsecond=0) - timedelta(days=1)
    Customer.objects.filter(pk=first.pk).update(dialed_at=earlier)  # dialed before
    now = timezone.now().replace(microsecond=0)
    for customer in (first, second):
        customer.dialed_at = now
    written = update_rows(Customer, [first, second], ["dialed_at"], if_null="dialed_at")
    assert written == 1
    assert Customer.objects.get(pk=first.pk).dialed_at == earlier  # the first time kept
    assert Customer.objects.get(pk=second.pk).dialed_at == now
    assert Customer.objects.get(pk=third.pk).dialed_at is None  # not given
