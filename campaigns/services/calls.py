"""Call outcomes. `record_call_events` (and `record_call_event`, a batch of one) is the only
writer of what happened on a call.

Steps of recording an event (numbered because order matters):
1. find the call (our id from the callback's metadata, else the provider's id) and lock, in the
   house order (campaigns.services.tx), its campaign row, then its customer, then the call
   itself: for a whole batch at once, each kind of row in id order;
2. drop a redelivered event: (call, kind, status) is stored once in the call's log;
3. drop a stale one: a status never moves back (ringing after in-progress is ignored),
   though an end-of-call report still enriches an ended call;
4. move the call, the campaign's counters and, when it ended, the customer, together;
5. when the call ended with a provider failure, decide whether the campaign pauses itself
   (services.autopause), in the same UPDATE of the campaign row.

A line of a live transcript (kind TRANSCRIPT) takes none of these steps: it is kept on its call by
services.transcripts, in the same transaction, locking nothing.

A provider's timestamps are taken only within SANE_WINDOW of now: a hostile or broken
`startedAt` (year 9999, say) is dropped, never stored (it would break every later read).
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns import clock, jsonlimits
from campaigns.models import (
    STATUS_COUNTER,
    STATUS_RANK,
    Call,
    CallDirection,
    CallLog,
    CallLogKind,
    CallStatus,
    Campaign,
    CampaignStatus,
    Customer,
    CustomerState,
    ProviderAccount,
)
from campaigns.rules import contacts, engine, usage
from campaigns.rules.analysis import OBJECTIVE_FIELD, check_result
from campaigns.rules.autopause import is_provider_failure
from campaigns.rules.engine import Decision
from campaigns.rules.outcomes import OutcomeClass, classify, outcome_counter
from campaigns.rules.reasons import Reason
from campaigns.services.autopause import account_auto_pause, auto_pause_report, auto_pause_values
from campaigns.services.events import event_emit, events_emit
from campaigns.services.inputs import TRANSCRIPT, CallEvent
from campaigns.services.outcomes import CUSTOMER_OUTCOME_FIELDS, outcome_apply
from campaigns.services.transcripts import transcript_lines_record
from campaigns.services.tx import campaigns_held, lock_customers, update_rows

log = logging.getLogger(__name__)

# Provider timestamps further than this from now are dropped (see the module docstring).
SANE_WINDOW = timedelta(days=1)
# A provider's analysis object (and structured result) is kept within jsonlimits' nesting and
# number limits, at a larger size than our own free-form fields: a long call's summary is in it.
PROVIDER_JSON_BYTES = 1024 * 1024

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


def move_counters_many(
    deltas: dict[object, dict[str, int]], *, set_values: dict[object, dict[str, Any]] | None = None
) -> None:
    """`move_counters` for several campaigns (the dispatch of many campaigns in one round), in the
    caller's transaction, which holds their rows already: one statement for all of them, and
    `set_values` (fields set, not added: why a campaign waits, its pacing bucket) written in it
    too, so a round writes each campaign row once (one per distinct set of fields set)."""
    deltas = {pk: {f: d for f, d in moves.items() if d} for pk, moves in deltas.items()}
    deltas = {pk: moves for pk, moves in deltas.items() if moves}
    sets = {pk: values for pk, values in (set_values or {}).items() if values}
    pks = sorted({*deltas, *sets}, key=str)
    if len(pks) <= 1:
        for pk in pks:
            move_counters(pk, set_values=sets.get(pk), **deltas.get(pk, {}))
        return
    added = sorted({f for moves in deltas.values() for f in moves})
    groups: dict[tuple[str, ...], list[object]] = {}
    for pk in pks:
        groups.setdefault(tuple(sorted(sets.get(pk, {}))), []).append(pk)
    for named, ids in groups.items():
        # update_rows reads .pk and each field of a row: plain objects, not models (building a
        # thousand Campaign instances of a hundred fields each was a tenth of a dispatch pass).
        rows = [
            SimpleNamespace(
                pk=pk,
                **{f: deltas.get(pk, {}).get(f, 0) for f in added},
                **{f: sets[pk][f] for f in named},
            )
            for pk in ids
        ]
        update_rows(Campaign, rows, [*added, *named], add=added)


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


def _our_id(event: CallEvent) -> uuid.UUID | None:
    try:
        return uuid.UUID(event.call_id) if event.call_id else None
    except (ValueError, TypeError, AttributeError):  # a malformed id in metadata is simply not ours
        return None


_TEXT_FIELDS = ("call_id", "provider_call_id", "ended_reason", "summary", "transcript", "recording_url")
_TEXT_FIELDS += ("stereo_recording_url", "raw")


def sane_event(event: CallEvent, now: datetime) -> CallEvent:
    """The event without timestamps further than SANE_WINDOW from `now` (or naive ones), without
    NUL characters (PostgreSQL's text and jsonb cannot hold them) in what it says, and without
    an analysis or structured result beyond jsonlimits' limits (_sane_json): what the recorder
    applies, and the webhook endpoint before it stores an event it could not write."""
    dropped: dict = {}
    for field in _TEXT_FIELDS:
        value = getattr(event, field)
        if "\x00" in value:
            dropped[field] = value.replace("\x00", "")
    for name in ("analysis", "structured_data"):
        if (value := getattr(event, name)) is not None and (kept := _sane_json(value, name)) is not value:
            dropped[name] = kept
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


def _sane_json(value: Any, name: str) -> Any:
    """A provider's JSON object without NUL characters, or None when it breaks jsonlimits' limits
    (nested deeper than MAX_DEPTH: the campaign's document, which holds it three levels down,
    could no longer be written) or is not JSON orjson can write. The object itself if it is fine."""
    try:
        text = orjson.dumps(value)
        if b"\\u0000" in text:
            value = orjson.loads(text.replace(b"\\u0000", b""))
    except (TypeError, ValueError):  # too deep for orjson, an integer beyond 64 bits, a cut escape
        value = None
    if value is not None and (problems := jsonlimits.problems(value, name, max_bytes=PROVIDER_JSON_BYTES)):
        log.warning("dropped a provider's %s: %s", name, problems[0].message)
        value = None
    return value


def record_call_event(
    *, account: ProviderAccount, event: CallEvent, now: datetime | None = None
) -> Call | None:
    """Apply one provider event (a batch of one: record_call_events). Idempotent and order-tolerant.

    Returns the call, or None when the event names no call of this account
    (the webhook still answers 2xx so the provider stops retrying).
    """
    return record_call_events([(account, event)], now=now)[0]


# No savepoint of its own: inside a caller's transaction (a batch of webhook events) a failure
# fails the whole batch, which the caller then retries event by event; see dialer/webhooks.py.
@transaction.atomic(savepoint=False)
def record_call_events(
    items: list[tuple[ProviderAccount, CallEvent]], *, now: datetime | None = None
) -> list[Call | None]:
    """Apply provider events, in the order given, in one transaction (the steps of the module
    docstring, each event's as if it were alone). Returns, per event, its call (as the batch
    left it) or None when it names no call of its account.

    Set-based where the order allows: the calls are found in one query, their campaigns,
    customers and calls locked in three (the house order, each in id order), the events' log
    entries written in one statement, each call saved once and each campaign's counters moved
    in one UPDATE at the end.
    """
    now = now or clock.now()
    events = [(account, sane_event(event, now)) for account, event in items]
    if any(event.kind == TRANSCRIPT for _, event in events):  # lines of live transcripts: no locks
        lines = [item for item in events if item[1].kind == TRANSCRIPT]
        heard = iter(transcript_lines_record(lines, _Batch._find(lines), now))
        others = [item for item in events if item[1].kind != TRANSCRIPT]
        rest = iter(record_call_events(others, now=now) if others else [])
        return [next(heard) if event.kind == TRANSCRIPT else next(rest) for _, event in events]
    batch = _Batch(events)  # 1.
    fresh = batch.log_once(events)  # 2.
    found: list[Call | None] = []
    with campaigns_held(batch.campaigns):
        for (_, event), call, new in zip(events, batch.targets, fresh, strict=True):
            if call is None:
                log.info("ignored %s for unknown call (%s)", event.kind, event.provider_call_id or "-")
            elif new:
                _apply(batch, call, event, now)
            found.append(call)
    batch.flush()
    return found


class _Batch:
    """The rows a batch of events works on, locked and loaded once, and the writes it defers."""

    def __init__(self, events: list[tuple[ProviderAccount, CallEvent]]) -> None:
        pks = self._find(events)
        rows = {
            pk: row
            for pk, *row in Call.objects.filter(pk__in=set(filter(None, pks)))
            .order_by()  # a lookup: not the model's newest-first
            .values_list("pk", "campaign_id", "customer_id")
        }
        campaigns = (
            Campaign.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organization")
            .filter(pk__in={campaign for campaign, _ in rows.values()})
            .order_by("pk")
        )
        self.campaigns = {campaign.pk: campaign for campaign in campaigns}
        lock_customers({customer for _, customer in rows.values()})
        calls = Call.objects.select_for_update().filter(pk__in=list(rows)).order_by("pk")
        self.calls = {call.pk: call for call in calls}
        for call in self.calls.values():
            call.campaign = self.campaigns[call.campaign_id]
        self.stored = {pk: _values(call) for pk, call in self.calls.items()}
        self.targets = [self.calls.get(pk) if pk else None for pk in pks]
        ending = {
            c.customer_id for c, (_, e) in zip(self.targets, events, strict=True) if c and e.status == "ended"
        }
        self.customers = {c.pk: c for c in Customer.objects.filter(pk__in=ending)}
        self.dirty: dict[object, Call] = {}
        self.customer_writes: dict[object, tuple[Customer, set[str]]] = {}  # save_customers
        self.dialed: dict[object, tuple[object, datetime]] = {}  # customer: (campaign, first dial)
        self.dialing: set[object] = set()  # customers whose call the provider has: queued -> dialing
        self.deltas: dict[object, dict[str, Any]] = {}
        self.set_values: dict[object, dict[str, Any]] = {}

    @staticmethod
    def _find(events: list[tuple[ProviderAccount, CallEvent]]) -> list[uuid.UUID | None]:
        """Each event's call id: ours from its metadata when that call is this account's, else the
        call with the provider's id on this account (one query for the batch). A provider id
        first told by an earlier event of the batch (with ours) counts as stored."""
        ours = {i for _, event in events if (i := _our_id(event)) is not None}
        by_account: dict[object, set[str]] = {}
        for account, event in events:
            if event.provider_call_id:
                by_account.setdefault(account.pk, set()).add(event.provider_call_id)
        where = Q(pk__in=ours)
        for account_id, provider_ids in by_account.items():  # one term per account, not per event
            where |= Call.with_provider_ids(account_id, provider_ids)
        owner, by_provider_id = {}, {}
        for pk, account_id, provider_id in (
            Call.objects.filter(where).order_by().values_list("pk", "provider_account_id", "provider_call_id")
        ):
            owner[pk] = account_id
            if provider_id:
                by_provider_id[(account_id, provider_id)] = pk
        found: list[uuid.UUID | None] = []
        for account, event in events:
            pk = _our_id(event)
            if pk is None or owner.get(pk) != account.pk:
                pk = by_provider_id.get((account.pk, event.provider_call_id))
            elif event.provider_call_id:
                by_provider_id.setdefault((account.pk, event.provider_call_id), pk)
            found.append(pk)
        return found

    def log_once(self, events: list[tuple[ProviderAccount, CallEvent]]) -> list[bool]:
        """Step 2 for the batch: each event of a known call on its call's log unless that (call,
        key) is there already (or earlier in the batch), in one INSERT ... ON CONFLICT DO NOTHING;
        per event, True if it was new."""
        rows, seen = [], set()
        for (_, event), call in zip(events, self.targets, strict=True):
            if call is not None:
                kind = CallLogKind.NOTE if event.kind == "dialer" else CallLogKind.WEBHOOK
                summary = f"{event.kind} {event.status} {event.ended_reason}".strip()
                rows.append((call, kind, event.dedupe_key, summary, event.raw))
        if not rows:
            return [False] * len(events)
        table, at = CallLog._meta.db_table, connection.ops.adapt_datetimefield_value(clock.now())
        pk = CallLog._meta.get_field("call")
        params: list[Any] = []
        for call, kind, key, summary, body in rows:
            params += [pk.get_db_prep_value(call.pk, connection), kind, key, summary[:200]]
            params += [CallLog.truncate(body), at]
        values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (call_id, kind, dedupe_key, summary, body, created_at) VALUES {values}"
                " ON CONFLICT (call_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING"
                " RETURNING call_id, dedupe_key",
                params,
            )
            stored = {(pk.to_python(call_id), key) for call_id, key in cursor.fetchall()}
        fresh = []
        for (_, event), call in zip(events, self.targets, strict=True):
            key = None if call is None else (call.pk, event.dedupe_key)
            new = key is not None and (event.dedupe_key is None or (key in stored and key not in seen))
            seen.add(key)
            fresh.append(new)
        return fresh

    def customer(self, call: Call) -> Customer:
        """The call's customer as it stands now (locked since step 1)."""
        if call.customer_id not in self.customers:
            self.customers[call.customer_id] = Customer.objects.get(pk=call.customer_id)
        return self.customers[call.customer_id]

    def forget_customers(self) -> None:
        """An opt-out skipped the number's pending customers everywhere (services.outcomes): the
        batch's customers are read again rather than trusted (what it decided is written first)."""
        self.save_customers()
        self.customers.clear()

    def write_customer(self, customer: Customer, fields: Iterable[str]) -> None:
        """Write these fields of the (locked) customer, and its updated_at (as save() stamps it),
        with the batch's others (save_customers)."""
        customer.updated_at = timezone.now()
        _, pending = self.customer_writes.setdefault(customer.pk, (customer, set()))
        pending.update(fields, ("updated_at",))

    def save_customers(self) -> None:
        """Write the customers the batch decided so far: one UPDATE for all those that changed the
        same fields (a save each was half of the recording of an ended call: once when it ends,
        once when its report arrives). Before anything reads customers by SQL: an opt-out's skip
        of the number's pending customers (outcome_apply's before_opt_out), and the batch's end."""
        by_fields: dict[tuple[str, ...], list[Customer]] = {}
        for customer, fields in self.customer_writes.values():
            by_fields.setdefault(tuple(sorted(fields)), []).append(customer)
        for fields, customers in by_fields.items():
            update_rows(Customer, customers, fields)
        self.customer_writes.clear()

    def save_calls(self) -> None:
        """Write the calls the batch changed so far (a read of the calls table is about to depend
        on them), each with only the fields that differ from the stored row: one UPDATE for all
        the calls that changed the same fields (they are locked since step 1)."""
        by_fields: dict[tuple[str, ...], list[Call]] = {}
        for pk, call in self.dirty.items():
            now = _values(call)
            changed = tuple(field for field, value in now.items() if value != self.stored[pk][field])
            if changed:
                by_fields.setdefault(changed, []).append(call)
                self.stored[pk] = now
        for fields, calls in by_fields.items():
            update_rows(Call, calls, fields)
        self.dirty.clear()

    def move(self, campaign: Campaign, deltas: dict[str, Any], paused: dict[str, Any] | None) -> None:
        sums = self.deltas.setdefault(campaign.pk, {})
        for field, delta in deltas.items():
            sums[field] = sums.get(field, 0) + delta
        if paused:
            self.set_values.setdefault(campaign.pk, {}).update(paused)
            for field, value in paused.items():
                setattr(campaign, field, value)  # later events of the batch see the campaign paused

    def flush(self) -> None:
        """The deferred writes: each changed call saved once, each campaign's counters (and an
        automatic pause) in one UPDATE of its row."""
        self.save_calls()
        self.save_customers()
        if self.dialing:
            Customer.objects.filter(pk__in=self.dialing, state=CustomerState.QUEUED).update(
                state=CustomerState.DIALING
            )
        by_campaign: dict[object, dict[object, datetime]] = {}
        for customer_id, (campaign_id, at) in self.dialed.items():
            by_campaign.setdefault(campaign_id, {})[customer_id] = at
        for campaign_id, first in by_campaign.items():
            rows = [SimpleNamespace(pk=pk, dialed_at=at) for pk, at in first.items()]
            dialed = update_rows(Customer, rows, ["dialed_at"], if_null="dialed_at")
            sums = self.deltas.setdefault(campaign_id, {})
            sums["customers_dialed"] = sums.get("customers_dialed", 0) + dialed
        for campaign_id in sorted({*self.deltas, *self.set_values}, key=str):
            deltas = self.deltas.get(campaign_id, {})
            move_counters(campaign_id, set_values=self.set_values.get(campaign_id), **deltas)


