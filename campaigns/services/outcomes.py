"""What an ended call does to its customer: the decision of the campaign's outcome rules
(rules.outcomes.after_outcome) applied to the customer row, the structured result kept on the
customer, and an opt-out added to the organization's do-not-call list.

Runs inside services.calls.record_call_event's transaction, which holds the campaign row, the
customer and the call; the caller saves the customer and moves the counters.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from campaigns.models import Call, Customer, CustomerState, DoNotCall, DoNotCallSource
from campaigns.rules.outcomes import CallFacts, after_outcome
from campaigns.rules.policy import campaign_policy, outcome_plan
from campaigns.rules.reasons import Reason
from campaigns.services.audit import audit_record
from campaigns.services.directory import skip_pending

# What outcome_apply changes on a customer (with last_outcome, set by the caller).
CUSTOMER_OUTCOME_FIELDS = [
    "state",
    "reason",
    "reason_detail",
    "last_outcome",
    "next_attempt_at",
    "connected_at",
    "analysis",
    "objective_met",
    "callback_at",
    "callbacks",
    "updated_at",
]


def outcome_apply(
    call: Call, customer: Customer, now: datetime, *, before_opt_out: Callable[[], None] | None = None
) -> dict[str, int]:
    """Set the customer's state, reason, next attempt and callback from the rules' decision on
    `call` (ended), and keep its structured result; an opt-out goes on the do-not-call list with
    the call as its source, and the number's pending customers in every campaign are skipped.
    Returns the moves of the analysis counters (the caller adds the state's).

    `before_opt_out` runs first when the number opts out: a caller that defers its customer
    writes (a batch of events) writes them there, so the skip reads every customer as decided
    (a retry decided earlier in the batch and written after would undo the skip)."""
    campaign = call.campaign
    valid = call.structured_data_valid is True
    # A decision made again (services.calls.outcome_amend) does not count its own callback.
    granted = customer.callbacks - int(customer.callback_at is not None and customer.attempts == call.attempt)
    facts = CallFacts(
        duration_seconds=call.duration_seconds,
        analysis=call.structured_data if valid else None,
        objective_met=call.objective_met if valid else None,
        callbacks=granted,
        time_zones=customer.zone_list,
    )
    outcome = after_outcome(
        ended_reason=call.ended_reason,
        attempts=customer.attempts,
        policy=campaign_policy(campaign),
        now=now,
        facts=facts,
        plan=outcome_plan(campaign),
    )
    state, reason, detail = outcome.state, outcome.reason or "", outcome.detail
    if state == CustomerState.PENDING and campaign.has_ended:
        state, reason, detail = CustomerState.CANCELLED, Reason.CANCELLED, "the campaign ended before a retry"
    elif state == CustomerState.PENDING and not detail:
        detail = f"retry after {call.ended_reason}"
    customer.state, customer.reason, customer.reason_detail = state, reason, detail[:200]
    customer.next_attempt_at = outcome.next_attempt_at or now
    customer.callbacks = facts.callbacks + int(outcome.callback and state == CustomerState.PENDING)
    customer.callback_at = outcome.next_attempt_at if customer.callbacks > facts.callbacks else None
    deltas = _keep_result(customer, call, valid) if call.structured_data_valid is not None else {}
    if outcome.add_to_do_not_call and customer.number:
        if before_opt_out is not None:
            before_opt_out()
        _opt_out(call, customer.number, detail or "opted out on a call")
    return deltas


def _keep_result(customer: Customer, call: Call, valid: bool) -> dict[str, int]:
    """The customer's latest valid result (an invalid one leaves the last valid one in place)."""
    if not valid:
        return {}
    before = (customer.analysis is not None, customer.objective_met is True)
    customer.analysis, customer.objective_met = call.structured_data, call.objective_met
    return {
        "customers_analysed": 1 - int(before[0]),
        "customers_objective_met": int(call.objective_met is True) - int(before[1]),
    }


def _opt_out(call: Call, number: str, why: str) -> None:
    """The number joins the organization's do-not-call list now (the last gate reads it before
    every call), with this call as its source, and its pending customers in every other campaign
    are skipped in this transaction (directory.skip_pending: campaign rows in the house order,
    those before the last one the recording holds without waiting)."""
    campaign = call.campaign
    entry, created = DoNotCall.objects.get_or_create(
        organization_id=campaign.organization_id,
        number=number,
        defaults={"source": DoNotCallSource.OPT_OUT, "note": why[:200], "call": call},
    )
    if not created:
        return
    skip_pending(campaign.organization, [number])
    audit_record(
        organization=campaign.organization,
        by=None,
        action="dnc.opt_out",
        target=entry,
        after={"number": number, "call": str(call.pk), "campaign": str(campaign.pk), "why": why[:200]},
    )
