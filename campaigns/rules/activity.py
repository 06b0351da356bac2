"""What a campaign is doing at one instant, in one code: dialing, or the one thing it waits for.

The dashboard's "what the dialer is doing" panel shows this, computed when the page is drawn
from the campaign's own state (not from what the dialer last stored), so it is true at the
moment shown. Pure: plain values in, `now` passed in.

Order (the first that holds names the wait): ended; not started; the organization's stop;
paused; the campaign's schedule or calling hours (the engine's campaign gate); nobody due;
the limit that holds every call back (campaign lines, organization lines, pacing); dialing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.rules.engine import CAMPAIGN_LINES, ORGANIZATION_LINES, PACING, Action, Decision
from campaigns.rules.reasons import ALL_LINES_BUSY, ORGANIZATION_LINES_BUSY, Reason
from campaigns.rules.reasons import PACING as PACING_REASON

DIALING = "dialing"
ENDED = "ended"
FINISHING = "finishing"  # ended, calls still under way
NOBODY_DUE = "nobody_due"
NOT_STARTED = "not_started"

_LIMIT_REASONS = {
    CAMPAIGN_LINES: ALL_LINES_BUSY,
    ORGANIZATION_LINES: ORGANIZATION_LINES_BUSY,
    PACING: PACING_REASON,
}


@dataclass(frozen=True)
class ActivityFacts:
    status: str  # the campaign's stored status (scheduled, in-progress, paused, ended, ...)
    gate: Decision  # engine.campaign_gate at `now`
    calls_live: int  # calls queued, ringing or in progress
    due_now: bool  # a pending customer whose next_attempt_at has come
    next_due_at: datetime | None  # the earliest next_attempt_at of pending customers, if any
    room: int  # engine.headroom at `now`
    limit: str  # engine.binding_limit at `now`
    limit_until: datetime | None = None  # for PACING: when the next token is whole


@dataclass(frozen=True)
class Activity:
    code: str  # DIALING, ENDED, FINISHING, NOT_STARTED, NOBODY_DUE, or a Reason / limit reason
    until: datetime | None = None

    @property
    def dialing(self) -> bool:
        return self.code == DIALING


def activity(facts: ActivityFacts) -> Activity:
    """The one code that says what the campaign does at the moment the facts were read."""
    if facts.status in ("ended", "cancelled", "archived"):
        return Activity(FINISHING if facts.calls_live else ENDED)
    if facts.status == "scheduled":
        return Activity(NOT_STARTED, facts.gate.until)
    gate = facts.gate
    if gate.reason is Reason.ORGANIZATION_PAUSED:
        return Activity(Reason.ORGANIZATION_PAUSED)
    if facts.status == "paused":
        return Activity(Reason.CAMPAIGN_PAUSED)
    if gate.action is not Action.DIAL:
        return Activity(gate.reason or Reason.CAMPAIGN_NOT_RUNNING, gate.until)
    if not facts.due_now:
        return Activity(NOBODY_DUE, facts.next_due_at)
    if facts.room <= 0:
        return Activity(_LIMIT_REASONS[facts.limit], facts.limit_until if facts.limit == PACING else None)
    return Activity(DIALING)
