"""Call outcomes. `record_call_event` is the only writer of what happened on a call.

Steps of recording one event (numbered because order matters):
1. find the call (our id from the callback's metadata, else the provider's id) and lock, in the
   house order (campaigns.services.tx), its campaign row, then its customer when the call may
   end, then the call itself;
2. drop a redelivered event: (call, kind, status) is stored once in the call's log;
3. drop a stale one: a status never moves back (ringing after in-progress is ignored),
   though an end-of-call report still enriches an ended call;
4. move the call, the campaign's counters and, when it ended, the customer, together;
5. when the call ended with a provider failure, decide whether the campaign pauses itself
   (services.autopause), in the same UPDATE of the campaign row.

A provider's timestamps are taken only within SANE_WINDOW of now: a hostile or broken
`startedAt` (year 9999, say) is dropped, never stored (it would break every later read).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import F, Q

from campaigns import clock
from campaigns.models import (
    STATUS_COUNTER,
    STATUS_RANK,
    Call,
    CallLog,
    CallLogKind,
    CallStatus,
    Campaign,
    Customer,
    CustomerState,
    ProviderAccount,
)
from campaigns.rules import contacts, engine, usage
from campaigns.rules.analysis import OBJECTIVE_FIELD, check_result
from campaigns.rules.engine import Decision
from campaigns.rules.outcomes import OutcomeClass, classify, outcome_counter
from campaigns.rules.reasons import Reason
from campaigns.services.autopause import auto_pause_report, auto_pause_values
from campaigns.services.events import event_emit, events_emit
from campaigns.services.inputs import CallEvent
from campaigns.services.outcomes import CUSTOMER_OUTCOME_FIELDS, outcome_apply
from campaigns.services.tx import lock_campaigns

log = logging.getLogger(__name__)

# Provider timestamps further than this from now are dropped (see the module docstring).
SANE_WINDOW = timedelta(days=1)

FINAL = {
    CustomerState.COMPLETED,
    CustomerState.VOICEMAIL,
    CustomerState.FAILED,
    CustomerState.SKIPPED,
    CustomerState.CANCELLED,
}


def move_counters(campaign_id: object, *, set_values: dict[str, Any] | None = None, **deltas: int) -> None:
    """Add `deltas` to a campaign's counters in the caller's transaction (and set `set_values`
    in the same UPDATE: see record_call_event for why one)."""
    changes = {field: F(field) + delta for field, delta in deltas.items() if delta} | (set_values or {})
    if changes:
        Campaign.objects.filter(pk=campaign_id).update(**changes)


def call_log(
    call: Call,
    kind: str,
    summary: str,
    *,
    http_status: int | None = None,
    body: str | bytes = "",
    dedupe_key: str | None = None,
) -> CallLog:
    return CallLog.objects.create(
        call=call,
        kind=kind,
        summary=summary[:200],
        http_status=http_status,
        body=CallLog.truncate(body),
        dedupe_key=dedupe_key,
    )


def _log_once(call: Call, kind: str, summary: str, body: str, dedupe_key: str) -> bool:
    """Record the event on the call's log unless that (call, key) is there already; True if it was new.

    One statement (INSERT ... ON CONFLICT DO NOTHING RETURNING) rather than a look and an insert:
    the webhook path runs it for every event.
    """
    table = CallLog._meta.db_table
    values = [
        CallLog._meta.get_field("call").get_db_prep_value(call.pk, connection),
        kind,
        dedupe_key,
        summary[:200],
        CallLog.truncate(body),
        connection.ops.adapt_datetimefield_value(clock.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (call_id, kind, dedupe_key, summary, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (call_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
            values,
        )
        return cursor.fetchone() is not None


def _our_id(event: CallEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(event.call_id) if event.call_id else None
    except (ValueError, TypeError, AttributeError):  # a malformed id in metadata is simply not ours
        return None


def _locked_campaign(account: ProviderAccount, event: CallEvent) -> Campaign | None:
    """Step 1's first lock: the campaign of the call the event names (NO KEY UPDATE), annotated
    with the call's id and customer; None when the event names no call of this account."""

    def find(**call: object) -> Campaign | None:
        # filter() before annotate(): the annotation then reads the one call the filter joined.
        lookup = {f"calls__{key}": value for key, value in call.items()}
        return (
            Campaign.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organization")
            .filter(calls__provider_account=account, **lookup)
            .annotate(call_pk=F("calls__pk"), call_customer=F("calls__customer_id"))
            .first()
        )

    found = None
    if (ours := _our_id(event)) is not None:
        found = find(pk=ours)
    if found is None and event.provider_call_id:
        found = find(provider_call_id=event.provider_call_id)
    return found


