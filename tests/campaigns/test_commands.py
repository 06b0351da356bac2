"""Management commands: the demo data and API keys."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import (
    ApiKey,
    Campaign,
    Customer,
    Membership,
    Organization,
    PhoneNumber,
    ProviderAccount,
    hash_api_key,
)
from campaigns.phone import time_zones_for


def snapshot() -> dict:
    return {
        "orgs": list(Organization.objects.values_list("slug", "name")),
        "users": list(get_user_model().objects.values_list("username", "is_superuser")),
        "memberships": list(Membership.objects.values_list("user__username", "organization__slug", "role")),
        "providers": list(ProviderAccount.objects.values_list("name", "kind")),
        "numbers": sorted(PhoneNumber.objects.values_list("number", flat=True)),
        "campaigns": list(Campaign.objects.values_list("name", "status", "customers_total")),
        "customers": sorted(Customer.objects.values_list("number", "name")),
    }


def test_seed_demo_twice_gives_the_same_data(db, monkeypatch) -> None:
    monkeypatch.setenv("DEMO_PASSWORD", "a demo password 42")
    call_command("seed_demo", stdout=StringIO())
    first = snapshot()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert snapshot() == first
    assert "already present" in out.getvalue()
    assert first["orgs"] == [("demo", "Demo Org")]
    assert ("demo", True) in first["users"]
    assert ("demo", "demo", "admin") in first["memberships"]
    assert len(first["numbers"]) == 2
    assert get_user_model().objects.get(username="demo").check_password("a demo password 42")


def test_seed_demo_generates_and_prints_a_password_once_when_none_is_given(db, monkeypatch) -> None:
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    printed = out.getvalue().split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="demo").check_password(printed)
    again = StringIO()
    call_command("seed_demo", stdout=again)
    assert "password" not in again.getvalue()


def test_the_demo_campaign_spans_enough_time_zones_that_some_wait_whatever_the_hour(db) -> None:
    call_command("seed_demo", stdout=StringIO())
    campaign = Campaign.objects.get()
    assert 200 <= campaign.customers_total <= 600
    offsets = set()
    from datetime import datetime
    from zoneinfo import ZoneInfo

    for number in campaign.customers.values_list("number", flat=True):
        for zone in time_zones_for(number):
            offsets.add(datetime(2026, 1, 15, tzinfo=ZoneInfo(zone)).utcoffset().total_seconds() // 3600)
    # Local hours 08-21 cover 13 of 24 hours: zones spread over more than 11 hours of offset
    # guarantee, at any hour, at least one zone inside and one outside those hours.
    assert max(offsets) - min(offsets) >= 12


def test_createapikey_prints_a_key_whose_hash_is_stored(db) -> None:
    org = Organization.objects.create(name="Acme", slug="acme")
    out = StringIO()
    call_command("createapikey", "--org", "acme", stdout=out)
    raw = out.getvalue().strip()
    assert "\n" not in raw and len(raw) > 30
    key = ApiKey.objects.get(organization=org)
    assert key.hashed_key == hash_api_key(raw)
    assert raw not in str(ApiKey.objects.values_list())  # only the hash is stored


def test_createapikey_refuses_an_unknown_organization(db) -> None:
    with pytest.raises(CommandError, match="no organization with slug 'nope'"):
        call_command("createapikey", "--org", "nope", stdout=StringIO())
