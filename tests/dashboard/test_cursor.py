"""Paged dashboard lists given a broken or hostile address: the first page, never a 500.

A page key (`?older=`, `?newer=`, `?after=`, `?before=`, `?page=`) cut short, edited by hand
or forged reads as "no key": a broken link still shows the list. A NUL anywhere in the query
string answers 400 naming the parameter (PostgreSQL's text cannot hold one)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, Campaign, DoNotCall
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db

SOME_ID = "14ec1ad8-df50-4a1c-8563-820391650695"  # fixed: test ids must be the same in every xdist worker
BROKEN_KEYS = [
    "garbage",
    "",
    "~",
    "9" * 30,
    "9" * 5000,
    "-5",
    "-9223372036854775809",
    "9223372036854775808",
    "１２",  # fullwidth digits: Python's int() reads them
    "٣",  # an Arabic-Indic digit
    "2026-01-01T00:00:00+00:00~not-a-uuid",
    f"2026-01-01T00:00:00~{SOME_ID}",  # no offset
    f"0001-01-01T00:00:00+05:00~{SOME_ID}",  # before year 1 in UTC
    f"9999-12-31T23:59:59-05:00~{SOME_ID}",  # after year 9999 in UTC
    f"2026-13-45T99:00:00Z~{SOME_ID}",
    "2026-01-01T00:00:00Z~" + "f" * 5000,
    "\u202e\ufeff",
]


@pytest.fixture
def listed(make_campaign, caller_id, provider, org, owner) -> Campaign:
    """A campaign with two pages of customers (25 a page) and of calls, and two pages of
    do-not-call entries (50 a page): the newest call and entry, and the first customer,
    are what a first page shows."""
    campaign = make_campaign(30, strategy={"auto_start": False})
    now = timezone.now()
    calls = []
    for customer in campaign.customers.order_by("position"):
        calls.append(
            Call(
                organization=org,
                campaign=campaign,
                customer=customer,
                phone_number=caller_id,
                provider_account=provider,
                attempt=1,
                status="ended",
                ended_reason="customer-ended-call",
            )
        )
    Call.objects.bulk_create(calls)
    for i, call in enumerate(Call.objects.filter(campaign=campaign).order_by("customer__position")):
        Call.objects.filter(pk=call.pk).update(created_at=now - timedelta(minutes=i))
    services.dnc_add(organization=org, by=owner, numbers=[(f"+1212555{i:04d}", f"n{i}") for i in range(60)])
    for i, entry in enumerate(DoNotCall.objects.order_by("number")):
        DoNotCall.objects.filter(pk=entry.pk).update(created_at=now - timedelta(minutes=i))
    return campaign


def pages(campaign: Campaign) -> dict[str, tuple[str, list[str], str]]:
    """Each paged page: (its address, its page-key parameters, what its first page shows)."""
    detail = reverse("campaigns:detail", args=[campaign.pk])
    return {
        "campaigns": (reverse("campaigns:list"), ["page"], "Renewals"),
        "detail": (detail, ["after", "before", "older", "newer"], "+14155550000"),
        "customers": (
            reverse("campaigns:customers", args=[campaign.pk]),
            ["after", "before"],
            "+14155550000",
        ),
        "calls": (reverse("campaigns:calls", args=[campaign.pk]), ["older", "newer"], "+14155550000"),
        "do-not-call": (reverse("campaigns:do-not-call"), ["older", "newer"], "+12125550000"),
    }


PAGES = ["campaigns", "detail", "customers", "calls", "do-not-call"]


@pytest.mark.parametrize("listing", PAGES)
@pytest.mark.parametrize("key", BROKEN_KEYS)
def test_a_broken_page_key_shows_the_first_page(listing, key, as_viewer, listed) -> None:
    url, parameters, first = pages(listed)[listing]
    for parameter in parameters:
        for extra in ({}, HTMX):
            response = as_viewer.get(url, {parameter: key}, **extra)
            assert response.status_code == 200, (parameter, response.content[:300])
            assert first in response.content.decode(), parameter


@pytest.mark.parametrize("listing", PAGES)
def test_a_good_page_key_still_pages(listing, as_viewer, listed) -> None:
    url, parameters, first = pages(listed)[listing]
    content = as_viewer.get(url, **HTMX).content.decode()
    assert first in content
    key = {
        "campaigns": "page=",
        "detail": "after=",
        "customers": "after=",
        "calls": "older=",
        "do-not-call": "older=",
    }
    if listing != "campaigns":  # one campaign: the list has a single page
        assert key[listing] in content


@pytest.mark.parametrize("listing", PAGES)
@pytest.mark.parametrize("parameter", ["q", "older", "newer", "after", "before", "page", "state", "status"])
def test_a_nul_byte_in_a_dashboard_query_is_refused_naming_the_parameter(
    listing, parameter, as_viewer, listed
) -> None:
    url, _, _ = pages(listed)[listing]
    response = as_viewer.get(url, {parameter: "a\x00b"})
    assert response.status_code == 400
    assert f"{parameter} contains a NUL character" in response.content.decode()


def test_a_search_without_nul_still_searches(as_viewer, listed) -> None:
    content = as_viewer.get(reverse("campaigns:do-not-call"), {"q": "n59"}, **HTMX).content.decode()
    assert "+12125550059" in content and "+12125550000" not in content
    assert "Renewals" in as_viewer.get(reverse("campaigns:list"), {"q": "Renew"}).content.decode()