def _values(call: Call) -> dict[str, Any]:
    """The call's stored fields as it stands in memory (what save_calls compares; JSON values
    copied, so a change made in place is seen too)."""
    values = {field.attname: getattr(call, field.attname) for field in _CALL_FIELDS}
    return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}


_CALL_FIELDS = [field for field in Call._meta.concrete_fields if not field.primary_key]


def _apply(batch: _Batch, call: Call, event: CallEvent, now: datetime) -> None:
    """Steps 3 to 5 of one event on its (locked) call."""
    if event.provider_call_id and not call.provider_call_id:
        call.provider_call_id = event.provider_call_id  # the webhook beat our own bookkeeping
    if call.direction == CallDirection.INBOUND:
        _record_inbound(call, event, now)
        batch.dirty[call.pk] = call
        return
    campaign = call.campaign
    customer = batch.customer(call) if event.status == CallStatus.ENDED else None
    spent = (_money(call), call.duration_seconds or 0.0)
    _enrich(call, event)
    batch.dirty[call.pk] = call
    deltas: dict[str, Any] = {}
    ended_now = event.status == CallStatus.ENDED and call.status != CallStatus.ENDED
    if STATUS_RANK.get(event.status, -1) <= STATUS_RANK[call.status]:  # 3.
        if customer is not None and event.structured_data is not None and call.status == CallStatus.ENDED:
            # The report came after the end: its result may change what the end decided.
            deltas = outcome_amend(batch, call, customer, now)
    else:
        deltas = _advance(batch, call, customer, event, now)  # 4.
    # The campaign's cost and talk time (what its lists sort by) follow each call's, as reports add them.
    deltas["calls_cost"] = _money(call) - spent[0]
    deltas["calls_duration_seconds"] = (call.duration_seconds or 0.0) - spent[1]
    # 5. A provider failure may pause the campaign (rules.autopause), in the same UPDATE.
    paused = None
    if ended_now and is_provider_failure(call.ended_reason):
        batch.save_calls()  # the automatic pause reads the latest ended calls
        paused = auto_pause_values(campaign, call, now)
    batch.move(campaign, deltas, paused)
    if paused:
        auto_pause_report(campaign, paused["auto_paused_reason"], now)
    elif ended_now and is_provider_failure(call.ended_reason):
        for campaign_id, reason in account_auto_pause(call, now).items():  # its account's, across campaigns
            if (held := batch.campaigns.get(campaign_id)) is not None:  # paused above: seen as paused
                held.status, held.paused_at, held.auto_paused_reason = CampaignStatus.PAUSED, now, reason
    if customer is not None and customer.reason == Reason.DO_NOT_CALL:
        batch.forget_customers()


