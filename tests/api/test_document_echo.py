"""What a campaign document echoes of its customers: exactly what was submitted, whatever the
characters, in `customers` and in the `calls` map, however the customer was written.

The database keeps each customer's echo (Customer.echo, a generated column: SubmittedEcho), so
these tests hold it to what the API was sent, through every kind of writer: the API's JSON, a
CSV import (COPY on PostgreSQL), and a write that knows nothing of the echo.
"""

from __future__ import annotations

import csv
import io

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
