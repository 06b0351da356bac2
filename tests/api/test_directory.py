"""The organization's caller IDs (/phone-number) and do-not-call list (/dnc)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import DoNotCall, PhoneNumber
from tests.api.conftest import messages


def test_phone_numbers_are_created_listed_read_and_retired(api, provider, caller_id) -> None:
    created = api.post(
        "/phone-number",
        {
            "number": "+14155550155",
            "name": "Sales",
            "providerAccountId": str(provider.pk),
            "providerPhoneNumberId": "pn-1",
        },
        format="json",
    )

    assert created.status_code == 201, created.json()
    number = created.json()
    assert number["number"] == "+14155550155"
    assert number["providerPhoneNumberId"] == "pn-1"
    assert (number["provider"], number["credentialId"]) == ("byo-phone-number", str(provider.pk))
    # Vapi's bare array, newest first.
    assert [n["number"] for n in api.get("/phone-number").json()] == ["+14155550155", "+14155550100"]
    assert api.get(f"/phone-number/{number['id']}").json() == number
    assert api.delete(f"/phone-number/{number['id']}").status_code == 200
    assert api.get(f"/phone-number/{number['id']}").status_code == 404
    assert PhoneNumber.objects.filter(pk=number["id"], deleted_at__isnull=False).exists()


def test_a_caller_id_in_use_by_a_live_campaign_cannot_be_retired(api, create, fixture_numbers) -> None:
    body = create()

    response = api.delete(f"/phone-number/{body['phoneNumberId']}")

    assert response.status_code == 409
    assert response.json()["status"] == "in use"
    api.post(f"/campaign/{body['id']}/end")
    assert api.delete(f"/phone-number/{body['phoneNumberId']}").status_code == 200


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"number": "415 555", "providerAccountId": "x"}, "number must start with + and a country code"),
        ({"providerAccountId": "x"}, "number should not be empty"),
        ({"number": "+14155550156"}, "providerAccountId should not be empty"),
        ({"number": "+14155550156", "providerAccountId": "x", "kind": "y"}, "property kind should not exist"),
    ],
)
def test_bad_phone_numbers_are_refused(body, message, api, provider) -> None:
    if "providerAccountId" in body:
        body = {**body, "providerAccountId": str(provider.pk)}

    response = api.post("/phone-number", body, format="json")

    assert response.status_code == 400
    assert any(m.startswith(message) for m in messages(response)), messages(response)


# /dnc -----------------------------------------------------------------------------------------


def test_do_not_call_numbers_are_added_searched_and_removed(api, org) -> None:
    one = api.post("/dnc", {"number": "+14155550160", "note": "asked on the phone"}, format="json")
    many = api.post("/dnc", {"numbers": ["+14155550161", "+442071838750", "+14155550160"]}, format="json")

    assert (one.status_code, one.json()) == (201, {"added": 1})
    assert many.json() == {"added": 2}
    found = api.get("/dnc?number=41555501").json()
    assert sorted(e["number"] for e in found["results"]) == ["+14155550160", "+14155550161"]
    entry = next(e for e in found["results"] if e["number"] == "+14155550160")
    assert (entry["source"], entry["note"]) == ("api", "asked on the phone")
    removed = api.delete(f"/dnc/{entry['id']}")
    assert removed.json() == entry
    assert api.delete(f"/dnc/{entry['id']}").status_code == 404
    assert DoNotCall.objects.filter(organization=org).count() == 2


def test_do_not_call_numbers_are_imported_from_csv_with_errors_by_line(api) -> None:
    good = SimpleUploadedFile(
        "dnc.csv", b"number,note\n+14155550162,opt-out\n+14155550163,\n", content_type="text/csv"
    )
    bad = SimpleUploadedFile(
        "dnc.csv", b"note,number\nx,+14155550164\ny,555-0101\nz,\n", content_type="text/csv"
    )

    imported = api.post("/dnc", {"file": good}, format="multipart")
    refused = api.post("/dnc", {"file": bad}, format="multipart")

    assert (imported.status_code, imported.json()) == (201, {"added": 2})
    assert refused.status_code == 400
    assert messages(refused) == [
        "line 3: number '555-0101' must start with + and a country code (no default country is set)",
        "line 4: number is required",
    ]
    assert not DoNotCall.objects.filter(number="+14155550164").exists()
    assert DoNotCall.objects.get(number="+14155550162").source == "import"


def test_adding_a_number_to_the_list_skips_waiting_customers(api, create) -> None:
    body = create(2)

    api.post("/dnc", {"number": "+14155550001"}, format="json")

    customers = api.get(f"/campaign/{body['id']}/customers?reason=do_not_call").json()["results"]
    assert [(c["number"], c["state"]) for c in customers] == [("+14155550001", "skipped")]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "number or numbers is required (one of them, not both)"),
        ({"number": "+14155550165", "numbers": ["+14155550166"]}, "number or numbers is required"),
        ({"number": "0800 123"}, "number must start with + and a country code (no default country is set)"),
        ({"numbers": ["+14155550166", 5]}, "numbers.1 must be a string"),
        ({"numbers": []}, "numbers must contain at least 1 elements"),
    ],
)
def test_bad_do_not_call_bodies_are_refused(body, message, api) -> None:
    response = api.post("/dnc", body, format="json")

    assert response.status_code == 400
    assert messages(response) == [message] or message in messages(response)[0]
