"""What a campaign document echoes of its customers: exactly what was submitted, whatever the
characters, in `customers` and in the `calls` map, however the customer was written.

The database keeps each customer's echo (Customer.echo, a generated column: SubmittedEcho), so
these tests hold it to what the API was sent, through every kind of writer: the API's JSON, a
CSV import (COPY on PostgreSQL), and a write that knows nothing of the echo.
"""

from __future__ import annotations

import csv
import io

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign, Customer

# Every key of Vapi's CreateCustomerDTO we echo, and text a hand-written JSON writer gets wrong:
# quotes, backslashes, control characters, a line separator, characters beyond the BMP.
HOSTILE = [
    {
        "number": "+14155550100",
        "name": 'Ada "the" \\ Lovelace',
        "email": "a@x.io",
        "externalId": "crm-\u2028-1",
    },
    {"number": "+14155550101", "name": "tab\there\nnew\x01line", "externalId": "é😀\\u0041"},
    {"sipUri": "sip:bob@example.com", "name": "Bob </script>"},
    {"number": "+14155550102", "extension": "123", "name": '{"json": true}'},
    {"number": "1001", "numberE164CheckEnabled": False},
    {"number": "+4903012345678", "name": "trunk prefix kept as typed"},
    {
        "number": "+14155550103",
        "assistantOverrides": {
            "variableValues": {"unset": None, "list": [1, "two", {"x": 1.5}], "n": 10**15}
        },
    },
    {"number": "+14155550104", "squadOverrides": {"variableValues": {"tier": "gold"}}},
]


def document(api, campaign_id: str) -> dict:
    response = api.get(f"/campaign/{campaign_id}")
    assert response.status_code == 200, response.content[:300]
    return response.json()


@pytest.mark.django_db
def test_every_customer_is_echoed_as_submitted_whatever_its_characters(api, create) -> None:
    created = create(0, customers=HOSTILE)

    assert created["customers"] == HOSTILE
    assert document(api, created["id"])["customers"] == HOSTILE
    # The number dialed is the canonical one; the echo keeps what was typed.
    assert Customer.objects.get(campaign_id=created["id"], position=5).number == "+493012345678"


@pytest.mark.django_db
def test_the_calls_map_echoes_the_customer_each_call_reached(api, create, dial) -> None:
    created = create(0, customers=HOSTILE)

    calls = dial(Campaign.objects.get(pk=created["id"]))

    echoed = document(api, created["id"])["calls"]
    assert len(echoed) == len(calls) > 0
    by_position = {c.pk: Customer.objects.get(pk=c.customer_id).position for c in calls}
    for call in calls:
        assert echoed[str(call.pk)]["customer"] == HOSTILE[by_position[call.pk]]


@pytest.mark.django_db
def test_an_indented_document_says_the_same(api, create) -> None:
    created = create(0, customers=HOSTILE)

    indented = api.get(f"/campaign/{created['id']}", HTTP_ACCEPT="application/json; indent=4")

    assert indented.status_code == 200
    assert b'\n  "customers"' in indented.content
    assert indented.json() == document(api, created["id"])


@pytest.mark.django_db
def test_a_customer_changed_behind_the_apis_back_is_echoed_as_it_now_is(api, create) -> None:
    """An update by any means (an erasure, the admin, SQL) moves the echo with it: the database
    writes it, so no writer can leave it stale."""
    created = create(0, customers=HOSTILE[:2])
    first = Customer.objects.get(campaign_id=created["id"], position=0)

    Customer.objects.filter(pk=first.pk).update(name="", email="new@x.io", number_e164_check_enabled=False)

    assert document(api, created["id"])["customers"][0] == {
        "number": "+14155550100",
        "email": "new@x.io",
        "externalId": "crm-\u2028-1",
        "numberE164CheckEnabled": False,
    }


@pytest.mark.django_db
def test_customers_imported_from_a_csv_are_echoed_as_the_file_has_them(api, create) -> None:
    created = create(1)
    rows = [
        {"number": "+14155550150", "name": 'Quote " and, comma', "email": "q@x.io", "externalId": "ext\\1"},
        {"number": "+14155550151", "name": "Zoë 😀", "email": "", "externalId": ""},
    ]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=["number", "name", "email", "externalId"])
    writer.writeheader()
    writer.writerows(rows)
    upload = SimpleUploadedFile("customers.csv", text.getvalue().encode(), content_type="text/csv")

    response = api.post(f"/campaign/{created['id']}/customers", {"file": upload}, format="multipart")

    assert response.status_code == 201, response.json()
    echoed = document(api, created["id"])["customers"][1:]
    assert echoed == [{k: v for k, v in row.items() if v} for row in rows]


