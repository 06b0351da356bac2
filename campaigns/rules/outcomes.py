"""What a call's outcome means: its class (answered, busy, voicemail, ...) and the customer's
next state, decided by the campaign's outcome rules (rules.outcome_plan) and, after them, the
default rules, which are today's retry-by-outcome. Pure, like the engine: plain values in and
out, `now` passed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from campaigns.rules.analysis import MISSING, lookup
from campaigns.rules.engine import ENDED, CampaignPolicy, aware_utc, next_lawful
from campaigns.rules.outcome_plan import CALLBACK_HORIZON_DAYS, OPT_OUT_FIELD, OutcomePlan, OutcomeRule, When
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
    callback: bool = False  # a callback the callee asked for: an attempt outside the retry budget
    detail: str = ""  # why, for people ("rule 2: objective met", "hung up within 5 s")


@dataclass(frozen=True)
class CallFacts:
    """What is known of the call that just ended, beyond its endedReason."""

    duration_seconds: float | None = None  # from the answer to the end
    analysis: Mapping[str, Any] | None = None  # the structured result, only if it is valid
    objective_met: bool | None = None
    callbacks: int = 0  # callbacks this customer already had
    time_zones: tuple[str, ...] = ()  # the callee's zones (a callback without an offset is theirs)


def default_rules(policy: CampaignPolicy, plan: OutcomePlan | None = None) -> tuple[OutcomeRule, ...]:
    """The rules every campaign ends with: a callback the structured result asked for
    (plan.callback_field), then today's retry-by-outcome, unchanged."""
    delays, plan = policy.retry_delays, plan or OutcomePlan()
    return (
        OutcomeRule(When(field=plan.callback_field, present=True), "callback"),
        OutcomeRule(When(outcome=OutcomeClass.ANSWERED), "completed"),
        OutcomeRule(When(outcome=OutcomeClass.OPT_OUT), "do-not-call"),
        OutcomeRule(
            When(outcome=OutcomeClass.VOICEMAIL),
            "retry" if policy.retry_voicemail else "completed",
            delays.voicemail if policy.retry_voicemail else None,
        ),
        OutcomeRule(When(outcome=OutcomeClass.BUSY), "retry", delays.busy),
        OutcomeRule(When(outcome=OutcomeClass.NO_ANSWER), "retry", delays.no_answer),
        OutcomeRule(When(), "retry", delays.failed),
    )


def matches(when: When, ended_reason: str, facts: CallFacts) -> bool:
    """Whether every condition of `when` holds for this call (no conditions: any call)."""
    if when.outcome is not None and classify(ended_reason) != when.outcome:
        return False
    if when.ended_reason is not None and ended_reason.strip() != when.ended_reason:
        return False
    if when.objective_met is not None and facts.objective_met is not when.objective_met:
        return False
    if when.field is not None:
        value = lookup(facts.analysis, when.field)
        if when.present is not None and (value is not MISSING and value is not None) != when.present:
            return False
        if when.equals is not MISSING and (value is MISSING or not same_json(value, when.equals)):
            return False
    return True


