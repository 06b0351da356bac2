"""GET /v2/campaign/{id}/contacts: each customer as a contact, with its `contact.*` status and its
latest call; filtered by status (repeat to OR), sorted by position or status, paginated, counted
from the campaign's stored counters. Answers checked against Vapi's 2026-08 OpenAPI."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import Call, Campaign, Customer
from campaigns.rules import contacts
from tests.api.conftest import messages

NUMBERS = [f"+1415555{i:04d}" for i in range(5)]


@pytest.fixture
def outcomes(api, create_v2, dial, org, owner) -> dict:
    """Five customers, one in each state a contact can be in: completed (0), dispatched (1),
    skipped by the do-not-call list (2), refused by the pre-dial check (3), pending (4)."""
    body = create_v2(
        5, dialingStrategy={"respectRecipientTimeZone": False, "maxAttempts": 1, "maxConcurrentCalls": 2}
    )
    services.dnc_add(organization=org, by=owner, numbers=[(NUMBERS[2], "asked")])
    refused = Customer.objects.get(campaign_id=body["id"], position=3)
    Customer.objects.filter(pk=refused.pk).update(state="skipped", reason="predial_failed")
    services.move_counters(body["id"], **contacts.moved("pending", "", "skipped", "predial_failed", 1))
    dial(
        Campaign.objects.get(pk=body["id"]),
        {0: [("in-progress", "", None), ("ended", "customer-ended-call", None)], 1: [("ringing", "", None)]},
    )
    return body


def ids(api, path: str) -> list[str]:
    response = api.get(path)
    assert response.status_code == 200, response.json()
    return [c["number"] for c in response.json()["results"]]


def test_each_contact_has_its_status_and_its_latest_calls_outcome(api, outcomes, vapi_answer) -> None:
    response = api.get(f"/v2/campaign/{outcomes['id']}/contacts")

    body = response.json()
    assert not vapi_answer("get", "/v2/campaign/{id}/contacts", 200, body)
    assert [(c["number"], c["status"]) for c in body["results"]] == [
        (NUMBERS[0], "contact.completed"),
        (NUMBERS[1], "contact.dispatched"),
        (NUMBERS[2], "contact.skipped"),
        (NUMBERS[3], "contact.predial-failed"),
        (NUMBERS[4], "contact.pending"),
    ]
    completed, dispatched, skipped = body["results"][:3]
    calls = {c.customer.position: c for c in Call.objects.select_related("customer")}
    assert completed["callId"] == str(calls[0].pk)
    assert completed["endedReason"] == "customer-ended-call"
    assert completed["dispatchedAt"].endswith("Z")
    assert completed["name"] == "Customer 0"
    assert dispatched["callId"] == str(calls[1].pk) and "endedReason" not in dispatched
    assert set(skipped) == {"id", "number", "name", "status"}  # no call: no callId
    assert body["metadata"] == {
        "itemsPerPage": 50,
        "totalItems": 5,
        "currentPage": 1,
        "totalPages": 1,
        "hasNextPage": False,
    }


def test_a_repeated_status_lists_contacts_in_any_of_them(api, outcomes) -> None:
    path = f"/v2/campaign/{outcomes['id']}/contacts?status=contact.completed&status=contact.skipped"

    response = api.get(path)

    assert [c["number"] for c in response.json()["results"]] == [NUMBERS[0], NUMBERS[2]]
    assert response.json()["metadata"]["totalItems"] == 2
    assert ids(api, f"/v2/campaign/{outcomes['id']}/contacts?status=contact.predial-failed") == [NUMBERS[3]]


def test_sort_by_status_follows_vapis_order_then_position(api, outcomes) -> None:
    assert ids(api, f"/v2/campaign/{outcomes['id']}/contacts?sortBy=status") == [
        NUMBERS[4],  # pending
        NUMBERS[1],  # dispatched
        NUMBERS[0],  # completed
        NUMBERS[2],  # skipped
        NUMBERS[3],  # predial-failed
    ]


def test_a_page_is_one_query_and_the_total_is_the_counters_not_a_count(api, outcomes) -> None:
    path = f"/v2/campaign/{outcomes['id']}/contacts?status=contact.pending&status=contact.dispatched&limit=1"

    with CaptureQueriesContext(connection) as queries:
        body = api.get(path).json()

    assert body["metadata"]["totalItems"] == 2
    assert body["metadata"]["hasNextPage"] is True
    statements = [q["sql"] for q in queries.captured_queries]
    counts = [s for s in statements if "COUNT(" in s.upper() and "dialdeck_cache" not in s]  # not the rate's
    assert not counts, counts
    assert len([s for s in statements if "campaigns_customer" in s]) == 1  # contacts and calls, once


def test_the_latest_call_is_the_last_attempt(api, create_v2, dial) -> None:
    body = create_v2(
        1,
        dialingStrategy={
            "respectRecipientTimeZone": False,
            "maxAttempts": 2,
            "retryDelaySeconds": {"busy": 0, "noAnswer": 0, "voicemail": 0, "failed": 0},
        },
    )
    campaign = Campaign.objects.get(pk=body["id"])
    dial(campaign, {0: [("ended", "customer-busy", None)]})
    dial(campaign)

    contact = api.get(f"/v2/campaign/{body['id']}/contacts").json()["results"][0]

    latest = Call.objects.get(campaign=campaign, attempt=2)
    assert (contact["status"], contact["callId"]) == ("contact.dispatched", str(latest.pk))
    assert "endedReason" not in contact


def test_contacts_a_cancel_left_undialed_stay_pending(api, create_v2) -> None:
    body = create_v2(2)
    api.patch(f"/v2/campaign/{body['id']}", {"status": "cancelled"}, format="json")

    listed = api.get(f"/v2/campaign/{body['id']}/contacts").json()

    assert [c["status"] for c in listed["results"]] == ["contact.pending", "contact.pending"]
    counters = api.get(f"/v2/campaign/{body['id']}?includeCounters=true").json()["contactCounters"]
    assert counters["pending"] == 2


def test_limit_defaults_to_50_and_pages_follow(api, create_v2) -> None:
    body = create_v2(60)

    first = api.get(f"/v2/campaign/{body['id']}/contacts").json()
    second = api.get(f"/v2/campaign/{body['id']}/contacts?page=2.0").json()

    assert len(first["results"]) == 50 and len(second["results"]) == 10
    assert (first["metadata"]["totalPages"], second["metadata"]["hasNextPage"]) == (2, False)
    assert second["results"][0]["number"] == "+14155550050"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must not be less than 1"),
        ("limit=1001", "limit must not be greater than 1000"),
        ("page=0", "page must not be less than 1"),
        ("sortBy=cost", "sortBy must be one of the following values: position, status"),
        ("status=contact.pending&status=completed", "status must be one of the following values: contact."),
    ],
)
def test_bad_parameters_are_refused_naming_them(query, message, api, create_v2) -> None:
    response = api.get(f"/v2/campaign/{create_v2(1)['id']}/contacts?{query}")

    assert response.status_code == 400
    assert messages(response)[0].startswith(message), messages(response)


def test_another_organizations_or_an_archived_campaign_answers_404(api, other_api, create_v2) -> None:
    body = create_v2(1)
    assert other_api.get(f"/v2/campaign/{body['id']}/contacts").status_code == 404

    api.delete(f"/v2/campaign/{body['id']}")

    response = api.get(f"/v2/campaign/{body['id']}/contacts")
    assert response.status_code == 404
    assert messages(response) == ["campaign not found"]
