"""Why a customer (or a campaign) is not being dialed: the codes stored on customers and
campaigns, and what each means for people.

One definition: the engine returns these, the model fields take their choices from here, the
API documents them and the dashboard shows LABELS.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why a customer is not being dialed; stored on customers, shown in the UI."""

    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    CAMPAIGN_PAUSED = "campaign_paused"
    ORGANIZATION_PAUSED = "organization_paused"
    QUOTA_SPENT = "quota_spent"  # the organization's included minutes are used, in pause mode
    SCHEDULE_NOT_STARTED = "schedule_not_started"
    SCHEDULE_EXPIRED = "schedule_expired"
    CAPACITY_WAIT_EXPIRED = "capacity_wait_expired"
    OUTSIDE_CALLING_HOURS = "outside_calling_hours"
    RECIPIENT_LOCAL_TIME = "recipient_local_time"
    # The number may be in several zones and the campaign waits until every one allows a call.
    AMBIGUOUS_TIME_ZONE = "ambiguous_time_zone"
    BLACKOUT_DATE = "blackout_date"  # a holiday of the organization or the campaign, callee-local
    REGION_HOURS = "region_hours"  # a region's own rule (a state's hours, a country's day of rest)
    UNKNOWN_TIME_ZONE = "unknown_time_zone"
    DO_NOT_CALL = "do_not_call"
    MAX_ATTEMPTS = "max_attempts"
    RETRY_DELAY = "retry_delay"
    INVALID_NUMBER = "invalid_number"
    CANCELLED = "cancelled"
    PREDIAL_INELIGIBLE = "predial_ineligible"  # the campaign's server answered eligible: false
    PREDIAL_FAILED = "predial_failed"  # the campaign's server did not answer the pre-dial check
    CALLBACK = "callback"  # the callee asked to be called back then (rules.outcomes)
    # Every caller ID of the campaign's pool that could call this customer is disabled, rested or
    # at a cap (rules.caller_ids); also a queued call whose caller ID was disabled or rested since.
    NO_CALLER_ID = "no_caller_id"

    @property
    def label(self) -> str:
        return LABELS[self]


# Campaign-level: every line allowed is in use (the dialer's tick, not the engine, says so).
ALL_LINES_BUSY = "all_lines_busy"
# Campaign-level: the organization's lines are all in use (its concurrency cap, across campaigns).
ORGANIZATION_LINES_BUSY = "organization_lines_busy"
# Campaign-level: the pacing bucket is empty; the next call leaves at the pace set (rules.pacing).
PACING = "pacing"

LABELS: dict[str, str] = {
    Reason.CAMPAIGN_NOT_RUNNING: "The campaign is not running",
    Reason.CAMPAIGN_PAUSED: "The campaign is paused",
    Reason.ORGANIZATION_PAUSED: "All dialing of the organization is paused",
    Reason.QUOTA_SPENT: "The organization's included minutes for this billing period are used",
    Reason.SCHEDULE_NOT_STARTED: "Waiting for the campaign's scheduled start",
    Reason.SCHEDULE_EXPIRED: "The campaign's schedule ended before this customer could be called",
    Reason.CAPACITY_WAIT_EXPIRED: "Dropped: no line was free in time after the campaign started",
    Reason.OUTSIDE_CALLING_HOURS: "Outside the campaign's calling hours",
    Reason.RECIPIENT_LOCAL_TIME: "Waiting for the callee's local calling hours",
    Reason.AMBIGUOUS_TIME_ZONE: "The number may be in several time zones: waiting for calling time in each",
    Reason.BLACKOUT_DATE: "A blackout date (holiday) in the callee's time zone",
    Reason.REGION_HOURS: "Outside the hours the callee's region allows",
    Reason.UNKNOWN_TIME_ZONE: "No time zone is known for this number",
    Reason.DO_NOT_CALL: "On the do-not-call list",
    Reason.MAX_ATTEMPTS: "Every attempt has been used",
    Reason.RETRY_DELAY: "Waiting to call again after the last outcome",
    Reason.INVALID_NUMBER: "Not a possible phone number",
    Reason.CANCELLED: "Cancelled when the campaign ended",
    Reason.PREDIAL_INELIGIBLE: "The campaign's server said not to call (pre-dial check)",
    Reason.PREDIAL_FAILED: "The pre-dial check failed: the campaign's server did not answer eligible",
    Reason.CALLBACK: "Calling back at the time the callee asked for",
    Reason.NO_CALLER_ID: "No caller ID of the pool is usable now (disabled, rested or at its caps)",
    ALL_LINES_BUSY: "Every line of the campaign is in use",
    ORGANIZATION_LINES_BUSY: "Every line of the organization is in use (shared by its campaigns)",
    PACING: "Pacing: the next call leaves at the pace set",
}
CHOICES: list[tuple[str, str]] = [(reason.value, LABELS[reason]) for reason in Reason]
