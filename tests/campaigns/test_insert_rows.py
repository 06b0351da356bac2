"""services.tx.insert_rows: new rows in one statement, each value prepared once (what a claim
writes its calls with), equal to what bulk_create writes, on PostgreSQL and SQLite alike."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, Customer
from campaigns.services.tx import insert_rows

ANY_TIME = {"respect_recipient_time_zone": False}


@pytest.fixture
def campaign(make_campaign, owner) -> Campaign:
    return services.campaign_start(campaign=make_campaign(4, strategy=ANY_TIME), by=owner)


def _new_calls(campaign: Campaign, attempt: int = 1, **fields) -> list[Call]:
    return [
        Call(
            organization_id=campaign.organization_id,
            campaign_id=campaign.pk,
            customer=customer,
            phone_number_id=campaign.phone_number_id,
            provider_account_id=campaign.phone_number.provider_account_id,
            attempt=attempt,
            caller_id_choice=f"choice {i} 'quoted' %s ✓" if i % 2 else "",
            **fields,
        )
        for i, customer in enumerate(Customer.objects.filter(campaign=campaign).order_by("pk"))
    ]


def _stored(calls: list[Call]) -> list[dict]:
    fields = [f.attname for f in Call._meta.concrete_fields if f.attname != "created_at"]
    rows = Call.objects.filter(pk__in=[c.pk for c in calls]).order_by("pk").values(*fields)
    return list(rows)


def _written_by(write, calls: list[Call]) -> list[dict]:
    with transaction.atomic():
        write(calls)
        stored = _stored(calls)
        transaction.set_rollback(True)
    return stored


@pytest.mark.django_db(transaction=True)
def test_it_writes_what_bulk_create_writes_in_one_statement(campaign) -> None:
    before = timezone.now()
    ours = _new_calls(campaign, cost=Decimal("0.1250"), duration_seconds=1.5)
    with CaptureQueriesContext(connection) as queries:
        assert _written_by(lambda calls: insert_rows(Call, calls), ours)
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    theirs = _new_calls(campaign, cost=Decimal("0.1250"), duration_seconds=1.5)
    for call, twin in zip(theirs, ours, strict=True):
        call.pk = twin.pk
    assert _written_by(lambda calls: Call.objects.bulk_create(calls), theirs) == _written_by(
        lambda calls: insert_rows(Call, calls), ours
    )
    assert all(call.created_at >= before and not call._state.adding for call in ours)  # as bulk_create


@pytest.mark.django_db(transaction=True)
def test_one_row_and_json_values_are_written_too(campaign) -> None:
    one = _new_calls(campaign)[:1]
    insert_rows(Call, one)
    assert Call.objects.get(pk=one[0].pk).caller_id_choice == ""
    Call.objects.filter(pk=one[0].pk).delete()
    analysed = _new_calls(campaign, analysis={"summary": "a", "nested": [1, {"deep": True}]})
    insert_rows(Call, analysed)  # JSON: written as bulk_create writes it
    assert {c.analysis["nested"][1]["deep"] for c in Call.objects.filter(campaign=campaign)} == {True}


@pytest.mark.django_db(transaction=True)
def test_a_row_the_constraints_refuse_refuses_them_all(campaign) -> None:
    first = _new_calls(campaign)
    insert_rows(Call, first[:2])
    again = _new_calls(campaign)  # the same customers' first attempt: call_attempt_unique
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Call, again)
    assert Call.objects.filter(campaign=campaign).count() == 2