def same_json(a: object, b: object) -> bool:
    """JSON equality: true is not 1, 1 is 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def after_outcome(
    *,
    ended_reason: str,
    attempts: int,
    policy: CampaignPolicy,
    now: datetime,
    facts: CallFacts | None = None,
    plan: OutcomePlan | None = None,
) -> Outcome:
    """The customer's next state once a call has ended.

    `attempts` counts the call that just ended. First an opt-out: a hang-up counted as one
    (plan.hang_up_is_opt_out) or a structured result whose OPT_OUT_FIELD is true; then the
    first of the campaign's rules that matches, then the
    default rules (default_rules: busy, no answer, failures and provider cancellations retry
    after their delay until max_attempts; so does voicemail when retry_voicemail). A callback
    rule that cannot be honoured (no time asked, its cap reached, no lawful time) is passed over.
    Nothing retries once the campaign has ended: the customer is cancelled instead.
    """
    now = aware_utc(now, "now")
    if attempts < 1:
        raise ValueError("attempts must count the call that just ended")
    facts, plan = facts or CallFacts(), plan or OutcomePlan()
    if (
        plan.hang_up_is_opt_out
        and ended_reason.strip() == "customer-ended-call"
        and facts.duration_seconds is not None
        and facts.duration_seconds <= plan.hang_up_seconds
    ):
        return Outcome(
            "skipped",
            None,
            Reason.DO_NOT_CALL,
            add_to_do_not_call=True,
            detail=f"hung up within {plan.hang_up_seconds} s: counted as an opt-out",
        )
    if lookup(facts.analysis, OPT_OUT_FIELD) is True:
        return Outcome("skipped", None, Reason.DO_NOT_CALL, add_to_do_not_call=True, detail="opted out")
    ours = len(plan.rules)
    for index, rule in enumerate((*plan.rules, *default_rules(policy, plan))):
        if not matches(rule.when, ended_reason, facts):
            continue
        label = f"rule {index + 1}" if index < ours else ""
        decided = _apply(rule, ended_reason, attempts, policy, now, facts, plan, label)
        if decided is not None:
            return decided
    raise AssertionError("the default rules end with one that matches every call")


def _apply(
    rule: OutcomeRule,
    ended_reason: str,
    attempts: int,
    policy: CampaignPolicy,
    now: datetime,
    facts: CallFacts,
    plan: OutcomePlan,
    label: str,
) -> Outcome | None:
    outcome = classify(ended_reason)
    said = f"{label}: " if label else ""
    if rule.then == "completed":
        state = "voicemail" if outcome is OutcomeClass.VOICEMAIL else "completed"
        return Outcome(state, None, None, detail=f"{said}{state}" if label else "")
    if rule.then == "do-not-call":
        detail = f"{said}opted out"
        return Outcome("skipped", None, Reason.DO_NOT_CALL, add_to_do_not_call=True, detail=detail)
    if rule.then == "callback":
        return _callback(policy, now, facts, plan, said)
    if policy.status == ENDED:
        return Outcome("cancelled", None, Reason.CANCELLED)
    limit = min(rule.max_attempts or policy.max_attempts, policy.max_attempts) + facts.callbacks
    if attempts >= limit:
        final = "voicemail" if outcome is OutcomeClass.VOICEMAIL else "failed"
        return Outcome(final, None, Reason.MAX_ATTEMPTS, detail=f"{said}no attempts left" if label else "")
    delay = rule.retry_in_seconds
    if delay is None:
        delays = policy.retry_delays
        delay = {
            OutcomeClass.VOICEMAIL: delays.voicemail,
            OutcomeClass.BUSY: delays.busy,
            OutcomeClass.NO_ANSWER: delays.no_answer,
        }.get(outcome, delays.failed)
    detail = f"{said}retry in {delay} s" if label else ""
    return Outcome("pending", now + timedelta(seconds=delay), Reason.RETRY_DELAY, detail=detail)


def _callback(
    policy: CampaignPolicy, now: datetime, facts: CallFacts, plan: OutcomePlan, said: str
) -> Outcome | None:
    """An attempt at the time the callee asked for, moved to the next lawful moment; None when
    there is nothing to honour (no time asked, the cap reached, no lawful time soon enough)."""
    if facts.callbacks >= plan.max_callbacks:
        return None
    asked = callback_time(lookup(facts.analysis, plan.callback_field), facts.time_zones, policy.time_zone)
    if asked is None or asked > now + timedelta(days=CALLBACK_HORIZON_DAYS):
        return None
    if policy.status == ENDED:
        return Outcome("cancelled", None, Reason.CANCELLED)
    at = next_lawful(policy, facts.time_zones, max(asked, now))
    if at is None:
        return None
    moved = "" if at == max(asked, now) else f" (asked {asked:%Y-%m-%d %H:%M} UTC; moved to lawful hours)"
    return Outcome("pending", at, Reason.CALLBACK, callback=True, detail=f"{said}callback{moved}"[:200])


def callback_time(value: Any, zones: tuple[str, ...], fallback_zone: str) -> datetime | None:
    """A requested callback time as a UTC instant: ISO 8601 text, with an offset, or without one
    (then in the callee's own zone, their first if several, else `fallback_zone`); None if the
    value is not such a time."""
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        asked = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if asked.tzinfo is None:
        asked = asked.replace(tzinfo=ZoneInfo(zones[0] if zones else fallback_zone))
    try:
        return aware_utc(asked)
    except (OverflowError, ValueError):
        return None


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


def reasons_of(outcome: OutcomeClass) -> tuple[frozenset[str], tuple[str, ...]]:
    """The endedReasons `classify` puts in `outcome`: exact values and prefixes. FAILED is every
    ended call in no other class (anything unknown is FAILED), so it has no list of its own: ask
    for the others and exclude them."""
    exact = frozenset(reason for reason, found in _OUTCOME_BY_REASON.items() if found is outcome)
    prefixes = tuple(prefix for prefix, found in _OUTCOME_BY_PREFIX if found is outcome)
    return exact, prefixes
