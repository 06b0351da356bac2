"""Turn stored rows into the plain values the engine decides on. Reads only; writes nothing.

It reads attributes of the rows it is given and imports no model (only for type hints): the
rules package stays free of the ORM.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from campaigns import places
from campaigns.phone import regions_for
from campaigns.rules.analysis import OBJECTIVE_FIELD
from campaigns.rules.autopause import AutoPause
from campaigns.rules.engine import (
    ENDED,
    IN_PROGRESS,
    PAUSED,
    SCHEDULED,
    CampaignPolicy,
    CustomerFacts,
    RegionRule,
    RetryDelays,
    Window,
)
from campaigns.rules.outcome_plan import (
    CALLBACK_FIELD,
    VOICEMAIL_THEN,
    OutcomePlan,
    OutcomeRule,
    When,
    parse_rules,
)
from campaigns.rules.strategy import RETRY_OUTCOMES, WEEKDAY_INDEX

_LIVE = (SCHEDULED, IN_PROGRESS, PAUSED)

if TYPE_CHECKING:
    from campaigns.models import Campaign, Customer


# The campaign's own fields campaign_policy reads (besides its organization): what a reader that
# wants the policy of many campaigns, not their whole rows, reads of each (the tick).
CAMPAIGN_FIELDS = (
    "status",
    "time_zone",
    "calling_hours",
    "earliest_at",
    "latest_at",
    "started_at",
    "capacity_wait_seconds",
    "respect_recipient_time_zone",
    "recipient_earliest",
    "recipient_latest",
    "max_attempts",
    "retry_delays",
    "retry_voicemail",
    "blackout_dates",
    "ambiguous_zones",
)


def campaign_policy(campaign: Campaign, *, quota_spent: bool = False) -> CampaignPolicy:
    """The engine's view of a campaign; the organization's floor bounds the callee-local window.
    `quota_spent`: the organization's quota refuses calls now (selectors.organization_quota)."""
    org = campaign.organization
    delays = {**RetryDelays().__dict__, **_retry_delays(campaign.retry_delays)}
    return CampaignPolicy(
        # Cancelled and archived campaigns never dial: to the engine they have ended.
        status=campaign.status if campaign.status in _LIVE else ENDED,
        time_zone=campaign.time_zone,
        calling_hours=tuple(
            Window(
                weekday=WEEKDAY_INDEX[w["day"]],
                start=time.fromisoformat(w["start"]),
                end=time.fromisoformat(w["end"]),
            )
            for w in campaign.calling_hours
        ),
        earliest_at=campaign.earliest_at,
        latest_at=campaign.latest_at,
        started_at=campaign.started_at,
        capacity_wait=(
            timedelta(seconds=campaign.capacity_wait_seconds) if campaign.capacity_wait_seconds else None
        ),
        # Only an admin's organization setting lets a campaign turn the callee-local floor off.
        respect_recipient_time_zone=campaign.respect_recipient_time_zone
        or not org.allow_ignoring_recipient_time,
        recipient_start=recipient_window(campaign)[0],
        recipient_end=recipient_window(campaign)[1],
        max_attempts=campaign.max_attempts,
        retry_delays=RetryDelays(**delays),
        retry_voicemail=campaign.retry_voicemail,
        organization_paused=org.dialing_paused_at is not None,
        quota_spent=quota_spent,
        call_unknown_zones=org.call_numbers_without_time_zone,
        blackout_dates=blackout_dates(org.blackout_dates, campaign.blackout_dates),
        ambiguous_zones=campaign.ambiguous_zones,
        region_rules=region_rules(org.region_rules),
    )


def region_rules(stored: list[dict]) -> tuple[RegionRule, ...]:
    """The organization's table ({region, windows: [{day, start, end}], note}, checked by
    services.organization_region_rules_set) as the engine's rules."""
    return tuple(
        RegionRule(region=row["region"], windows=_windows(row["windows"]), note=row.get("note", ""))
        for row in stored or ()
    )


def _windows(stored: list[dict]) -> tuple[Window, ...]:
    return tuple(
        Window(
            weekday=WEEKDAY_INDEX[w["day"]],
            start=time.fromisoformat(w["start"]),
            end=time.fromisoformat(w["end"]),
        )
        for w in stored
    )


def blackout_dates(*stored: list[str]) -> frozenset[date]:
    """The stored ISO dates of the organization and the campaign, together (services check them)."""
    return frozenset(date.fromisoformat(day) for days in stored for day in (days or ()))


def recipient_window(campaign: Campaign) -> tuple[time, time]:
    """The callee-local window a campaign keeps: its own, clamped by the organization's floor
    (a campaign may only narrow it)."""
    org = campaign.organization
    start = max(campaign.recipient_earliest or org.recipient_earliest, org.recipient_earliest)
    end = min(campaign.recipient_latest or org.recipient_latest, org.recipient_latest)
    return start, end


def _retry_delays(stored: dict) -> dict:
    return {RETRY_OUTCOMES[k]: int(v) for k, v in (stored or {}).items() if k in RETRY_OUTCOMES}


def callee_regions(number: str, region: str) -> tuple[str, ...]:
    """The regions whose rules hold a callee: their number's and their place's (both, since a
    law may follow either the number or the person), each once."""
    found = (*(regions_for(number) if number else ()), *places.regions_of(region))
    return tuple(dict.fromkeys(found))


def customer_facts(customer: Customer, *, do_not_call: bool) -> CustomerFacts:
    """Impossible numbers were skipped at import, so a customer asked about here has a usable one.

    The number is the canonical one whatever Vapi's E.164 check said: that flag relaxes how the
    number may be written, never the calling hours or do-not-call (no zones: unknown_time_zone).
    """
    return CustomerFacts(
        number=customer.number,
        time_zones=customer.zone_list,
        attempts=customer.attempts,
        next_attempt_at=customer.next_attempt_at,
        do_not_call=do_not_call,
        regions=callee_regions(customer.number, customer.region),
        callbacks=customer.callbacks,
    )


def outcome_plan(campaign: Campaign) -> OutcomePlan:
    """The campaign's outcome rules and opt-out and callback settings, as values."""
    rules = parse_rules(campaign.outcome_rules)
    then = (campaign.voicemail_plan or {}).get("then")
    if then in VOICEMAIL_THEN:  # after the campaign's own rules, before the defaults
        rules += (OutcomeRule(When(outcome="voicemail"), VOICEMAIL_THEN[then]),)
    return OutcomePlan(
        rules=rules,
        hang_up_is_opt_out=campaign.hang_up_is_opt_out,
        hang_up_seconds=campaign.hang_up_opt_out_seconds,
        callback_field=campaign.callback_field or CALLBACK_FIELD,
        max_callbacks=campaign.max_callbacks,
        objective_field=campaign.objective_field or OBJECTIVE_FIELD,
    )


def auto_pause_plan(campaign: Campaign) -> AutoPause:
    """The campaign's automatic-pause settings (rules.autopause)."""
    return AutoPause(
        enabled=campaign.auto_pause_enabled,
        window=campaign.auto_pause_window,
        error_rate=campaign.auto_pause_error_rate,
        consecutive=campaign.auto_pause_consecutive,
    )
