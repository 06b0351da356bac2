"""Notices to the organization's people: a row each in the app, and an email on commit.

Email goes through Django's mail backends (EMAIL_BACKEND; the console backend by default), sent
after the transaction commits so a rolled-back finish never mails anyone, and a mail server that
fails never undoes the change it reports (the row in the app stays).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction

from campaigns import clock
from campaigns.models import Campaign, Membership, Notification, NotificationKind
from campaigns.services.audit import Actor, audit_record

log = logging.getLogger(__name__)


def notify_campaign_finished(*, campaign: Campaign) -> int:
    """Tell every member of the campaign's organization that it finished; returns how many."""
    tallies = (
        f"{campaign.customers_completed:,} reached, "
        f"{campaign.customers_failed + campaign.customers_skipped + campaign.customers_predial_failed:,} "
        f"not reached, {campaign.customers_cancelled:,} cancelled, of {campaign.customers_total:,}"
    )
    return notify_members(
        organization_id=campaign.organization_id,
        kind=NotificationKind.FINISHED,
        text=f"“{campaign.name}” finished: {tallies}.",
        subject=f"Dialdeck: {campaign.name} finished",
        campaign=campaign,
    )


def notify_members(
    *,
    organization_id: object,
    kind: str,
    text: str,
    subject: str,
    campaign: Campaign | None = None,
    target_id: str = "",
) -> int:
    """A notice for every member of the organization (in the app), emailed on commit to those who
    want email; returns how many members were told. Runs in the caller's transaction."""
    members = list(Membership.objects.filter(organization_id=organization_id).select_related("user"))
    Notification.objects.bulk_create(
        [
            Notification(
                organization_id=organization_id,
                user=m.user,
                campaign=campaign,
                kind=kind,
                text=text[:300],
                target_id=target_id,
            )
            for m in members
        ]
    )
    mails = [
        (subject, text, settings.DEFAULT_FROM_EMAIL, [m.user.email])
        for m in members
        if m.email_notifications and m.user.email
    ]
    if mails:
        transaction.on_commit(lambda: _send(mails))
    return len(members)


def _send(mails: list[tuple]) -> None:
    try:
        send_mass_mail(mails, fail_silently=False)
    except Exception:  # noqa: BLE001 - the notice is in the app; a mail server's trouble is logged
        log.exception("could not email %d notices", len(mails))


@transaction.atomic
def notifications_read(*, user: Actor, organization_id: object) -> int:
    """Mark every unread notice of `user` in the organization as read; returns how many."""
    return Notification.objects.filter(
        user=user, organization_id=organization_id, read_at__isnull=True
    ).update(read_at=clock.now())


@transaction.atomic
def membership_set_email_notifications(*, membership: Membership, by: Actor, enabled: bool) -> Membership:
    """A person's own choice: notices by email too, or only in the app."""
    before = {"email_notifications": membership.email_notifications}
    membership.email_notifications = enabled
    membership.save(update_fields=["email_notifications"])
    audit_record(
        organization=membership.organization,
        by=by,
        action="membership.notifications",
        target=membership,
        before=before,
        after={"email_notifications": enabled},
    )
    return membership