def lock_campaigns_of_events(events: list[tuple[ProviderAccount, CallEvent]]) -> None:
    """Lock, in id order, the campaigns of the calls `events` name (a batch about to be recorded
    in one transaction), so two batches never take the same campaigns in opposite orders."""
    ours = [i for _, event in events if (i := _our_id(event)) is not None]
    by_account: dict[object, set[str]] = {}
    for account, event in events:
        if event.provider_call_id:
            by_account.setdefault(account.pk, set()).add(event.provider_call_id)
    found = Q(pk__in=ours)
    for account_id, provider_ids in by_account.items():  # one term per account, not per event
        found |= Q(provider_account_id=account_id, provider_call_id__in=provider_ids)
    lock_campaigns(set(Call.objects.filter(found).values_list("campaign_id", flat=True)), "no_key_update")


_TEXT_FIELDS = ("call_id", "provider_call_id", "ended_reason", "summary", "transcript", "recording_url")
_TEXT_FIELDS += ("stereo_recording_url", "raw")


def _sane(event: CallEvent, now: datetime) -> CallEvent:
    """The event without timestamps further than SANE_WINDOW from `now` (or naive ones), and
    without NUL characters (PostgreSQL's text and jsonb cannot hold them) in what it says."""
    dropped: dict = {}
    for field in _TEXT_FIELDS:
        value = getattr(event, field)
        if "\x00" in value:
            dropped[field] = value.replace("\x00", "")
    for name in ("analysis", "structured_data"):
        if getattr(event, name) is None:
            continue
        try:
            text = orjson.dumps(getattr(event, name))
        except TypeError:  # not JSON we could store (an integer beyond 64 bits, say)
            text = b"null"
        if b"\\u0000" in text or text == b"null":
            dropped[name] = orjson.loads(text.replace(b"\\u0000", b""))
    for field in ("at", "started_at", "ended_at"):
        value = getattr(event, field)
        if value is None:
            continue
        try:
            sane = abs(value - now) <= SANE_WINDOW
        except (OverflowError, TypeError):  # beyond datetime's range in UTC, or naive
            sane = False
        if not sane:
            dropped[field] = None
            log.warning("dropped a provider timestamp out of range: %s", field)
    return replace(event, **dropped) if dropped else event


# No savepoint of its own: inside a caller's transaction (a batch of webhook events) a failure
# fails the whole batch, which the caller then retries event by event; see dialer/webhooks.py.
@transaction.atomic(savepoint=False)
def record_call_event(
    *, account: ProviderAccount, event: CallEvent, now: datetime | None = None
) -> Call | None:
    """Apply one provider event. Idempotent and order-tolerant.

    Returns the call, or None when the event names no call of this account
    (the webhook still answers 2xx so the provider stops retrying).
    """
    now = now or clock.now()
    event = _sane(event, now)
    campaign = _locked_campaign(account, event)  # 1.
    if campaign is None:
        log.info("ignored %s for unknown call (provider id %s)", event.kind, event.provider_call_id or "-")
        return None
    customer = None
    if event.status == CallStatus.ENDED:
        customer = Customer.objects.select_for_update().get(pk=campaign.call_customer)
    call = Call.objects.select_for_update().get(pk=campaign.call_pk)
    call.campaign = campaign
    kind = CallLogKind.NOTE if event.kind == "dialer" else CallLogKind.WEBHOOK
    summary = f"{event.kind} {event.status} {event.ended_reason}".strip()
    if not _log_once(call, kind, summary, event.raw, event.dedupe_key):  # 2.
        return call
    if event.provider_call_id and not call.provider_call_id:
        call.provider_call_id = event.provider_call_id  # the webhook beat our own bookkeeping
    spent = (_money(call), call.duration_seconds or 0.0)
    _enrich(call, event)
    deltas: dict[str, Any] = {}
    ended_now = event.status == CallStatus.ENDED and call.status != CallStatus.ENDED
    if STATUS_RANK.get(event.status, -1) <= STATUS_RANK[call.status]:  # 3.
        call.save()
        if customer is not None and event.structured_data is not None and call.status == CallStatus.ENDED:
            # The report came after the end: its result may change what the end decided.
            deltas = outcome_amend(call, customer, now)
    else:
        deltas = _advance(call, customer, event, now)  # 4.
    # The campaign's cost and talk time (what its lists sort by) follow each call's, as reports add them.
    deltas["calls_cost"] = _money(call) - spent[0]
    deltas["calls_duration_seconds"] = (call.duration_seconds or 0.0) - spent[1]
    # 5. A provider failure may pause the campaign (rules.autopause), in the same UPDATE.
    paused = auto_pause_values(campaign, call, now) if ended_now else None
    move_counters(call.campaign_id, set_values=paused, **deltas)
    if paused:
        auto_pause_report(campaign, paused["auto_paused_reason"], now)
    return call