# What a call can hold that its entry writes, or leaves out: every value Python holds false, and
# JSON and text a hand-written writer gets wrong.
ANALYSES = [
    None,
    {},
    [],
    0,
    0.0,
    "",
    False,
    {"summary": 'said "no" \\ then\u2028hung up 😀', "structuredData": {"n": None, "list": [1, 2.5]}},
    [1, "two"],
    "a plain string",
    1.5,
    True,
]


@pytest.mark.django_db
def test_a_truncated_documents_calls_are_written_by_the_database_as_python_writes_them(
    api, create, monkeypatch
) -> None:
    """On PostgreSQL a truncated document's `calls` entries are written by the database
    (selectors.documents.CallEntry), not by api.serializers.call.call_entry: the two must say the
    same, key for key and in the same order, for every kind of call and customer."""
    from datetime import UTC, datetime, timedelta

    from django.db import connection

    from campaigns.api.serializers.call import call_entry
    from campaigns.api.serializers.customer import document_echo
    from campaigns.models import Call
    from campaigns.selectors import documents

    if connection.vendor != "postgresql":
        pytest.skip("the database writes the entries on PostgreSQL only")
    created = create(0, customers=HOSTILE)
    campaign = Campaign.objects.get(pk=created["id"])
    calls = [  # one call for every customer: each echo in an entry, overrides and all
        Call.objects.create(
            organization_id=campaign.organization_id,
            campaign=campaign,
            customer=customer,
            phone_number_id=campaign.phone_number_id,
            provider_account_id=campaign.phone_number.provider_account_id,
            attempt=1,
        )
        for customer in Customer.objects.filter(campaign=campaign).order_by("position")
    ]
    assert len(calls) == len(HOSTILE)
    moment = datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC)  # milliseconds cut, not rounded
    for i, call in enumerate(sorted(calls, key=lambda c: c.pk)):
        reason = ["", "customer-busy", 'odd "reason" \\ é'][i % 3]
        Call.objects.filter(pk=call.pk).update(
            status="ended" if reason else ["queued", "in-progress"][i % 2],
            analysis=ANALYSES[i % len(ANALYSES)],
            ended_reason=reason,
            started_at=None if i % 4 == 0 else moment + timedelta(hours=i),
            ended_at=None if i % 2 else moment + timedelta(days=i, microseconds=1),
            caller_id_choice=["", "local match: +1415", "rotated ✓"][i % 3],
            direction="inbound" if i % 3 == 1 else "outbound",
        )
    for i, analysis in enumerate(ANALYSES):  # each analysis at least once, whatever the call count
        Call.objects.filter(pk=calls[i % len(calls)].pk).update(analysis=analysis)
        monkeypatch.setattr(documents, "DOCUMENT_LIMIT", 2)  # truncated: the database writes them
        written = document(api, created["id"])["calls"]
        latest = Call.objects.filter(campaign_id=created["id"]).order_by("-created_at", "-id")[:2]
        rows = list(documents._document_rows(latest, documents.CallRow, documents.CallEchoRow))
        assert len(rows) == len(written) == 2
        for call, customer in rows:  # what Python writes of the same rows
            expected = orjson.loads(orjson.dumps(call_entry(call, document_echo(customer))))
            assert list(written[call.id].items()) == list(expected.items()), analysis
    monkeypatch.setattr(documents, "DOCUMENT_LIMIT", 1_000)
    everything = Call.objects.filter(campaign_id=created["id"]).order_by("-created_at", "-id")
    every = {str(pk): entry for pk, entry in everything.values_list("pk", documents.CallEntry())}
    for call, customer in documents._document_rows(everything, documents.CallRow, documents.CallEchoRow):
        expected = orjson.loads(orjson.dumps(call_entry(call, document_echo(customer))))
        assert list(orjson.loads(every[call.id]).items()) == list(expected.items())
