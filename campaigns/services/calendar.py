"""The callee's own calendar: the organization's and a campaign's blackout dates (holidays), and a
campaign's policy for numbers that may be in several zones. The engine decides with them
(campaigns.rules.engine), at dispatch and again at the last gate."""

from __future__ import annotations

from datetime import date

from campaigns.models import TERMINAL_STATUSES, Campaign, Organization
from campaigns.rules.engine import CAMPAIGN_ZONE, EVERY_ZONE
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.tx import lock_campaigns, lock_organization, retry_on_conflict

MAX_DATES = 400


def _dates(values: list[str], field: str) -> tuple[list[str], list[FieldError]]:
    """Sorted, de-duplicated ISO dates, or the problems of each bad one."""
    if len(values) > MAX_DATES:
        return [], [FieldError(field, f"must contain no more than {MAX_DATES} elements")]
    errors, found = [], set()
    for i, value in enumerate(values):
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            found.add(date.fromisoformat(value))
        except ValueError:
            errors.append(FieldError(f"{field}.{i}", "must be a date written YYYY-MM-DD"))
    return [day.isoformat() for day in sorted(found)], errors


@retry_on_conflict
def campaign_calendar_set(
    *,
    campaign: Campaign,
    by: Actor,
    blackout_dates: list[str] | None = None,
    ambiguous_zones: str | None = None,
) -> Campaign:
    """Change the campaign's blackout dates and/or its policy for ambiguous numbers (None: keep).
    Raises ValidationFailed naming each bad date or an unknown policy; InvalidTransition once the
    campaign has ended."""
    lock_campaigns([campaign.pk], "update")
    campaign = Campaign.objects.select_related("organization").get(pk=campaign.pk)
    if campaign.status in TERMINAL_STATUSES or campaign.deleted_at:
        raise InvalidTransition(
            action="change the calendar of", current="deleted" if campaign.deleted_at else campaign.status
        )
    errors: list[FieldError] = []
    days = campaign.blackout_dates
    if blackout_dates is not None:
        days, errors = _dates(blackout_dates, "blackout_dates")
    if ambiguous_zones is not None and ambiguous_zones not in (EVERY_ZONE, CAMPAIGN_ZONE):
        errors.append(
            FieldError(
                "ambiguous_zones", f"must be one of the following values: {EVERY_ZONE}, {CAMPAIGN_ZONE}"
            )
        )
    if errors:
        raise ValidationFailed(errors)
    before = {"blackout_dates": campaign.blackout_dates, "ambiguous_zones": campaign.ambiguous_zones}
    campaign.blackout_dates = days
    campaign.ambiguous_zones = ambiguous_zones or campaign.ambiguous_zones
    campaign.save(update_fields=["blackout_dates", "ambiguous_zones"])
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.calendar_set",
        target=campaign,
        before=before,
        after={"blackout_dates": campaign.blackout_dates, "ambiguous_zones": campaign.ambiguous_zones},
    )
    return campaign


@retry_on_conflict
def organization_blackout_set(
    *, organization: Organization, by: Actor, blackout_dates: list[str]
) -> Organization:
    """Replace the organization's blackout dates (no campaign calls anyone on them, callee-local).
    Raises ValidationFailed naming each bad date."""
    lock_organization(organization.pk, "update")
    organization = Organization.objects.get(pk=organization.pk)
    days, errors = _dates(blackout_dates, "blackout_dates")
    if errors:
        raise ValidationFailed(errors)
    before = {"blackout_dates": organization.blackout_dates}
    organization.blackout_dates = days
    organization.save(update_fields=["blackout_dates"])
    audit_record(
        organization=organization,
        by=by,
        action="organization.blackout_set",
        target=organization,
        before=before,
        after={"blackout_dates": days},
    )
    return organization