def _money(call: Call) -> Decimal | int:
    """The call's cost as the campaign's stored sum counts it: money only (rules.usage.is_money);
    a provider's own unit (ElevenLabs' credits) is kept on the call and summed per unit."""
    return call.cost if call.cost is not None and usage.is_money(call.cost_unit) else 0


def _enrich(call: Call, event: CallEvent) -> None:
    """Copy what the end-of-call report (or any event) adds, without moving the status."""
    for field in ("summary", "transcript", "recording_url", "stereo_recording_url", "analysis"):
        value = getattr(event, field)
        if value not in ("", None):
            setattr(call, field, value)
    if event.cost is not None:  # an amount and its unit travel together
        call.cost, call.cost_unit = event.cost, event.cost_unit
    if event.started_at and not call.started_at:
        call.started_at = event.started_at
    if event.structured_data is not None:
        campaign = call.campaign
        checked = check_result(
            event.structured_data,
            campaign.analysis_schema,
            objective_field=campaign.objective_field or OBJECTIVE_FIELD,
        )
        call.structured_data, call.structured_data_valid = checked.data, checked.valid
        call.structured_data_error, call.objective_met = checked.error, checked.objective_met
    if event.kind == "end-of-call-report":
        call.report_received = True
        if event.ended_at:
            call.ended_at = event.ended_at
    if call.started_at and call.ended_at:
        call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())


def _advance(call: Call, customer: Customer | None, event: CallEvent, now: datetime) -> dict[str, int]:
    """Move the call to the event's status; returns the counter moves for the caller's one update."""
    old, new = call.status, event.status
    deltas = {STATUS_COUNTER[old]: -1}
    call.status = new
    if new == CallStatus.IN_PROGRESS and not call.started_at:
        call.started_at = event.at or now
    if new == CallStatus.ENDED:
        call.ended_reason = event.ended_reason or "unknown-error"
        call.ended_at = call.ended_at or event.ended_at or event.at or now
        if call.started_at:
            call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())
        deltas["calls_ended"] = 1
        deltas["calls_ended_voicemail"] = int(call.ended_reason == "voicemail")
        if (counter := outcome_counter(call.ended_reason)) != "calls_ended_voicemail":
            deltas[counter] = 1
    else:
        deltas[STATUS_COUNTER[new]] = deltas.get(STATUS_COUNTER[new], 0) + 1
    if old == CallStatus.QUEUED and (event.kind != "dialer" or call.provider_call_id):
        # The provider has the call (it reports on it, or gave it an id): Vapi's "dialed". Counted
        # once per customer, whatever the attempt.
        deltas["customers_dialed"] = Customer.objects.filter(
            pk=call.customer_id, dialed_at__isnull=True
        ).update(dialed_at=call.placed_at or now)
        if customer is not None and deltas["customers_dialed"]:
            customer.dialed_at = call.placed_at or now
    call.save()
    if new == CallStatus.ENDED:
        # One UPDATE of the campaign row per transaction: a second one makes PostgreSQL re-check
        # the campaign's foreign keys at commit (KEY SHARE on its organization), which deadlocks
        # with dispatch; it also halves the writes to this hot row.
        deltas |= _customer_after_call(call, customer, now)
    elif old == CallStatus.QUEUED:
        Customer.objects.filter(pk=call.customer_id, state=CustomerState.QUEUED).update(
            state=CustomerState.DIALING
        )
    return deltas


