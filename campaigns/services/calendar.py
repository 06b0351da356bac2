"""The callee's own calendar: the organization's and a campaign's blackout dates (holidays), and a
campaign's policy for numbers that may be in several zones. The engine decides with them
(campaigns.rules.engine), at dispatch and again at the last gate."""

from __future__ import annotations

import re
from datetime import date

from campaigns.models import TERMINAL_STATUSES, Campaign, Organization
from campaigns.rules.engine import CAMPAIGN_ZONE, EVERY_ZONE
from campaigns.rules.strategy import HHMM_MESSAGE, WEEKDAYS, parse_hhmm
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.tx import lock_campaigns, lock_organizations, retry_on_conflict

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
    lock_organizations([organization.pk], "update")
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


MAX_RULES = 200
REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")


def validate_windows(windows: list, where: str) -> list[FieldError]:
    """Weekly windows {day, start, end} (HH:MM; end at or before start runs past midnight, equal
    is the whole day)."""
    errors = []
    for i, window in enumerate(windows):
        if not isinstance(window, dict) or set(window) != {"day", "start", "end"}:
            errors.append(FieldError(f"{where}.{i}", "must have exactly day, start and end"))
            continue
        if window["day"] not in WEEKDAYS:
            errors.append(FieldError(f"{where}.{i}.day", f"must be one of {', '.join(WEEKDAYS)}"))
        errors += [
            FieldError(f"{where}.{i}.{k}", HHMM_MESSAGE)
            for k in ("start", "end")
            if parse_hhmm(window[k]) is None
        ]
    return errors


def _rule_errors(row: object, where: str) -> list[FieldError]:
    if not isinstance(row, dict):
        return [FieldError(where, "must be an object")]
    errors = [
        FieldError(f"{where}.{key}", "should not exist")
        for key in row
        if key not in ("region", "windows", "note")
    ]
    region = row.get("region")
    if not isinstance(region, str) or not REGION.fullmatch(region):
        errors.append(
            FieldError(f"{where}.region", "must be a country (DE) or a country and subdivision (US-FL)")
        )
    note = row.get("note", "")
    if not isinstance(note, str) or len(note) > 200:
        errors.append(FieldError(f"{where}.note", "must be a string of at most 200 characters"))
    windows = row.get("windows")
    if not isinstance(windows, list) or not windows:
        errors.append(FieldError(f"{where}.windows", "must list at least one window {day, start, end}"))
    else:
        errors += validate_windows(windows, f"{where}.windows")
    return errors


@retry_on_conflict
def organization_region_rules_set(
    *, organization: Organization, by: Actor, rules: list[dict]
) -> Organization:
    """Replace the organization's region rules: callees in each region are called only inside its
    windows, in their own local time (reason region_hours otherwise). Raises ValidationFailed
    naming each bad rule field."""
    lock_organizations([organization.pk], "update")
    organization = Organization.objects.get(pk=organization.pk)
    if len(rules) > MAX_RULES:
        raise ValidationFailed.one("region_rules", f"must contain no more than {MAX_RULES} elements")
    errors = [e for i, row in enumerate(rules) for e in _rule_errors(row, f"region_rules.{i}")]
    if errors:
        raise ValidationFailed(errors)
    stored = [
        {"region": row["region"], "windows": [dict(w) for w in row["windows"]], "note": row.get("note", "")}
        for row in rules
    ]
    before = {"region_rules": organization.region_rules}
    organization.region_rules = stored
    organization.save(update_fields=["region_rules"])
    audit_record(
        organization=organization,
        by=by,
        action="organization.region_rules_set",
        target=organization,
        before=before,
        after={"region_rules": stored},
    )
    return organization


# -- one date or one rule at a time (the dashboard's calendar page) ---------------------------------


@retry_on_conflict
def organization_blackout_add(*, organization: Organization, by: Actor, day: str) -> Organization:
    """Add one blackout date (YYYY-MM-DD) to the organization's; one already there is left as is.
    Raises ValidationFailed (field `day`) for a bad date or a full calendar (MAX_DATES)."""
    lock_organizations([organization.pk], "update")
    current = Organization.objects.get(pk=organization.pk).blackout_dates or []
    days, errors = _dates([day], "day")
    if errors:
        raise ValidationFailed([FieldError("day", "must be a date written YYYY-MM-DD")])
    if days[0] in current:
        return Organization.objects.get(pk=organization.pk)
    if len(current) >= MAX_DATES:
        raise ValidationFailed.one(
            "day", f"the calendar holds {MAX_DATES} dates at most: remove past ones first"
        )
    return organization_blackout_set(organization=organization, by=by, blackout_dates=[*current, *days])


@retry_on_conflict
def organization_blackout_remove(*, organization: Organization, by: Actor, day: str) -> Organization:
    """Remove one blackout date; raises ValidationFailed (field `day`) for a date not in the list."""
    lock_organizations([organization.pk], "update")
    current = Organization.objects.get(pk=organization.pk).blackout_dates or []
    if day not in current:
        raise ValidationFailed.one("day", f"{day[:20]} is not one of the organization's blackout dates")
    return organization_blackout_set(
        organization=organization, by=by, blackout_dates=[d for d in current if d != day]
    )


@retry_on_conflict
def organization_region_rule_add(*, organization: Organization, by: Actor, rule: dict) -> Organization:
    """Add one region rule {region, windows, note} after the others. Raises ValidationFailed naming
    the rule's fields as `region`, `windows.N.start`, `note` (no list index)."""
    lock_organizations([organization.pk], "update")
    current = Organization.objects.get(pk=organization.pk).region_rules or []
    errors = [FieldError(e.field.removeprefix("rule."), e.message) for e in _rule_errors(rule, "rule")]
    if errors:
        raise ValidationFailed(errors)
    if len(current) >= MAX_RULES:
        raise ValidationFailed.one("region", f"the table holds {MAX_RULES} rules at most")
    return organization_region_rules_set(organization=organization, by=by, rules=[*current, rule])


@retry_on_conflict
def organization_region_rule_remove(
    *, organization: Organization, by: Actor, index: int, region: str
) -> Organization:
    """Remove the rule at `index`, which must still be for `region` (a page shown before another
    change must not remove the wrong one). Raises ValidationFailed (field `region`) otherwise."""
    lock_organizations([organization.pk], "update")
    current = list(Organization.objects.get(pk=organization.pk).region_rules or [])
    if not 0 <= index < len(current) or current[index].get("region") != region:
        raise ValidationFailed.one("region", "that rule is no longer in the table: reload the page")
    del current[index]
    return organization_region_rules_set(organization=organization, by=by, rules=current)
