"""Everyday operations: search, a customer's page, bulk actions with counted confirmations, the audit log."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import AuditEvent, Campaign, Customer, DoNotCall
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db


def url(name: str, campaign: Campaign, *args) -> str:
    return reverse(f"campaigns:{name}", args=[campaign.pk, *args])


def counters(campaign: Campaign) -> tuple[int, int, int]:
    campaign.refresh_from_db()
    return campaign.customers_pending, campaign.customers_cancelled, campaign.customers_final


def test_customers_are_found_by_number_in_any_spelling_name_or_external_id(as_viewer, running) -> None:
    Customer.objects.filter(campaign=running, position=3).update(external_id="crm-77")
    by_number = as_viewer.get(url("customers", running), {"q": "+1 (415) 555-0001"}, **HTMX).content.decode()
    assert by_number.count("data-customer=") == 1 and "Customer 1" in by_number
    assert (
        as_viewer.get(url("customers", running), {"q": "crm-77"}, **HTMX)
        .content.decode()
        .count("data-customer=")
        == 1
    )
    assert (
        as_viewer.get(url("customers", running), {"q": "customer"}, **HTMX)
        .content.decode()
        .count("data-customer=")
        == 5
    )


def test_a_bulk_cancel_asks_with_the_count_then_cancels_and_counts(as_manager, running) -> None:
    chosen = [str(pk) for pk in running.customers.order_by("position").values_list("pk", flat=True)[:3]]
    ask = as_manager.post(url("customers-bulk", running), {"action": "cancel", "customer": chosen})
    assert "Cancel 3 customers?" in ask.content.decode() and counters(running) == (5, 0, 0)
    done = as_manager.post(
        url("customers-bulk", running),
        {"action": "cancel", "customer": chosen, "confirmed": "yes"},
        follow=True,
    )
    assert "Cancelled 3 of 3." in done.content.decode()
    assert counters(running) == (2, 3, 3)
    event = AuditEvent.objects.get(action="customers.cancel")
    assert event.after == {"chosen": 3, "confirmed": 3, "cancelled": 3}


def test_retry_now_makes_waiting_customers_due_and_dnc_skips_them(as_manager, running) -> None:
    from datetime import timedelta

    from django.utils import timezone

    later = timezone.now() + timedelta(hours=2)
    Customer.objects.filter(campaign=running).update(next_attempt_at=later, reason="retry_delay")
    first = running.customers.order_by("position").first()
    data = {"action": "retry", "customer": [str(first.pk)], "confirmed": "yes"}
    assert (
        "1 of 1 are due now."
        in as_manager.post(url("customers-bulk", running), data, follow=True).content.decode()
    )
    first.refresh_from_db()
    assert first.next_attempt_at <= timezone.now() and first.reason == ""
    data = {"action": "dnc", "customer": [str(first.pk)], "confirmed": "yes"}
    assert (
        "1 number added"
        in as_manager.post(url("customers-bulk", running), data, follow=True).content.decode()
    )
    assert DoNotCall.objects.filter(number=first.number).exists()
    first.refresh_from_db()
    assert (first.state, first.reason) == ("skipped", "do_not_call")


def test_a_viewer_cannot_act_on_customers(as_viewer, running) -> None:
    first = running.customers.first()
    data = {"action": "cancel", "customer": [str(first.pk)], "confirmed": "yes"}
    assert as_viewer.post(url("customers-bulk", running), data).status_code == 403
    assert counters(running)[1] == 0


def test_an_ended_campaigns_customers_are_not_cancelled_again(as_manager, running, owner) -> None:
    services.campaign_end(campaign=running, by=owner)
    first = running.customers.first()
    data = {"action": "cancel", "customer": [str(first.pk)], "confirmed": "yes"}
    page = as_manager.post(url("customers-bulk", running), data, follow=True).content.decode()
    assert "Could not do that: the campaign is ended." in page


def test_the_customer_page_shows_data_attempts_and_why_it_waits(as_viewer, running) -> None:
    customer = running.customers.first()
    Customer.objects.filter(pk=customer.pk).update(
        reason="recipient_local_time",
        reason_detail="outside 08:00–21:00 recipient time",
        external_id="crm-1",
        metadata={"region": "north"},
    )
    page = as_viewer.get(url("customer", running, customer.pk)).content.decode()
    assert "crm-1" in page and "Waiting for the callee" in page and "Not called yet." in page
    assert "never sent to the agent" in page and "&quot;region&quot;: &quot;north&quot;" in page
    assert re.search(r"<dd data-zones>America/Los_Angeles <span[^>]*>\(the number.s\)", page)
    # Where the callee lives, and the zones it gives, say so.
    Customer.objects.filter(pk=customer.pk).update(
        region="US-FL", postal_code="", time_zones="America/Chicago,America/New_York"
    )
    page = as_viewer.get(url("customer", running, customer.pk)).content.decode()
    assert re.search(r"<dd data-zones>America/Chicago, America/New_York <span[^>]*>\(where they live\)", page)
    assert "<dd data-place>US-FL</dd>" in page
    other = running.customers.exclude(pk=customer.pk).first()
    assert as_viewer.get(reverse("campaigns:customer", args=[running.pk, other.pk])).status_code == 200
    assert as_viewer.get(f"/app/campaigns/{running.pk}/customers/{running.pk}").status_code == 404


def test_the_audit_log_is_for_admins_and_filters(as_owner, as_manager, running) -> None:
    assert as_manager.get(reverse("campaigns:organization-audit")).status_code == 403
    everything = as_owner.get(reverse("campaigns:organization-audit")).content.decode()
    assert 'data-action="campaign.start"' in everything and 'data-action="campaign.create"' in everything
    starts = as_owner.get(
        reverse("campaigns:organization-audit"), {"action": "campaign.start"}
    ).content.decode()
    assert 'data-action="campaign.start"' in starts and 'data-action="campaign.create"' not in starts


def test_duplicate_makes_a_scheduled_copy_with_the_customers(as_manager, running) -> None:
    response = as_manager.post(url("duplicate", running), follow=True)
    copy = Campaign.objects.get(name="Renewals (copy)")
    assert response.redirect_chain[-1][0] == url("detail", copy)
    assert (copy.status, copy.customers_total, copy.duplicated_from_id) == ("scheduled", 5, running.pk)
    assert "Duplicated" in response.content.decode()
