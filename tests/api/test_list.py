"""GET /campaign: Vapi's filters, sorting and pagination, including the edges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns import services
from campaigns.models import Campaign
from tests.api.conftest import messages


@pytest.fixture
def three(create) -> list[dict]:
    """Three campaigns created one hour apart (oldest first)."""
    made = [create(name=f"Campaign {i}") for i in range(3)]
    base = Campaign.objects.get(pk=made[0]["id"]).created_at
    for i, body in enumerate(made):
        Campaign.objects.filter(pk=body["id"]).update(
            created_at=base + timedelta(hours=i), updated_at=base + timedelta(hours=i, minutes=30)
        )
    return made


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [c["name"] for c in response.json()["results"]]


def stamp(campaign_id: str, field: str = "created_at") -> str:
    value = getattr(Campaign.objects.get(pk=campaign_id), field)
    return value.isoformat().replace("+00:00", "Z")


def test_it_lists_newest_first_by_default(api, three) -> None:
    assert names(api.get("/campaign")) == ["Campaign 2", "Campaign 1", "Campaign 0"]


def test_sort_order_asc_lists_oldest_first(api, three) -> None:
    assert names(api.get("/campaign?sortOrder=ASC")) == ["Campaign 0", "Campaign 1", "Campaign 2"]


@pytest.mark.parametrize("sort_by", ["createdAt", "duration", "cost"])
def test_every_sort_by_value_sorts_by_creation(sort_by, api, three) -> None:
    assert names(api.get(f"/campaign?sortBy={sort_by}&sortOrder=ASC")) == [
        "Campaign 0",
        "Campaign 1",
        "Campaign 2",
    ]


def test_it_filters_by_id(api, three) -> None:
    assert names(api.get(f"/campaign?id={three[1]['id']}")) == ["Campaign 1"]


def test_a_malformed_id_filter_matches_nothing(api, three) -> None:
    response = api.get("/campaign?id=not-a-uuid")

    assert names(response) == []
    assert response.json()["metadata"]["totalItems"] == 0


def test_it_filters_by_status_paused_included(api, three, owner) -> None:
    campaign = services.campaign_start(campaign=Campaign.objects.get(pk=three[0]["id"]), by=owner)
    services.campaign_pause(campaign=campaign, by=owner)
    services.campaign_end(campaign=Campaign.objects.get(pk=three[1]["id"]), by=owner)

    assert names(api.get("/campaign?status=paused")) == ["Campaign 0"]
    assert names(api.get("/campaign?status=ended")) == ["Campaign 1"]
    assert names(api.get("/campaign?status=scheduled")) == ["Campaign 2"]
    assert names(api.get("/campaign?status=in-progress")) == []


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("Gt", ["Campaign 2"]),
        ("Ge", ["Campaign 2", "Campaign 1"]),
        ("Lt", ["Campaign 0"]),
        ("Le", ["Campaign 1", "Campaign 0"]),
    ],
)
def test_created_at_bounds_are_strict_or_inclusive(suffix, expected, api, three) -> None:
    response = api.get("/campaign", {f"createdAt{suffix}": stamp(three[1]["id"])})

    assert names(response) == expected


@pytest.mark.parametrize(
    ("suffix", "expected"),
    [
        ("Gt", ["Campaign 2"]),
        ("Ge", ["Campaign 2", "Campaign 1"]),
        ("Lt", ["Campaign 0"]),
        ("Le", ["Campaign 1", "Campaign 0"]),
    ],
)
def test_updated_at_bounds_are_strict_or_inclusive(suffix, expected, api, three) -> None:
    response = api.get("/campaign", {f"updatedAt{suffix}": stamp(three[1]["id"], "updated_at")})

    assert names(response) == expected


def test_pages_split_the_list_and_report_where_they_are(api, three) -> None:
    first = api.get("/campaign?limit=2").json()
    second = api.get("/campaign?limit=2&page=2").json()

    assert [c["name"] for c in first["results"]] == ["Campaign 2", "Campaign 1"]
    assert [c["name"] for c in second["results"]] == ["Campaign 0"]
    assert first["metadata"] == {"itemsPerPage": 2, "totalItems": 3, "currentPage": 1}
    assert second["metadata"] == {"itemsPerPage": 2, "totalItems": 3, "currentPage": 2}


def test_a_page_past_the_end_is_empty_but_counts_everything(api, three) -> None:
    body = api.get("/campaign?page=5").json()

    assert body["results"] == []
    assert body["metadata"] == {"itemsPerPage": 100, "totalItems": 3, "currentPage": 5}


def test_limit_zero_returns_no_items_and_the_total(api, three) -> None:
    body = api.get("/campaign?limit=0").json()

    assert body["results"] == []
    assert body["metadata"] == {"itemsPerPage": 0, "totalItems": 3, "currentPage": 1}


def test_limit_1000_is_allowed(api, three) -> None:
    body = api.get("/campaign?limit=1000").json()

    assert len(body["results"]) == 3
    assert body["metadata"]["itemsPerPage"] == 1000


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=1001", "limit must not be greater than 1000"),
        ("limit=-1", "limit must not be less than 0"),
        ("page=0", "page must not be less than 1"),
        ("page=two", "page must be an integer number"),
        ("page=709006241212562146977048952832", "page must not be greater than 2147483647"),
        ("sortOrder=UP", "sortOrder must be one of the following values: ASC, DESC"),
        ("sortBy=name", "sortBy must be one of"),
        ("status=running", "status must be one of"),
        ("createdAtGt=yesterday", "createdAtGt must be a valid ISO 8601 date string"),
        ("updatedAtLe=0001-01-01T00:30:00%2B01:00", "updatedAtLe must be a valid ISO 8601 date string"),
    ],
)
def test_bad_query_values_are_refused_naming_the_parameter(query, field, api, three) -> None:
    response = api.get(f"/campaign?{query}")

    assert response.status_code == 400
    assert any(m.startswith(field) for m in messages(response)), messages(response)


def test_an_offset_postgresql_cannot_store_is_read_as_the_same_instant_in_utc(api, three) -> None:
    # Python accepts offsets up to ±23:59; PostgreSQL refuses beyond ±15:59.
    response = api.get("/campaign", {"updatedAtGe": "0559-08-15T10:11:16.2-19:54", "sortOrder": "DESC"})

    assert response.status_code == 200
    assert names(response) == ["Campaign 2", "Campaign 1", "Campaign 0"]


def test_deleted_campaigns_are_never_listed(api, three) -> None:
    api.delete(f"/campaign/{three[0]['id']}")

    assert names(api.get("/campaign")) == ["Campaign 2", "Campaign 1"]
    assert api.get("/campaign").json()["metadata"]["totalItems"] == 2
    assert names(api.get(f"/campaign?id={three[0]['id']}")) == []


def test_listing_a_page_takes_a_fixed_number_of_queries(api, create, django_assert_max_num_queries) -> None:
    for i in range(5):
        create(20, name=f"C{i}")

    # key lookup + last-used + count + page + customers + calls (+ savepoints), and the rate
    # count in the shared cache (a table, without Redis: read, then written): never per campaign
    with django_assert_max_num_queries(11):
        body = api.get("/campaign").json()

    assert len(body["results"]) == 5
    assert all(len(c["customers"]) == 20 for c in body["results"])
