"""What a call's outcome means: its class (answered, busy, voicemail, ...) and the customer's
next state. Pure, like the engine: plain values in and out, `now` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.rules.engine import ENDED, CampaignPolicy, aware_utc
from campaigns.rules.reasons import Reason


class OutcomeClass(StrEnum):
    ANSWERED = "answered"
    VOICEMAIL = "voicemail"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    OPT_OUT = "opt_out"
    CANCELLED = "cancelled"


# From the grouping in spec/fixtures/provider/call-ended-reasons.json (Vapi's
# 595 endedReason values). Exact values first, then prefixes; the rest
# (pipeline-error-*, call.start.error-*, *-failed-to-connect, provider and
# configuration faults, misdials) is FAILED, and so is anything unknown.
_OUTCOME_BY_REASON = {
    "voicemail": OutcomeClass.VOICEMAIL,
    "customer-busy": OutcomeClass.BUSY,
    "customer-did-not-answer": OutcomeClass.NO_ANSWER,
    "call.in-progress.error-providerfault-outbound-sip-408-request-timeout": OutcomeClass.NO_ANSWER,
    "call.in-progress.error-providerfault-outbound-sip-480-temporarily-unavailable": OutcomeClass.NO_ANSWER,
    "customer-ended-call": OutcomeClass.ANSWERED,
    "assistant-ended-call": OutcomeClass.ANSWERED,
    "assistant-said-end-call-phrase": OutcomeClass.ANSWERED,
    "assistant-ended-call-with-hangup-task": OutcomeClass.ANSWERED,
    "assistant-ended-call-after-message-spoken": OutcomeClass.ANSWERED,
    "assistant-forwarded-call": OutcomeClass.ANSWERED,
    "exceeded-max-duration": OutcomeClass.ANSWERED,
    "silence-timed-out": OutcomeClass.ANSWERED,
    "call.in-progress.twilio-completed-call": OutcomeClass.ANSWERED,
    "call.in-progress.sip-completed-call": OutcomeClass.ANSWERED,
    "vonage-completed": OutcomeClass.ANSWERED,
    "manually-canceled": OutcomeClass.CANCELLED,
    "scheduled-call-deleted": OutcomeClass.CANCELLED,
    "call-deleted": OutcomeClass.CANCELLED,
    "customer-opted-out": OutcomeClass.OPT_OUT,  # ours: the simulated provider's opt-out
}
_OUTCOME_BY_PREFIX = (
    # ...-before-warm-transfer, -during-transfer, -after-warm-transfer-attempt:
    # the person was on the line with the assistant.
    ("customer-ended-call-", OutcomeClass.ANSWERED),
    # call.forwarding.operator-busy / .no-answer: the assistant had the customer
    # and the operator it forwarded to did not pick up.
    ("call.forwarding.", OutcomeClass.ANSWERED),
    # A call.ending hook runs while a connected call is ending.
    ("call.ending.hook-executed-", OutcomeClass.ANSWERED),
)


def classify(ended_reason: str) -> OutcomeClass:
    """The outcome class of a provider endedReason; FAILED for anything unknown."""
    reason = ended_reason.strip()
    if reason in _OUTCOME_BY_REASON:
        return _OUTCOME_BY_REASON[reason]
    for prefix, outcome in _OUTCOME_BY_PREFIX:
        if reason.startswith(prefix):
            return outcome
    return OutcomeClass.FAILED


@dataclass(frozen=True)
class Outcome:
    state: str  # "completed" | "voicemail" | "failed" | "pending" | "skipped" | "cancelled"
    next_attempt_at: datetime | None
    reason: Reason | None
    add_to_do_not_call: bool = False


def after_outcome(*, ended_reason: str, attempts: int, policy: CampaignPolicy, now: datetime) -> Outcome:
    """The customer's next state once a call has ended.

    `attempts` counts the call that just ended. Busy, no answer, failures and
    provider cancellations retry after their delay until max_attempts; so does
    voicemail when retry_voicemail. Nothing retries once the campaign has ended:
    the customer is cancelled instead.
    """
    now = aware_utc(now, "now")
    if attempts < 1:
        raise ValueError("attempts must count the call that just ended")
    outcome = classify(ended_reason)
    if outcome is OutcomeClass.ANSWERED:
        return Outcome("completed", None, None)
    if outcome is OutcomeClass.OPT_OUT:
        return Outcome("skipped", None, Reason.DO_NOT_CALL, add_to_do_not_call=True)
    if outcome is OutcomeClass.VOICEMAIL and not policy.retry_voicemail:
        return Outcome("voicemail", None, None)
    if policy.status == ENDED:
        return Outcome("cancelled", None, Reason.CANCELLED)
    if attempts >= policy.max_attempts:
        final = "voicemail" if outcome is OutcomeClass.VOICEMAIL else "failed"
        return Outcome(final, None, Reason.MAX_ATTEMPTS)
    delays = policy.retry_delays
    delay = {
        OutcomeClass.VOICEMAIL: delays.voicemail,
        OutcomeClass.BUSY: delays.busy,
        OutcomeClass.NO_ANSWER: delays.no_answer,
    }.get(outcome, delays.failed)
    return Outcome("pending", now + timedelta(seconds=delay), Reason.RETRY_DELAY)


# The campaign's stored counter of ended calls each outcome class is counted in (calls_ended
# counts them all; voicemail has Vapi's own counter). A person who opted out had answered; a
# cancelled call is one the dialer or provider gave up on.
OUTCOME_COUNTERS = {
    OutcomeClass.ANSWERED: "calls_ended_answered",
    OutcomeClass.OPT_OUT: "calls_ended_answered",
    OutcomeClass.VOICEMAIL: "calls_ended_voicemail",
    OutcomeClass.NO_ANSWER: "calls_ended_no_answer",
    OutcomeClass.BUSY: "calls_ended_busy",
    OutcomeClass.FAILED: "calls_ended_failed",
    OutcomeClass.CANCELLED: "calls_ended_failed",
}


def outcome_counter(ended_reason: str) -> str:
    """The counter column an ended call with `ended_reason` moves (OUTCOME_COUNTERS)."""
    return OUTCOME_COUNTERS[classify(ended_reason)]
