"""A customer as Vapi's v2 campaigns see it: a contact with a `contact.*` status, counted in one of
the campaign's stored counters.

Pure: customer states and reasons in (as stored), names out. Every service that moves a customer
from one state to another moves the counters `bucket` names, in the same transaction, by the rows
it actually changed; the v2 `contactCounters` are read from those columns, never counted.
"""

from __future__ import annotations

from campaigns.rules.reasons import Reason

PENDING = "contact.pending"
DISPATCHED = "contact.dispatched"
COMPLETED = "contact.completed"
FAILED = "contact.failed"
SKIPPED = "contact.skipped"
PREDIAL_FAILED = "contact.predial-failed"
# In Vapi's declaration order: what `sortBy=status` sorts by.
STATUSES = (PENDING, DISPATCHED, COMPLETED, FAILED, SKIPPED, PREDIAL_FAILED)

# The campaign's counter columns, one per bucket a customer can be in.
BUCKETS = (
    "customers_pending",
    "customers_dispatched",
    "customers_completed",
    "customers_failed",
    "customers_skipped",
    "customers_predial_failed",
    "customers_cancelled",
)
_BY_STATE = {
    "pending": "customers_pending",
    "queued": "customers_dispatched",
    "dialing": "customers_dispatched",
    "completed": "customers_completed",  # the call connected or rang out
    "voicemail": "customers_completed",
    "failed": "customers_failed",
    "cancelled": "customers_cancelled",
}
_STATUS_OF_BUCKET = {
    "customers_pending": PENDING,
    "customers_dispatched": DISPATCHED,
    "customers_completed": COMPLETED,
    "customers_failed": FAILED,
    "customers_skipped": SKIPPED,
    "customers_predial_failed": PREDIAL_FAILED,
    # Vapi gives customers a cancel left undialed no terminal status of their own: they stay pending
    # (clients see the end in the campaign's status), and our own API says `cancelled`.
    "customers_cancelled": PENDING,
}
# v2 contactCounters: each key, and the counter columns it adds up.
CONTACT_COUNTERS = {
    "pending": ("customers_pending", "customers_cancelled"),
    "dispatched": ("customers_dispatched",),
    "completed": ("customers_completed",),
    "failed": ("customers_failed",),
    "skipped": ("customers_skipped",),
    "predialFailed": ("customers_predial_failed",),
}


def bucket(state: str, reason: str = "") -> str:
    """The counter column a customer in `state` (with `reason`) is counted in."""
    if state == "skipped":
        return "customers_predial_failed" if reason == Reason.PREDIAL_FAILED else "customers_skipped"
    try:
        return _BY_STATE[state]
    except KeyError:
        raise ValueError(f"unknown customer state {state!r}") from None


def contact_status(state: str, reason: str = "") -> str:
    """The `contact.*` status of a customer (Vapi's v2 contacts)."""
    return _STATUS_OF_BUCKET[bucket(state, reason)]


def buckets_of_status(status: str) -> tuple[str, ...]:
    """The counter columns (and so the stored states) a `contact.*` status filter covers."""
    return tuple(b for b, s in _STATUS_OF_BUCKET.items() if s == status)


def moved(state_from: str, reason_from: str, state_to: str, reason_to: str, count: int) -> dict[str, int]:
    """Counter deltas for `count` customers moved from one state to another (empty when the
    bucket stays the same, e.g. queued -> dialing)."""
    before, after = bucket(state_from, reason_from), bucket(state_to, reason_to)
    if before == after or not count:
        return {}
    return {before: -count, after: count}
