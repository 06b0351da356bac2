"""Customers' ids follow the order they were added in (time-ordered UUIDs, version 7), whichever
way they came: inline at creation, a bulk import, a list copied in at the start, one at a time.
A campaign's customers then sit side by side in the primary key's index, and the customers of its
latest calls are read from a few of its pages (README, Performance)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.importers.contacts import parse_contacts_csv
from campaigns.models import Customer
from tests.campaigns.test_audiences import csv_file
from tests.conftest import customers

pytestmark = pytest.mark.django_db


def ids_by_position(campaign) -> list:
    return list(Customer.objects.filter(campaign=campaign).order_by("position").values_list("id", flat=True))


def test_every_way_of_adding_customers_gives_ids_in_the_order_they_were_added(make_campaign, org, owner):
    campaign = make_campaign(300)  # inline, in the create
    services.customers_add(campaign=campaign, by=owner, rows=customers(300, start=300))  # a bulk import
    listed = services.contact_list_create(organization=org, by=owner, name="Renewals")
    rows = "".join(f"+1702555{i:04d},Contact {i}\n" for i in range(300))
    services.contacts_import(
        contact_list=listed, by=owner, rows=parse_contacts_csv(csv_file("number,name\n" + rows))
    )
    services.campaign_audiences_set(campaign=campaign, by=owner, list_ids=[str(listed.pk)], segment_ids=[])
    services.campaign_start(campaign=campaign, by=owner)  # the list, copied in

    ids = ids_by_position(campaign)
    assert len(ids) == 900
    assert {i.version for i in ids} == {7}
    assert ids == sorted(ids)  # in the primary key's order, as they were added


def test_a_customer_made_one_at_a_time_takes_a_time_ordered_id_too(make_campaign):
    campaign = make_campaign(2)
    later = Customer.objects.create(
        campaign=campaign, position=2, sort_key=2, number="+14155559999", next_attempt_at=timezone.now()
    )
    ids = ids_by_position(campaign)
    assert later.id.version == 7 and ids == sorted(ids) and ids[-1] == later.id
