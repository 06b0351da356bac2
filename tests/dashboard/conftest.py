"""Dashboard tests: the site's URLs with the dashboard mounted, and clients logged in as each persona."""

from __future__ import annotations

import pytest
from django.test import Client

from campaigns import services
from campaigns.models import Campaign, Membership, Role
from tests.conftest import _member, customers

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def as_owner(owner) -> Client:
    return _client(owner)


@pytest.fixture
def as_manager(manager) -> Client:
    return _client(manager)


@pytest.fixture
def as_viewer(viewer) -> Client:
    return _client(viewer)


@pytest.fixture
def as_outsider(outsider) -> Client:
    return _client(outsider)


@pytest.fixture
def campaign(make_campaign) -> Campaign:
    return make_campaign(
        5, name="Renewals", strategy={"respect_recipient_time_zone": False, "auto_start": False}
    )


@pytest.fixture
def running(campaign, owner) -> Campaign:
    return services.campaign_start(campaign=campaign, by=owner)


@pytest.fixture
def their_campaign(other_org, outsider, other_caller_id) -> Campaign:
    """A campaign of another organization: every id of it must answer 404 to us."""
    return services.campaign_create(
        organization=other_org,
        by=outsider,
        data=services.CampaignInput(
            name="Theirs", assistant_id="a", phone_number_id=str(other_caller_id.pk), customers=customers(2)
        ),
    )


@pytest.fixture
def member_of_two(org, other_org):
    """Someone who belongs to both organizations: a manager here, a viewer there."""
    user = _member(org, "tess", Role.MANAGER)
    Membership.objects.create(user=user, organization=other_org, role=Role.VIEWER)
    return user