def _customer_after_call(call: Call, customer: Customer, now: datetime) -> dict[str, int]:
    """Decide the customer's next state from how the call ended (rules.outcomes.after_outcome,
    services.outcomes.outcome_decide).

    The campaign row is locked (step 1), so a user ending the campaign right now is waited
    for and a retry is never scheduled in a campaign that has just ended. Returns the moves of
    the campaign's customer counters (final, contact buckets, connected) for the caller's one
    counter update.
    """
    campaign = call.campaign
    before = (customer.state, customer.reason)
    deltas = outcome_apply(call, customer, now)
    state, reason = customer.state, customer.reason
    customer.last_outcome = call.ended_reason
    deltas = _sum(deltas, contacts.moved(*before, state, reason, 1))
    deltas["customers_final"] = int(state in FINAL) - int(before[0] in FINAL)
    if classify(call.ended_reason) is OutcomeClass.ANSWERED and customer.connected_at is None:
        customer.connected_at = call.ended_at or now  # a person answered: Vapi's "connected"
        deltas["customers_connected"] = 1
    customer.save(update_fields=CUSTOMER_OUTCOME_FIELDS)
    _report_contact(campaign, customer, call, state, reason)
    return deltas


def outcome_amend(call: Call, customer: Customer, now: datetime) -> dict[str, int]:
    """A structured result that arrived after the call ended (an end-of-call report after the
    status update): decide again, as if it had come first, while the customer still stands
    where this call left them (not dialed again since). Returns the counter moves."""
    if customer.attempts != call.attempt or customer.state in (CustomerState.QUEUED, CustomerState.DIALING):
        return {}
    before = (customer.state, customer.reason)
    deltas = outcome_apply(call, customer, now)
    after = (customer.state, customer.reason)
    deltas = _sum(deltas, contacts.moved(*before, *after, 1))
    deltas["customers_final"] = int(after[0] in FINAL) - int(before[0] in FINAL)
    customer.save(update_fields=CUSTOMER_OUTCOME_FIELDS)
    if after != before:
        _report_contact(call.campaign, customer, call, *after)
    return deltas


def _sum(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {key: a.get(key, 0) + b.get(key, 0) for key in {*a, *b}}


def _report_contact(campaign: Campaign, customer: Customer, call: Call, state: str, reason: str) -> None:
    """The campaign's server hears of a contact that reached an end (Vapi's contact.* events):
    contact.completed and contact.failed with the call and its endedReason, contact.skipped alone."""
    status = contacts.contact_status(state, reason)
    data = {"contactId": str(customer.pk)}
    if status in (contacts.COMPLETED, contacts.FAILED):
        data |= {"callId": str(call.pk), "endedReason": call.ended_reason}
    elif status != contacts.SKIPPED:
        return  # pending again (a retry), or cancelled: no event
    event_emit(campaign=campaign, event_type=status, data=data)


def call_release(call: Call, *, retry_in: float, unconfirmed: bool = False) -> None:
    """Hand a call back to the queue after a retryable provider error (the provider refused it,
    so it never started): it goes through the last gate again when its next try takes it,
    once `retry_in` seconds have passed.

    `unconfirmed`: a call the caller took and never confirmed (its pre-dial check could not be
    made), handed back only while it is still the caller's (`placing_at` as taken)."""
    mine = Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, provider_call_id="")
    if unconfirmed:
        mine = mine.filter(placing_at=call.placing_at, confirmed_at__isnull=True)
    mine.update(placing_at=None, confirmed_at=None, not_before=clock.now() + timedelta(seconds=retry_in))


def call_release_stalled(*, taken_before: datetime) -> int:
    """Hand back calls a worker took for placement and never sent (it died first).

    Only calls that never passed the last gate: one that may have reached the provider is left
    to its callbacks and the reaper. Returns how many were handed back.
    """
    return Call.objects.filter(
        status=CallStatus.QUEUED, confirmed_at__isnull=True, placing_at__lt=taken_before
    ).update(placing_at=None)


