"""The organization's compliance settings, its organization-wide stop, and the secret that signs
its campaign events.

Who may call these is the permission table's to say (campaigns.permissions: settings and
resuming are for admins, the emergency stop for managers too); each change is audited with the
values before and after. A campaign can only narrow what is set here
(campaigns.services.strategy); the dialer reads these at every gate (dialer.claims).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

import phonenumbers

from campaigns import clock
from campaigns.models import Organization
from campaigns.models.org import new_signing_secret, signing_secret_hint
from campaigns.rules import usage
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.tx import lock_organizations, retry_on_conflict

# The settings `organization_update` changes, audited as they are.
COMPLIANCE_FIELDS = (
    "recipient_earliest",
    "recipient_latest",
    "allow_ignoring_recipient_time",
    "call_numbers_without_time_zone",
    "default_region",
)

# The billing period and quota (campaigns.rules.usage), changed and audited the same way.
BILLING_FIELDS = ("billing_day", "included_minutes", "quota_mode")
SETTINGS_FIELDS = COMPLIANCE_FIELDS + BILLING_FIELDS


@dataclass
class OrganizationChanges:
    """A partial update: only the fields listed in `fields` are applied."""

    fields: set[str]
    recipient_earliest: time | None = None
    recipient_latest: time | None = None
    allow_ignoring_recipient_time: bool = False
    call_numbers_without_time_zone: bool = False
    default_region: str = ""
    billing_day: int = 1
    included_minutes: int | None = None
    quota_mode: str = usage.QuotaMode.OFF


def _snapshot(organization: Organization) -> dict[str, Any]:
    values = {field: getattr(organization, field) for field in SETTINGS_FIELDS}
    for field in ("recipient_earliest", "recipient_latest"):
        values[field] = values[field].strftime("%H:%M")
    values["dialing_paused"] = organization.dialing_paused_at is not None
    return values


@retry_on_conflict
def organization_update(
    *, organization: Organization, by: Actor, changes: OrganizationChanges
) -> Organization:
    """Change the organization's compliance, billing and quota settings. Raises ValidationFailed
    naming each bad field; nothing is saved then."""
    lock_organizations([organization.pk], "update")
    organization = Organization.objects.get(pk=organization.pk)
    before = _snapshot(organization)
    for field in changes.fields & set(SETTINGS_FIELDS):
        setattr(organization, field, getattr(changes, field))
    organization.default_region = (organization.default_region or "").strip().upper()
    errors = []
    if organization.default_region and organization.default_region not in phonenumbers.SUPPORTED_REGIONS:
        errors.append(FieldError("default_region", "must be a country code such as US, GB or DE"))
    if None in (organization.recipient_earliest, organization.recipient_latest):
        errors.append(FieldError("recipient_latest", "both ends of the callee-local window are required"))
    elif organization.recipient_earliest >= organization.recipient_latest:
        errors.append(FieldError("recipient_latest", "must be later than the earliest callee-local time"))
    errors += _billing_errors(organization)
    if errors:
        raise ValidationFailed(errors)
    organization.save()
    audit_record(
        organization=organization,
        by=by,
        action="organization.update",
        target=organization,
        before=before,
        after=_snapshot(organization),
    )
    return organization


def _billing_errors(organization: Organization) -> list[FieldError]:
    errors = []
    day = organization.billing_day
    if isinstance(day, bool) or not isinstance(day, int) or day not in usage.BILLING_DAYS:
        errors.append(FieldError("billing_day", "must be a day from 1 to 28, which every month has"))
    minutes = organization.included_minutes
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0):
        errors.append(
            FieldError("included_minutes", "must be a whole number of minutes, 0 or more, or empty")
        )
    if organization.quota_mode not in set(usage.QuotaMode):
        errors.append(FieldError("quota_mode", "must be one of off, warn, pause"))
    elif organization.quota_mode != usage.QuotaMode.OFF and minutes is None:
        errors.append(FieldError("included_minutes", "a quota that warns or pauses needs included minutes"))
    return errors


@retry_on_conflict
def organization_pause(*, organization: Organization, by: Actor) -> Organization:
    """Stop every campaign of the organization at once: from the commit on, no call passes the
    last gate (calls already at the provider finish and are recorded). Campaigns keep their own
    status, so resuming the organization resumes exactly what was running."""
    return _set_paused(organization, by=by, paused=True)


@retry_on_conflict
def organization_resume(*, organization: Organization, by: Actor) -> Organization:
    """Lift the organization-wide stop."""
    return _set_paused(organization, by=by, paused=False)


def _set_paused(organization: Organization, *, by: Actor, paused: bool) -> Organization:
    lock_organizations([organization.pk], "update")
    organization = Organization.objects.get(pk=organization.pk)
    if (organization.dialing_paused_at is not None) == paused:
        state = "paused" if paused else "dialing"
        raise InvalidTransition(
            action="pause" if paused else "resume",
            current=state,
            detail=f"the organization is already {state}",
        )
    before = _snapshot(organization)
    organization.dialing_paused_at = clock.now() if paused else None
    organization.save(update_fields=["dialing_paused_at"])
    audit_record(
        organization=organization,
        by=by,
        action="organization.pause" if paused else "organization.resume",
        target=organization,
        before=before,
        after=_snapshot(organization),
    )
    return organization


@retry_on_conflict
def organization_signing_secret_rotate(*, organization: Organization, by: Actor) -> tuple[Organization, str]:
    """A new secret for signing campaign events; returns (organization, secret). The secret is
    shown to the caller once and never again: only a hint of it is kept in the audit trail.

    The secret it replaces keeps signing for SIGNING_SECRET_GRACE (models.org), so receivers
    switch without refusing an event; rotating again within that time retires it at once.
    """
    # NO KEY UPDATE: rotations queue on each other, while the dialer's gates (KEY SHARE) go on.
    lock_organizations([organization.pk], "no_key_update")
    organization = Organization.objects.get(pk=organization.pk)
    old, secret = organization.event_signing_secret, new_signing_secret()
    organization.event_signing_secret_previous = old
    organization.event_signing_secret = secret
    organization.event_signing_secret_rotated_at = clock.now()
    organization.save(
        update_fields=[
            "event_signing_secret",
            "event_signing_secret_previous",
            "event_signing_secret_rotated_at",
        ]
    )
    audit_record(
        organization=organization,
        by=by,
        action="organization.signing_secret_rotate",
        target=organization,
        before={"event_signing_secret": signing_secret_hint(old)},
        after={"event_signing_secret": signing_secret_hint(secret)},
    )
    return organization, secret
