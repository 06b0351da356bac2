"""GET /campaign: Vapi's filters, sorting and pagination, including the edges."""

from __future__ import annotations

from datetime import datetime, timedelta

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
    return names_of(response.json())


def names_of(body: dict) -> list[str]:
    return [c["name"] for c in body["results"]]


def stamp(campaign_id: str, field: str = "created_at") -> str:
    value = getattr(Campaign.objects.get(pk=campaign_id), field)
    return value.isoformat().replace("+00:00", "Z")


def test_it_lists_newest_first_by_default(api, three) -> None:
    assert names(api.get("/campaign")) == ["Campaign 2", "Campaign 1", "Campaign 0"]


def test_sort_order_asc_lists_oldest_first(api, three) -> None:
    assert names(api.get("/campaign?sortOrder=ASC")) == ["Campaign 0", "Campaign 1", "Campaign 2"]


@pytest.mark.parametrize(
    ("sort_by", "column"), [("cost", "calls_cost"), ("duration", "calls_duration_seconds")]
)
@pytest.mark.parametrize("path", ["/campaign", "/v2/campaign"])
def test_sort_by_cost_and_duration_sort_by_what_the_calls_cost_and_lasted(
    sort_by, column, path, api, three
) -> None:
    """The stored sums the campaign's call reports add up (no sum over calls per request); ties
    (Campaign 0 and 2 below) in creation order."""
    for body, value in zip(three, (5, 7, 5), strict=True):
        Campaign.objects.filter(pk=body["id"]).update(**{column: value})

    assert names(api.get(f"{path}?sortBy={sort_by}")) == ["Campaign 1", "Campaign 2", "Campaign 0"]
    assert names(api.get(f"{path}?sortBy={sort_by}&sortOrder=ASC")) == [
        "Campaign 0",
        "Campaign 2",
        "Campaign 1",
    ]


def test_sort_by_created_at_is_the_default(api, three) -> None:
    Campaign.objects.filter(pk=three[0]["id"]).update(calls_cost=100)

    assert names(api.get("/campaign?sortBy=createdAt&sortOrder=ASC")) == [
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
    # A paused campaign reads in-progress to Vapi's clients, so their in-progress filter finds it.
    assert names(api.get("/campaign?status=in-progress")) == ["Campaign 0"]
    assert api.get("/campaign?status=in-progress").json()["results"][0]["status"] == "in-progress"


def test_it_filters_by_cancelled_and_lists_archived_ones_only_when_asked(api, three, owner) -> None:
    services.campaign_end(campaign=Campaign.objects.get(pk=three[0]["id"]), by=owner, status="cancelled")
    api.delete(f"/v2/campaign/{three[1]['id']}")

    assert names(api.get("/campaign?status=cancelled")) == ["Campaign 0"]
    assert names(api.get("/campaign")) == ["Campaign 2", "Campaign 0"]
    assert names(api.get("/campaign?status=archived")) == ["Campaign 1"]
    assert api.get("/campaign?status=archived").json()["results"][0]["status"] == "archived"


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
    page = {"itemsPerPage": 2, "totalItems": 3, "totalPages": 2, "sortOrder": "DESC"}
    assert first["metadata"] == {**page, "currentPage": 1, "hasNextPage": True}
    assert second["metadata"] == {**page, "currentPage": 2, "hasNextPage": False}


@pytest.mark.parametrize("path", ["/campaign", "/v2/campaign"])
def test_page_and_limit_may_be_written_as_floats(path, api, three) -> None:
    """Vapi's schema types them as numbers: clients that print 2 as 2.0 are read alike."""
    body = api.get(f"{path}?limit=2.0&page=2e0").json()

    assert [c["name"] for c in body["results"]] == ["Campaign 0"]
    assert (body["metadata"]["itemsPerPage"], body["metadata"]["currentPage"]) == (2, 2)
    for query in ("limit=2.5", "page=1.5", "page=NaN", "limit=Infinity"):
        response = api.get(f"{path}?{query}")
        assert response.status_code == 400
        assert messages(response) == [f"{query.split('=')[0]} must be an integer number"]


def test_the_metadata_repeats_the_sort_order_and_the_created_at_bounds(api, three) -> None:
    created = stamp(three[1]["id"])

    body = api.get("/campaign", {"sortOrder": "ASC", "createdAtGe": created, "createdAtLe": created}).json()

    assert names_of(body) == ["Campaign 1"]
    meta = body["metadata"]
    assert meta["sortOrder"] == "ASC"
    assert datetime.fromisoformat(meta["createdAtGe"]) == datetime.fromisoformat(created)
    assert meta["createdAtLe"] == meta["createdAtGe"]
    assert "nextCursor" not in meta  # no campaign endpoint takes a cursor


def test_a_page_past_the_end_is_empty_but_counts_everything(api, three) -> None:
    body = api.get("/campaign?page=5").json()

    assert body["results"] == []
    assert body["metadata"] == {
        "itemsPerPage": 100,
        "totalItems": 3,
        "currentPage": 5,
        "totalPages": 1,
        "hasNextPage": False,
        "sortOrder": "DESC",
    }


def test_limit_zero_returns_no_items_and_the_total(api, three) -> None:
    body = api.get("/campaign?limit=0").json()

    assert body["results"] == []
    assert body["metadata"] == {"itemsPerPage": 0, "totalItems": 3, "currentPage": 1, "sortOrder": "DESC"}


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