def call_fail(*, call: Call, ended_reason: str, detail: str) -> None:
    """End a call that could not be placed; goes through record_call_event like any outcome."""
    event = CallEvent(
        kind="dialer", status=CallStatus.ENDED, call_id=str(call.pk), ended_reason=ended_reason, raw=detail
    )
    record_call_event(account=call.provider_account, event=event)


def calls_withdraw(*, refusals: list[tuple[Call, Decision]], now: datetime) -> int:
    """Take back queued calls the last gate refused, inside its transaction (which holds their
    campaigns' rows). Returns how many were withdrawn.

    Only a call still owned by the caller (its `placing_at` as taken, never confirmed) is
    withdrawn: it never left us, so it is deleted and its attempt is not counted. Its customer
    gets the state the engine's refusal means (engine.refusal_state: pending again, cancelled
    when the campaign has ended, skipped for do-not-call or a pre-dial refusal, failed when out
    of attempts) and the reason. Counters move by the rows actually changed (a pre-dial failure
    counts in customers_predial_failed, rules.contacts.bucket). A customer the pre-dial check
    refused is reported to the campaign's server (Vapi's contact.skipped for `eligible: false`,
    contact.predial-failed with the decision's detail as `error` when the check failed); the
    call itself is deleted like any other withdrawn call (Vapi's skipped contacts have no call):
    the customer's reason and its detail say why.
    """
    if not refusals:
        return 0
    # Customers before calls (the house lock order).
    customers = Customer.objects.select_for_update().filter(pk__in=[c.customer_id for c, _ in refusals])
    list(customers.order_by("pk"))
    withdrawn: dict[object, dict[str, int]] = {}
    reported: dict[tuple[object, str], tuple[Campaign, list[dict[str, str]]]] = {}
    for call, decision in refusals:
        owned = Call.objects.filter(
            pk=call.pk, status=CallStatus.QUEUED, confirmed_at__isnull=True, placing_at=call.placing_at
        )
        deleted = owned.delete()[1].get(Call._meta.label, 0)
        if not deleted:
            continue  # handed to another worker, or cancelled by an end: not ours to settle
        state = engine.refusal_state(decision)
        reason, detail = decision.reason or "", decision.detail
        if state == CustomerState.CANCELLED:
            reason, detail = Reason.CANCELLED, "the campaign ended before this call left"
        due = engine.due_again(decision, now) if state == CustomerState.PENDING else now
        changed = Customer.objects.filter(pk=call.customer_id, state=CustomerState.QUEUED).update(
            state=state,
            attempts=F("attempts") - 1,
            reason=reason,
            reason_detail=detail[:200],
            next_attempt_at=due,
        )
        counts = withdrawn.setdefault(call.campaign_id, {"calls_queued": 0})
        counts["calls_queued"] -= deleted
        counts["customers_final"] = counts.get("customers_final", 0) + (changed if state in FINAL else 0)
        for field, delta in contacts.moved(CustomerState.QUEUED, "", state, reason, changed).items():
            counts[field] = counts.get(field, 0) + delta
        if changed and reason in _PREDIAL_EVENTS:
            data = {"contactId": str(call.customer_id)}
            if reason == Reason.PREDIAL_FAILED:
                data["error"] = detail[:200]
            key = (call.campaign_id, _PREDIAL_EVENTS[reason])
            reported.setdefault(key, (call.campaign, []))[1].append(data)
    for campaign_id, deltas in withdrawn.items():
        move_counters(campaign_id, **deltas)
    for (_, event_type), (campaign, items) in reported.items():
        events_emit(campaign=campaign, event_type=event_type, items=items, at=now)
    return -sum(deltas["calls_queued"] for deltas in withdrawn.values())


# Vapi's event for a customer the pre-dial check refused, by reason.
_PREDIAL_EVENTS = {
    Reason.PREDIAL_INELIGIBLE: contacts.SKIPPED,
    Reason.PREDIAL_FAILED: contacts.PREDIAL_FAILED,
}
