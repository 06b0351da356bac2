"""What a supervisor must not miss, decided on plain values: when a campaign with nobody callable
has waited long enough to say so, and when a provider account is failing. Pure: no ORM, no clock.

A provider account fails by the same definition as a campaign's automatic pause (rules.autopause,
its default thresholds) read over the account's latest ended calls across all its campaigns.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from campaigns.rules.autopause import AutoPause, pause_reason

# A running campaign with customers left but nobody callable says so after this long: shorter
# waits are ordinary (a retry delay running out, the minute before a callee's hours open).
NOBODY_CALLABLE_AFTER = timedelta(minutes=5)
# A provider account is judged on its calls ended within this long (older failures are history).
PROVIDER_WINDOW = timedelta(minutes=15)
PROVIDER_PLAN = AutoPause()


def provider_failing(latest: Sequence[str]) -> str | None:
    """Why a provider account is failing, in words, or None. `latest`: the endedReasons of its
    latest ended calls within PROVIDER_WINDOW, newest first (PROVIDER_PLAN.looks_at at most)."""
    return pause_reason(latest, PROVIDER_PLAN)


def is_due(kind: str, opened_at: datetime, now: datetime) -> bool:
    """Whether an open alert is announced now: nobody-callable ones once they lasted
    NOBODY_CALLABLE_AFTER, every other kind at once."""
    if kind == "campaign.nobody-callable":
        return now - opened_at >= NOBODY_CALLABLE_AFTER
    return True
