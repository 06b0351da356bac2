"""Callbacks from callees: an inbound call, answered while the provider waits (rules.inbound).

`inbound_call_receive` recognises the caller (selectors.inbound), decides (rules.inbound) and,
when the caller is a customer of a campaign, stores the call as that customer's: a Call with
direction inbound, numbered among the customer's inbound calls, never an attempt and never in
the campaign's counters (services.calls records its later events apart). A rejected call is
stored ended at once, with why; a routed one live, until its provider reports its end. An
unknown caller is answered with the organization's default (rejected) and stores nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Max

from campaigns import clock, phone
from campaigns.models import (
    Call,
    CallDirection,
    CallLogKind,
    CallStatus,
    Campaign,
    Customer,
    PhoneNumber,
    ProviderAccount,
)
from campaigns.rules import inbound as rules
from campaigns.selectors.inbound import caller_id_for, inbound_candidates, is_do_not_call
from campaigns.services.calls import call_log
from campaigns.services.tx import lock_campaigns, retry_on_conflict

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InboundResult:
    """The answer for the provider: `answer` (rules.inbound.Answer), the stored `call` (None for
    an unknown caller), the campaign's agent (`target`: ("assistantId", "asst_…")) and the
    context the agent is given when the call is routed."""

    answer: rules.Answer
    call: Call | None = None
    target: tuple[str, str] | None = None
    context: dict[str, str] = field(default_factory=dict)


def _canonical(number: str) -> str:
    try:
        return phone.to_e164(number or "")
    except phone.InvalidNumber:
        return ""


@retry_on_conflict
def inbound_call_receive(
    *,
    account: ProviderAccount,
    caller: str,
    called: str,
    called_id: str = "",
    provider_call_id: str = "",
    raw: str = "",
    now: datetime | None = None,
) -> InboundResult:
    """Recognise the caller of an inbound call to `called` (or the number with the provider's id
    `called_id`) on `account`, decide and store it.

    Steps: 1. canonical numbers and the called caller ID (not ours: unknown caller); 2. a call
    the provider asks about again (same provider call id) gets the answer it got; 3. the
    candidates, the match and the decision; 4. the call stored, in the house lock order
    (campaign, customer, calls). Never raises for what the caller sends.
    """
    now = now or clock.now()
    org_id = account.organization_id
    caller_e164, called_e164 = _canonical(caller), _canonical(called)  # 1.
    caller_id = caller_id_for(
        organization_id=org_id, account_id=account.pk, number=called_e164, provider_id=called_id
    )
    if not caller_e164 or caller_id is None:
        return InboundResult(rules.decide(None, do_not_call=False))
    if provider_call_id and (known := _known(account, provider_call_id)) is not None:  # 2.
        return known
    candidates = inbound_candidates(
        organization_id=org_id, caller=caller_e164, called=caller_id.number, now=now
    )
    candidate = rules.match(candidates, now)  # 3.
    answer = rules.decide(candidate, do_not_call=is_do_not_call(organization_id=org_id, number=caller_e164))
    if candidate is None:
        log.info("inbound call from an unknown caller to caller ID %s", caller_id.pk)
        return InboundResult(answer)
    lock_campaigns([candidate.campaign_id], "no_key_update")  # 4.
    campaign = Campaign.objects.get(pk=candidate.campaign_id)
    customer = Customer.objects.select_for_update().get(pk=candidate.customer_id)
    call = _store(account, campaign, customer, caller_id, answer, provider_call_id, now)
    call_log(call, CallLogKind.WEBHOOK, f"inbound call from the customer: {answer.reason}", body=raw)
    return _result(answer, call, campaign, customer)


def _store(
    account: ProviderAccount,
    campaign: Campaign,
    customer: Customer,
    caller_id: PhoneNumber,
    answer: rules.Answer,
    provider_call_id: str,
    now: datetime,
) -> Call:
    """The inbound call, numbered after the customer's earlier inbound calls (its row is locked)."""
    earlier = Call.objects.filter(customer=customer, direction=CallDirection.INBOUND).aggregate(
        n=Max("attempt")
    )
    ended = not answer.routed
    try:
        with transaction.atomic():
            return Call.objects.create(
                organization_id=campaign.organization_id,
                campaign=campaign,
                customer=customer,
                phone_number=caller_id,
                provider_account=account,
                direction=CallDirection.INBOUND,
                attempt=(earlier["n"] or 0) + 1,
                status=CallStatus.ENDED if ended else CallStatus.RINGING,
                ended_reason=answer.reason if ended else "",
                provider_call_id=provider_call_id[:100],
                placed_at=now,
                started_at=now,
                ended_at=now if ended else None,
                duration_seconds=0.0 if ended else None,
            )
    except IntegrityError:
        # The same provider call id, stored by a concurrent request for the same call.
        return Call.objects.get(provider_account=account, provider_call_id=provider_call_id[:100])


def _known(account: ProviderAccount, provider_call_id: str) -> InboundResult | None:
    call = (
        Call.objects.filter(provider_account=account, provider_call_id=provider_call_id[:100])
        .select_related("campaign", "customer")
        .first()
    )
    if call is None or call.direction != CallDirection.INBOUND:
        return None
    campaign, customer = call.campaign, call.customer
    if call.ended_reason in (rules.REJECTED, rules.DO_NOT_CALL):
        return InboundResult(
            rules.Answer("reject", call.ended_reason, campaign.inbound_rejection_message), call
        )
    return _result(rules.Answer("route", rules.ROUTED, ""), call, campaign, customer)


def _result(answer: rules.Answer, call: Call, campaign: Campaign, customer: Customer) -> InboundResult:
    if not answer.routed:
        return InboundResult(answer, call)
    variables = (customer.assistant_overrides or {}).get("variableValues")
    context = rules.context(
        customer.name, variables if isinstance(variables, dict) else {}, customer.last_outcome
    )
    context |= {"callId": str(call.pk), "campaignId": str(campaign.pk), "customerId": str(customer.pk)}
    return InboundResult(answer, call, campaign.target, context)
