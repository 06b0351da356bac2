"""Callbacks from callees (inbound calls): who is calling back, and what to do with the call.

A callee who calls one of the organization's caller IDs back is recognised by number: among the
campaigns that called this canonical number from this caller ID (the candidates a selector
finds), the one that called it last wins, provided that

- it called within WINDOW (30 days) of now, and
- the campaign still runs or is paused, or ended (or was cancelled) within WINDOW.

Then the campaign's inbound mode decides:

- `reject`: the message is said (Twilio <Say>, Vapi's `error`, which Vapi speaks) and the call
  hung up; an empty message rejects at once (Twilio <Reject reason="busy"/>);
- `route`: the call goes to the campaign's agent with the customer's context (name, variables,
  last outcome), unless the caller's number is on the do-not-call list and the campaign does
  not allow routing such callers (`route_do_not_call`, off by default): then it is rejected
  with the message, so a person who asked never to be called is never pitched to on a callback.

An unknown caller (no candidate) gets the organization's default: rejected with
UNKNOWN_MESSAGE. Pure: no Django, no clock (`now` is given).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

WINDOW = timedelta(days=30)
MODES = ("reject", "route")
DEFAULT_MODE = "reject"
MESSAGE_LENGTH = 500
UNKNOWN_MESSAGE = "Sorry, this number does not take calls. Goodbye."
# Campaign statuses (models.CampaignStatus values) whose callers are recognised.
LIVE_STATUSES = ("in-progress", "paused")
ENDED_STATUSES = ("ended", "cancelled")

# Why an inbound call was answered as it was: the stored call's endedReason when rejected.
UNKNOWN_CALLER = "call.dialdeck.inbound-unknown-caller"
REJECTED = "call.dialdeck.inbound-rejected"
DO_NOT_CALL = "call.dialdeck.inbound-do-not-call"
ROUTED = "routed"
# How people read the reasons of an inbound call's rejection.
LABELS = {
    UNKNOWN_CALLER: "Rejected: unknown caller",
    REJECTED: "Rejected with the message",
    DO_NOT_CALL: "Rejected: on the do-not-call list",
}
# Context values sent to the agent are cut to this length (Twilio <Parameter> values, say).
CONTEXT_VALUE_LENGTH = 500


@dataclass(frozen=True)
class Candidate:
    """A campaign that called the caller's number from the called caller ID."""

    campaign_id: str
    customer_id: str
    campaign_status: str
    campaign_ended_at: datetime | None
    last_called_at: datetime
    mode: str = DEFAULT_MODE
    message: str = ""
    route_do_not_call: bool = False


@dataclass(frozen=True)
class Answer:
    """What to do with an inbound call: `action` is "reject" or "route"; `reason` one of
    UNKNOWN_CALLER, REJECTED, DO_NOT_CALL, ROUTED; `candidate` the campaign matched, if any."""

    action: str
    reason: str
    message: str
    candidate: Candidate | None = None

    @property
    def routed(self) -> bool:
        return self.action == "route"


def recognised(candidate: Candidate, now: datetime, window: timedelta = WINDOW) -> bool:
    """Whether `candidate`'s campaign may still answer for its callee at `now`."""
    if candidate.last_called_at < now - window:
        return False
    if candidate.campaign_status in LIVE_STATUSES:
        return True
    if candidate.campaign_status in ENDED_STATUSES:
        ended = candidate.campaign_ended_at
        return ended is not None and ended >= now - window
    return False


def match(candidates: Iterable[Candidate], now: datetime, window: timedelta = WINDOW) -> Candidate | None:
    """The recognised candidate that called last (ties: the greatest campaign id, then customer
    id, so the answer never depends on the order the candidates came in); None for an unknown
    caller. A campaign has one customer per number, so (campaign, customer) names one candidate."""
    found = [c for c in candidates if recognised(c, now, window)]
    return max(found, key=lambda c: (c.last_called_at, c.campaign_id, c.customer_id), default=None)


def decide(candidate: Candidate | None, *, do_not_call: bool) -> Answer:
    """What to do with the call of a caller matched to `candidate` (None: unknown caller)."""
    if candidate is None:
        return Answer("reject", UNKNOWN_CALLER, UNKNOWN_MESSAGE)
    message = candidate.message.strip()
    if candidate.mode != "route":
        return Answer("reject", REJECTED, message, candidate)
    if do_not_call and not candidate.route_do_not_call:
        return Answer("reject", DO_NOT_CALL, message, candidate)
    return Answer("route", ROUTED, "", candidate)


def context(name: str, variables: Mapping[str, Any] | None, last_outcome: str) -> dict[str, str]:
    """What the agent is told of the caller: the customer's variables, then `customerName`,
    `lastOutcome` and `direction` (ours win over a variable of the same name), all as text."""
    values: dict[str, str] = {str(k)[:64]: _text(v) for k, v in (variables or {}).items()}
    values |= {"customerName": name, "lastOutcome": last_outcome, "direction": "inbound"}
    return {k: v[:CONTEXT_VALUE_LENGTH] for k, v in values.items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def settings_problems(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Problems of the inbound settings (model field names), as (field, why)."""
    problems = []
    if values.get("inbound_mode", DEFAULT_MODE) not in MODES:
        problems.append(("inbound_mode", f"must be one of {', '.join(MODES)}"))
    message = values.get("inbound_rejection_message", "")
    if not isinstance(message, str) or len(message) > MESSAGE_LENGTH:
        problems.append(("inbound_rejection_message", f"must be text of at most {MESSAGE_LENGTH} characters"))
    if not isinstance(values.get("inbound_route_do_not_call", False), bool):
        problems.append(("inbound_route_do_not_call", "must be a boolean value"))
    return problems
