"""Callbacks from callees on the dashboard: the campaign's inbound setting on the outcome
settings page, and an inbound call on the customer's page and among the campaign's calls."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign
from campaigns.services.inputs import CallEvent
from tests.dashboard.test_outcome_settings import form
from tests.fakes.dialdeck_side import queue_calls

pytestmark = pytest.mark.django_db


def test_a_manager_sets_how_callbacks_are_answered_and_bad_input_is_named(as_manager, make_campaign):
    campaign = make_campaign(1)
    url = reverse("campaigns:outcome-settings", args=[campaign.pk])
    assert "Callbacks from callees" in as_manager.get(url).content.decode()

    refused = as_manager.post(url, form(inbound_mode="forward", inbound_rejection_message="x" * 501))
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "Select a valid choice" in page and "at most 500 characters" in page
    assert Campaign.objects.get(pk=campaign.pk).inbound_mode == "reject"  # nothing half-saved

    saved = as_manager.post(
        url,
        form(
            inbound_mode="route", inbound_rejection_message=" Call us later. ", inbound_route_do_not_call="on"
        ),
    )
    assert saved.status_code == 302
    campaign.refresh_from_db()
    assert (
        campaign.inbound_mode,
        campaign.inbound_rejection_message,
        campaign.inbound_route_do_not_call,
    ) == (
        "route",
        "Call us later.",
        True,
    )


def test_an_inbound_call_shows_on_the_customer_and_in_the_campaigns_calls(as_manager, make_campaign):
    campaign = make_campaign(1, strategy={"respect_recipient_time_zone": False})
    [call] = queue_calls(campaign)
    ended = CallEvent(
        kind="status-update", status="ended", ended_reason="customer-busy", call_id=str(call.pk)
    )
    services.record_call_event(account=call.provider_account, event=ended)
    customer = campaign.customers.get()
    result = services.inbound_call_receive(
        account=call.provider_account,
        caller=customer.number,
        called=call.phone_number.number,
        provider_call_id="x1",
    )

    page = as_manager.get(reverse("campaigns:customer", args=[campaign.pk, customer.pk])).content.decode()
    assert "Calls from the customer" in page and "Inbound #1" in page
    assert "Rejected with the message" in page
    assert 'Every attempt <span class="muted">(1)</span>' in page  # the callback is no attempt

    detail = as_manager.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'data-inbound-calls="1"' in detail and "Inbound callbacks 1" in detail
    assert 'data-direction="inbound"' in detail and "inbound callback #1" in detail
    record = as_manager.get(reverse("campaigns:call", args=[campaign.pk, result.call.pk]))
    assert record.status_code == 200 and "call.dialdeck.inbound-rejected" in record.content.decode()