def _record_inbound(call: Call, event: CallEvent, now: datetime) -> None:
    """An inbound call's event (services.inbound): the call is enriched and moves forward, and
    nothing else does: it is no attempt, so the campaign's counters, cost and automatic pause,
    and the customer's state, are the outbound calls' alone."""
    _enrich(call, event)
    if STATUS_RANK.get(event.status, -1) > STATUS_RANK[call.status]:
        call.status = event.status
        if event.status == CallStatus.ENDED:
            call.ended_reason = event.ended_reason or "unknown-error"
            call.ended_at = call.ended_at or event.ended_at or event.at or now
            if call.started_at:
                call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())


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


def _advance(
    batch: _Batch, call: Call, customer: Customer | None, event: CallEvent, now: datetime
) -> dict[str, int]:
    """Move the call to the event's status; returns the counter moves for the caller's one update
    (a customer's first dial and its move to dialing are written with the batch's, at its end)."""
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
        # once per customer, whatever the attempt (batch.flush).
        batch.dialed.setdefault(call.customer_id, (call.campaign_id, call.placed_at or now))
        if customer is not None and customer.dialed_at is None:
            customer.dialed_at = call.placed_at or now
    if new == CallStatus.ENDED:
        # One UPDATE of the campaign row per transaction: a second one makes PostgreSQL re-check
        # the campaign's foreign keys at commit (KEY SHARE on its organization), which deadlocks
        # with dispatch; it also halves the writes to this hot row.
        deltas |= _customer_after_call(batch, call, customer, now)
    elif old == CallStatus.QUEUED:
        batch.dialing.add(call.customer_id)
    return deltas


