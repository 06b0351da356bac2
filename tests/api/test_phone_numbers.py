"""/phone-number as Vapi's SDKs read it: GET /phone-number a bare array of Vapi PhoneNumbers
(`client.phoneNumbers.list()`), GET /phone-number/{id} one (`provider` included), and the
paginated listing at Vapi's /v2/phone-number. Answers checked against Vapi's 2026-08 OpenAPI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns import services
from campaigns.models import PhoneNumber
from tests.api.conftest import messages


@pytest.fixture
def numbers(org, owner, caller_id) -> list[PhoneNumber]:
    """Four caller IDs created an hour apart, oldest first (+14155550100 is the caller_id)."""
    made = [caller_id] + [
        services.phone_number_create(
            organization=org,
            by=owner,
            number=f"+1415555020{i}",
            name=f"Line {i}",
            provider_account=caller_id.provider_account,
        )
        for i in range(3)
    ]
    base = made[0].created_at
    for i, number in enumerate(made):
        PhoneNumber.objects.filter(pk=number.pk).update(created_at=base + timedelta(hours=i))
    return made


def listed(response) -> list[str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    return [n["number"] for n in (body if isinstance(body, list) else body["results"])]


def test_the_list_is_vapis_bare_array_of_phone_numbers(api, numbers, provider, vapi_answer) -> None:
    response = api.get("/phone-number")

    body = response.json()
    assert not vapi_answer("get", "/phone-number", 200, body)
    assert listed(response) == ["+14155550202", "+14155550201", "+14155550200", "+14155550100"]
    line = body[0]
    assert line["provider"] == "byo-phone-number"
    assert line["credentialId"] == line["providerAccountId"] == str(provider.pk)
    assert (line["name"], line["status"]) == ("Line 2", "active")
    assert line["updatedAt"] == line["createdAt"]


def test_the_list_takes_vapis_limit_and_time_bounds(api, numbers) -> None:
    stamp = PhoneNumber.objects.get(pk=numbers[1].pk).created_at.isoformat().replace("+00:00", "Z")

    assert listed(api.get("/phone-number?limit=2.0")) == ["+14155550202", "+14155550201"]
    assert listed(api.get("/phone-number", {"createdAtLe": stamp})) == ["+14155550200", "+14155550100"]
    assert listed(api.get("/phone-number", {"updatedAtGt": stamp})) == ["+14155550202", "+14155550201"]
    response = api.get("/phone-number?limit=1001")
    assert response.status_code == 400
    assert messages(response) == ["limit must not be greater than 1000"]


def test_one_phone_number_is_vapis_shape_and_so_are_create_and_delete(
    api, numbers, provider, vapi_answer
) -> None:
    one = api.get(f"/phone-number/{numbers[1].pk}")
    created = api.post(
        "/phone-number", {"number": "+14155550299", "providerAccountId": str(provider.pk)}, format="json"
    )
    deleted = api.delete(f"/phone-number/{created.json()['id']}")

    assert not vapi_answer("get", "/phone-number/{id}", 200, one.json())
    assert one.json()["id"] == str(numbers[1].pk) and one.json()["provider"] == "byo-phone-number"
    assert created.status_code == 201 and created.json()["provider"] == "byo-phone-number"
    assert not vapi_answer("delete", "/phone-number/{id}", 200, deleted.json())
    assert api.get(f"/phone-number/{created.json()['id']}").status_code == 404


def test_v2_pages_searches_and_sorts_them(api, numbers, vapi_answer) -> None:
    first = api.get("/v2/phone-number?limit=3")
    second = api.get("/v2/phone-number?limit=3&page=2")

    assert not vapi_answer("get", "/v2/phone-number", 200, first.json())
    assert listed(first) == ["+14155550202", "+14155550201", "+14155550200"]
    assert listed(second) == ["+14155550100"]
    assert first.json()["metadata"] == {
        "itemsPerPage": 3,
        "totalItems": 4,
        "currentPage": 1,
        "totalPages": 2,
        "hasNextPage": True,
        "sortOrder": "DESC",
    }
    assert listed(api.get("/v2/phone-number?search=line 1")) == ["+14155550201"]
    assert listed(api.get("/v2/phone-number?search=0100&sortOrder=ASC")) == ["+14155550100"]
    assert listed(api.get("/v2/phone-number?sortOrder=ASC&sortBy=cost"))[0] == "+14155550100"


def test_a_retired_or_another_organizations_number_is_never_listed(api, other_api, numbers, owner) -> None:
    services.phone_number_delete(phone_number=numbers[3], by=owner)

    assert "+14155550202" not in listed(api.get("/phone-number"))
    assert listed(other_api.get("/phone-number")) == []
    assert listed(other_api.get("/v2/phone-number")) == []
