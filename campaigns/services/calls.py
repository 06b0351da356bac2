"""Call outcomes. `record_call_event` is the only writer of what happened on a call.

Steps of recording one event (numbered because order matters):
1. find the call (our id from the callback's metadata, else the provider's id) and lock it;
2. drop a redelivered event: (call, kind, status) is stored once in the call's log;
3. drop a stale one: a status never moves back (ringing after in-progress is ignored),
   though an end-of-call report still enriches an ended call;
4. move the call, the campaign's counters and, when it ended, the customer, together.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from campaigns.models import (
    STATUS_COUNTER,
    STATUS_RANK,
    Call,
    CallLog,
    CallLogKind,
    CallStatus,
    Campaign,
    CampaignStatus,
    Customer,
    CustomerState,
    DoNotCall,
    DoNotCallSource,
    PhoneNumber,
    ProviderAccount,
)
from campaigns.services.errors import DomainError
from dialer.engine import Decision, Reason, after_outcome
from dialer.policy import campaign_policy
from dialer.providers.base import CallEvent

log = logging.getLogger(__name__)

FINAL = {
    CustomerState.COMPLETED,
    CustomerState.VOICEMAIL,
    CustomerState.FAILED,
    CustomerState.SKIPPED,
    CustomerState.CANCELLED,
}


def move_counters(campaign_id: object, **deltas: int) -> None:
    """Add `deltas` to a campaign's counters in the caller's transaction."""
    changes = {field: F(field) + delta for field, delta in deltas.items() if delta}
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
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (call_id, kind, dedupe_key, summary, body, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (call_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id",
            values,
        )
        return cursor.fetchone() is not None


def _find_call(account: ProviderAccount, event: CallEvent) -> Call | None:
    calls = Call.objects.select_for_update().filter(provider_account=account)
    call = None
    try:
        ours = uuid.UUID(event.call_id) if event.call_id else None
    except (ValueError, TypeError, AttributeError):  # a malformed id in metadata is simply not ours
        ours = None
    if ours is not None:
        call = calls.filter(pk=ours).first()  # a database error here is not swallowed
    if call is None and event.provider_call_id:
        call = calls.filter(provider_call_id=event.provider_call_id).first()
    return call


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
    now = now or timezone.now()
    call = _find_call(account, event)  # 1.
    if call is None:
        log.info("ignored %s for unknown call (provider id %s)", event.kind, event.provider_call_id or "-")
        return None
    kind = CallLogKind.NOTE if event.kind == "dialer" else CallLogKind.WEBHOOK
    summary = f"{event.kind} {event.status} {event.ended_reason}".strip()
    if not _log_once(call, kind, summary, event.raw, event.dedupe_key):  # 2.
        return call
    if event.provider_call_id and not call.provider_call_id:
        call.provider_call_id = event.provider_call_id  # the webhook beat our own bookkeeping
    _enrich(call, event)
    if STATUS_RANK.get(event.status, -1) <= STATUS_RANK[call.status]:  # 3.
        call.save()
        return call
    _advance(call, event, now)  # 4.
    return call


def _enrich(call: Call, event: CallEvent) -> None:
    """Copy what the end-of-call report (or any event) adds, without moving the status."""
    for field in ("summary", "transcript", "recording_url", "stereo_recording_url", "analysis", "cost"):
        value = getattr(event, field)
        if value not in ("", None):
            setattr(call, field, value)
    if event.started_at and not call.started_at:
        call.started_at = event.started_at
    if event.kind == "end-of-call-report":
        call.report_received = True
        if event.ended_at:
            call.ended_at = event.ended_at
    if call.started_at and call.ended_at:
        call.duration_seconds = max(0.0, (call.ended_at - call.started_at).total_seconds())


def _advance(call: Call, event: CallEvent, now: datetime) -> None:
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
    else:
        deltas[STATUS_COUNTER[new]] = deltas.get(STATUS_COUNTER[new], 0) + 1
    call.save()
    if new == CallStatus.ENDED:
        # One UPDATE of the campaign row per transaction: a second one makes PostgreSQL re-check
        # the campaign's foreign keys at commit (KEY SHARE on its organization), which deadlocks
        # with dispatch; it also halves the writes to this hot row.
        deltas["customers_final"] = _customer_after_call(call, now)
    elif old == CallStatus.QUEUED:
        Customer.objects.filter(pk=call.customer_id, state=CustomerState.QUEUED).update(
            state=CustomerState.DIALING
        )
    move_counters(call.campaign_id, **deltas)


def _customer_after_call(call: Call, now: datetime) -> int:
    """Decide the customer's next state from how the call ended (dialer.engine.after_outcome).

    Returns 1 when that state is final (for the caller's customers_final counter), else 0.
    """
    customer = Customer.objects.select_for_update().get(pk=call.customer_id)
    # The campaign row under the lock this transaction's counter update takes anyway: a user
    # ending the campaign right now (campaign_end holds FOR UPDATE) is waited for, so a retry
    # is never scheduled in a campaign that has just ended. (Its customers UPDATE skips this
    # customer, which is not pending, so the wait cannot turn into a deadlock.)
    campaign = (
        Campaign.objects.select_for_update(no_key=True, of=("self",))
        .select_related("organization")
        .get(pk=call.campaign_id)
    )
    outcome = after_outcome(
        ended_reason=call.ended_reason, attempts=customer.attempts, policy=campaign_policy(campaign), now=now
    )
    state, reason, detail = outcome.state, outcome.reason or "", ""
    if state == CustomerState.PENDING and campaign.status == CampaignStatus.ENDED:
        state, reason, detail = CustomerState.CANCELLED, Reason.CANCELLED, "the campaign ended before a retry"
    elif state == CustomerState.PENDING:
        detail = f"retry after {call.ended_reason}"
    customer.state, customer.reason, customer.reason_detail = state, reason, detail
    customer.last_outcome = call.ended_reason
    customer.next_attempt_at = outcome.next_attempt_at or now
    customer.save(
        update_fields=["state", "reason", "reason_detail", "last_outcome", "next_attempt_at", "updated_at"]
    )
    if outcome.add_to_do_not_call and customer.number:
        DoNotCall.objects.get_or_create(
            organization_id=campaign.organization_id,
            number=customer.number,
            defaults={"source": DoNotCallSource.OPT_OUT, "note": f"opted out on call {call.pk}"},
        )
    return int(state in FINAL)


def call_take_for_placing(call_id: object) -> Call | None:
    """Claim a queued call for placement. Exactly one worker wins; the others get None."""
    taken = calls_take_for_placing([call_id])
    return taken[0] if taken else None


def calls_take_for_placing(call_ids: list) -> list[Call]:
    """Claim the queued calls of `call_ids` for placement, in one conditional update: a call is
    won by exactly one worker; the others do not get it. Returns the won calls, loaded with what
    placing needs, each with `on_do_not_call` (its number is on the organization's list now)."""
    if not call_ids:
        return []
    won = _take(call_ids)
    if not won:
        return []
    blocked = DoNotCall.objects.filter(
        organization_id=OuterRef("organization_id"), number=OuterRef("customer__number")
    )
    calls = Call.objects.select_related("customer").filter(pk__in=won)
    calls = list(calls.annotate(on_do_not_call=Exists(blocked)))
    # The calls of a batch share their campaign, caller ID and provider account: each is read
    # once here rather than joined (and parsed) once per call.
    campaigns = Campaign.objects.select_related("organization").in_bulk({c.campaign_id for c in calls})
    phones = PhoneNumber.objects.select_related("provider_account").in_bulk(
        {c.phone_number_id for c in calls}
    )
    accounts = {p.provider_account_id: p.provider_account for p in phones.values()}
    if missing := {c.provider_account_id for c in calls} - accounts.keys():  # a caller ID moved since
        accounts |= ProviderAccount.objects.in_bulk(missing)
    for call in calls:
        call.campaign, call.phone_number = campaigns[call.campaign_id], phones[call.phone_number_id]
        call.provider_account = accounts[call.provider_account_id]
    order = {str(pk): i for i, pk in enumerate(call_ids)}
    return sorted(calls, key=lambda call: order.get(str(call.pk), 0))


def _take(call_ids: list) -> list[uuid.UUID]:
    """UPDATE ... RETURNING: the ids this statement itself moved from queued to taken, so
    two workers given overlapping batches never both believe they won a call."""
    return _stamp(call_ids, taken_at=None, stamp=timezone.now())


def _stamp(call_ids: list, *, taken_at: datetime | None, stamp: datetime) -> list[uuid.UUID]:
    """Stamp `placing_at` on the queued, unplaced calls of `call_ids` whose stamp is still
    `taken_at` (None: not taken yet); returns the ids this statement itself stamped."""
    pk, placing_at = Call._meta.pk, Call._meta.get_field("placing_at")
    ids = [pk.get_db_prep_value(pk.to_python(i), connection) for i in call_ids]
    marks = ", ".join(["%s"] * len(ids))
    owner = "placing_at IS NULL" if taken_at is None else "placing_at = %s"
    taken = [] if taken_at is None else [placing_at.get_db_prep_value(taken_at, connection)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Call._meta.db_table} SET placing_at = %s WHERE id IN ({marks})"
            f" AND status = %s AND provider_call_id = '' AND {owner} RETURNING id",
            [placing_at.get_db_prep_value(stamp, connection), *ids, CallStatus.QUEUED, *taken],
        )
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


def calls_confirm_placing(requests: list[tuple[Call, str, str]]) -> list[Call]:
    """Batch form of call_confirm_placing, with each request put on its call's log in the same
    commit: `requests` are (call, summary, body). Returns the calls this worker still owns, the
    only ones whose request may leave; the others were handed to another worker meanwhile."""
    stamp, owned = timezone.now(), []
    if connection.vendor == "postgresql":
        won = set(_confirm_and_log(requests, stamp))
        owned = [request for request in requests if request[0].pk in won]
        for call, _, _ in owned:
            call.placing_at = stamp
        return [call for call, _, _ in owned]
    by_stamp: dict[datetime | None, list[tuple[Call, str, str]]] = {}
    for request in requests:
        by_stamp.setdefault(request[0].placing_at, []).append(request)
    with transaction.atomic():
        for taken_at, group in by_stamp.items():
            if taken_at is None:  # not taken by this worker: never sent from here
                continue
            won = set(_stamp([call.pk for call, _, _ in group], taken_at=taken_at, stamp=stamp))
            owned += [request for request in group if request[0].pk in won]
        _insert_logs([(call, CallLogKind.REQUEST, summary, None, body) for call, summary, body in owned])
    for call, _, _ in owned:
        call.placing_at = stamp
    return [call for call, _, _ in owned]


def _confirm_and_log(requests: list[tuple[Call, str, str]], stamp: datetime) -> list[uuid.UUID]:
    """PostgreSQL: calls_confirm_placing in one statement (so one round trip and its own
    transaction): re-stamp the calls this worker still owns, and log a request for exactly those.
    Returns the ids of the owned calls."""
    taken = [request for request in requests if request[0].placing_at is not None]
    if not taken:
        return []
    pk, placing_at = Call._meta.pk, Call._meta.get_field("placing_at")
    params: list = []
    for call, summary, body in taken:
        params += [
            pk.get_db_prep_value(call.pk, connection),
            placing_at.get_db_prep_value(call.placing_at, connection),
        ]
        params += [summary[:200], CallLog.truncate(body)]
    now = placing_at.get_db_prep_value(stamp, connection)
    rows = _values(len(taken), 4, casts=("::uuid", "::timestamptz"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH request (id, taken_at, summary, body) AS (VALUES {rows}),"
            f" won AS (UPDATE {Call._meta.db_table} AS c SET placing_at = %s FROM request"
            "  WHERE c.id = request.id AND c.placing_at = request.taken_at"
            "  AND c.status = %s AND c.provider_call_id = '' RETURNING c.id),"
            f" logged AS (INSERT INTO {CallLog._meta.db_table}"
            "  (call_id, kind, summary, http_status, body, created_at)"
            "  SELECT request.id, %s, request.summary, NULL, request.body, %s"
            "  FROM request JOIN won ON won.id = request.id RETURNING call_id)"
            " SELECT call_id FROM logged",
            [*params, now, CallStatus.QUEUED, CallLogKind.REQUEST, now],
        )
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


def _insert_logs(rows: list[tuple[Call, str, str, int | None, str]]) -> None:
    """(call, kind, summary, http status, body) rows on the calls' logs, in one INSERT."""
    if rows:
        sql, params = _log_insert(rows)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _log_insert(rows: list[tuple[Call, str, str, int | None, str]]) -> tuple[str, list]:
    """The INSERT of `_insert_logs` and its parameters (also a CTE of `_answer_in_one_statement`).

    Not bulk_create: on PostgreSQL it sends the bodies (JSON, full of quotes) as array literals,
    which psycopg escapes character by character in Python; plain parameters are quoted by libpq.
    """
    pk, at = Call._meta.pk, CallLog._meta.get_field("created_at")
    now = at.get_db_prep_value(timezone.now(), connection)
    params = []
    for call, kind, summary, status, body in rows:
        params += [pk.get_db_prep_value(call.pk, connection), kind, summary[:200], status]
        params += [CallLog.truncate(body), now]
    columns = "(call_id, kind, summary, http_status, body, created_at)"
    return f"INSERT INTO {CallLog._meta.db_table} {columns} VALUES {_values(len(rows), 6)}", params


def _values(count: int, width: int, *, casts: tuple[str, ...] = ()) -> str:
    """Placeholders of a VALUES list of `count` rows of `width` columns. In a WITH list the
    columns take their types from the first row, so `casts` ("::uuid", "") are put there."""
    first = ", ".join(f"%s{cast}" for cast in casts + ("",) * (width - len(casts)))
    return ", ".join([f"({first})"] + [f"({', '.join(['%s'] * width)})"] * (count - 1))


def call_placed(*, call: Call, provider_call_id: str) -> None:
    """The provider accepted the call and gave it an id."""
    calls_answered(answers=[], placed=[(call, provider_call_id)])


def calls_answered(
    *, answers: list[tuple[Call, str, int | None, str]], placed: list[tuple[Call, str]]
) -> None:
    """A batch's answers from the provider, in one commit: each answer on its call's log
    (`answers` are (call, summary, http status, body)), and the calls the provider accepted
    (`placed` are (call, provider call id)) stamped placed, their customers dialing."""
    if connection.vendor == "postgresql" and (answers or placed):
        _answer_in_one_statement(answers, placed)
        return
    with transaction.atomic():
        _answer(answers, placed)


def _answer_in_one_statement(
    answers: list[tuple[Call, str, int | None, str]], placed: list[tuple[Call, str]]
) -> None:
    """PostgreSQL: calls_answered as one statement (one round trip, its own transaction)."""
    pk, at = Call._meta.pk, Call._meta.get_field("placed_at")
    now = at.get_db_prep_value(timezone.now(), connection)
    parts, params, tail = [], [], "SELECT 1"
    if answers:
        sql, params = _log_insert([(call, CallLogKind.RESPONSE, *answer) for call, *answer in answers])
        parts.append(f"logged AS ({sql})")
    if placed:
        # A callback may have told us the provider's id first: that one stays.
        parts.append(
            f"accepted (id, pid) AS (VALUES {_values(len(placed), 2, casts=('::uuid',))}),"
            f" placed AS (UPDATE {Call._meta.db_table} AS c SET placed_at = %s, provider_call_id ="
            " CASE WHEN c.provider_call_id = '' THEN accepted.pid ELSE c.provider_call_id END"
            " FROM accepted WHERE c.id = accepted.id RETURNING c.customer_id)"
        )
        params += [v for call, pid in placed for v in (pk.get_db_prep_value(call.pk, connection), pid)]
        params.append(now)
        tail = (
            f"UPDATE {Customer._meta.db_table} SET state = %s"
            " WHERE id IN (SELECT customer_id FROM placed) AND state = %s"
        )
        params += [CustomerState.DIALING, CustomerState.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {tail}", params)


def _answer(answers: list[tuple[Call, str, int | None, str]], placed: list[tuple[Call, str]]) -> None:
    _insert_logs([(call, CallLogKind.RESPONSE, *answer) for call, *answer in answers])
    if not placed:
        return
    pk, placed_at = Call._meta.pk, Call._meta.get_field("placed_at")
    pairs = [param for call, pid in placed for param in (pk.get_db_prep_value(call.pk, connection), pid)]
    with connection.cursor() as cursor:
        # One statement for the batch (PostgreSQL and SQLite both join an UPDATE to a VALUES list).
        # A callback may have told us the provider's id first: that one stays.
        cursor.execute(
            f"WITH v(id, pid) AS (VALUES {', '.join(['(%s, %s)'] * len(placed))})"
            f" UPDATE {Call._meta.db_table} SET placed_at = %s, provider_call_id ="
            f" CASE WHEN provider_call_id = '' THEN v.pid ELSE provider_call_id END"
            f" FROM v WHERE {Call._meta.db_table}.id = v.id",
            [*pairs, placed_at.get_db_prep_value(timezone.now(), connection)],
        )
    customers = [call.customer_id for call, _ in placed]
    Customer.objects.filter(pk__in=customers, state=CustomerState.QUEUED).update(state=CustomerState.DIALING)


def call_release(call: Call, *, retry_in: float) -> None:
    """Hand a call back to the queue after a retryable provider error; another try may take it
    once `retry_in` seconds have passed."""
    Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, provider_call_id="").update(
        placing_at=None, not_before=timezone.now() + timedelta(seconds=retry_in)
    )


class PlacementLost(DomainError):
    """The call was handed to another worker (its first worker looked dead): do not send it."""


def call_confirm_placing(call: Call) -> None:
    """Right before a request leaves for the provider: prove this worker still owns the call's
    placement, and stamp it afresh. Raises PlacementLost if it was handed back meanwhile.

    The stamp and the hand-back (call_release_stalled) are conditional updates of the same row,
    so exactly one of them wins: a call is never sent by two workers.
    """
    stamp = timezone.now()
    owned = Call.objects.filter(
        pk=call.pk, status=CallStatus.QUEUED, provider_call_id="", placing_at=call.placing_at
    ).update(placing_at=stamp)
    if not owned:
        raise PlacementLost(f"call {call.pk} was handed to another worker")
    call.placing_at = stamp


def call_release_stalled(*, taken_before: datetime) -> int:
    """Hand back calls a worker took for placement and never sent (it died first).

    Only calls with no request on their log: one that may have reached the provider is left
    to its callbacks and the reaper. Returns how many were handed back.
    """
    return (
        Call.objects.filter(status=CallStatus.QUEUED, provider_call_id="", placing_at__lt=taken_before)
        .exclude(log__kind=CallLogKind.REQUEST)
        .update(placing_at=None)
    )


def call_fail(*, call: Call, ended_reason: str, detail: str) -> None:
    """End a call that could not be placed; goes through record_call_event like any outcome."""
    event = CallEvent(
        kind="dialer", status=CallStatus.ENDED, call_id=str(call.pk), ended_reason=ended_reason, raw=detail
    )
    record_call_event(account=call.provider_account, event=event)


@transaction.atomic
def call_withdraw(*, call: Call, decision: Decision, next_attempt_at: datetime) -> None:
    """Take back a queued call that is no longer allowed (checked again right before placing).

    The call never left us, so it is deleted and the attempt is not counted; the
    customer waits or is skipped with the engine's reason.
    """
    deleted, _ = Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, provider_call_id="").delete()
    if not deleted:
        return
    final = decision.action == "skip"
    Customer.objects.filter(pk=call.customer_id).update(
        state=CustomerState.SKIPPED if final else CustomerState.PENDING,
        attempts=F("attempts") - 1,
        reason=decision.reason or "",
        reason_detail=decision.detail[:200],
        next_attempt_at=next_attempt_at,
    )
    move_counters(call.campaign_id, calls_queued=-1, customers_final=int(final))