def _customer_after_call(batch: _Batch, call: Call, customer: Customer, now: datetime) -> dict[str, int]:
    """Decide the customer's next state from how the call ended (rules.outcomes.after_outcome,
    services.outcomes.outcome_decide).

    The campaign row is locked (step 1), so a user ending the campaign right now is waited
    for and a retry is never scheduled in a campaign that has just ended. Returns the moves of
    the campaign's customer counters (final, contact buckets, connected) for the caller's one
    counter update.
    """
    campaign = call.campaign
    before = (customer.state, customer.reason)
    deltas = outcome_apply(call, customer, now, before_opt_out=batch.save_customers)
    state, reason = customer.state, customer.reason
    customer.last_outcome = call.ended_reason
    deltas = _sum(deltas, contacts.moved(*before, state, reason, 1))
    deltas["customers_final"] = int(state in FINAL) - int(before[0] in FINAL)
    if classify(call.ended_reason) is OutcomeClass.ANSWERED and customer.connected_at is None:
        customer.connected_at = call.ended_at or now  # a person answered: Vapi's "connected"
        deltas["customers_connected"] = 1
    batch.write_customer(customer, CUSTOMER_OUTCOME_FIELDS)
    _report_contact(campaign, customer, call, state, reason)
    return deltas


def outcome_amend(batch: _Batch, call: Call, customer: Customer, now: datetime) -> dict[str, int]:
    """A structured result that arrived after the call ended (an end-of-call report after the
    status update): decide again, as if it had come first, while the customer still stands
    where this call left them (not dialed again since). Returns the counter moves."""
    if customer.attempts != call.attempt or customer.state in (CustomerState.QUEUED, CustomerState.DIALING):
        return {}
    before, stored = (customer.state, customer.reason), _outcome_values(customer)
    deltas = outcome_apply(call, customer, now, before_opt_out=batch.save_customers)
    after = (customer.state, customer.reason)
    deltas = _sum(deltas, contacts.moved(*before, *after, 1))
    deltas["customers_final"] = int(after[0] in FINAL) - int(before[0] in FINAL)
    changed = [field for field, value in _outcome_values(customer).items() if value != stored[field]]
    if after[0] in FINAL and after == before and changed == ["next_attempt_at"]:
        changed = []  # "due now" again, for a customer nobody will dial: not a change
    if changed:  # the same decision again (the report agreeing with the end): nothing to write
        batch.write_customer(customer, changed)
    if after != before:
        _report_contact(call.campaign, customer, call, *after)
    return deltas


def _outcome_values(customer: Customer) -> dict[str, Any]:
    """What outcome_apply may change on the customer (JSON values copied)."""
    values = {field: getattr(customer, field) for field in CUSTOMER_OUTCOME_FIELDS if field != "updated_at"}
    return {k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in values.items()}


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
