"""Notices when a campaign finishes: in the app for every member, by email for those who want it."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from campaigns import services
from campaigns.models import Customer, Membership, Notification

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_finished_campaign_is_announced_in_the_app_and_by_email(
    as_manager, running, owner, manager, org
) -> None:
    Membership.objects.filter(user=manager).update(email_notifications=False)
    Customer.objects.filter(campaign=running).update(state="cancelled")  # nothing left: it may finish
    running.__class__.objects.filter(pk=running.pk).update(customers_pending=0, customers_cancelled=5)
    services.campaign_finish(campaign=running)
    assert Notification.objects.filter(campaign=running).count() == 2  # the owner and the manager
    assert [m.to for m in mail.outbox] == [[owner.email]]  # the manager turned email off
    assert "Renewals finished" in mail.outbox[0].subject
    page = as_manager.get(reverse("campaigns:notifications")).content.decode()
    assert "“Renewals” finished: 0 reached, 0 not reached, 5 cancelled, of 5." in page and "New:" in page
    as_manager.post(reverse("campaigns:notifications-read"))
    assert "New:" not in as_manager.get(reverse("campaigns:notifications")).content.decode()


def test_a_person_turns_email_notices_off_for_themselves(as_manager, manager) -> None:
    as_manager.post(reverse("campaigns:notifications-email"), {})
    assert Membership.objects.get(user=manager).email_notifications is False
    as_manager.post(reverse("campaigns:notifications-email"), {"email": "on"})
    assert Membership.objects.get(user=manager).email_notifications is True
