"""Placement ownership: which worker may send a call, and the last gate every call passes.

A batch of queued calls goes to the provider in three steps (dialer.placement runs them):

1. `take`: one conditional UPDATE stamps `placing_at` on the calls still queued, untaken and
   never confirmed, skipping rows another transaction holds; a call is won by exactly one
   worker, so a batch run twice, or two batches sharing calls, take each call once.
2. `confirm_at_gate`: the last gate, immediately before the requests leave. In one
   transaction, under the house lock order (campaigns.services.tx): the organizations' rows,
   then the campaigns' rows (KEY SHARE: an end, a pause or a strategy edit that has committed
   is seen; one that comes later waits for this gate), then the clock is read and every call
   is decided again by the engine at that real instant, on fresh data: campaign status and
   schedule, the organization-wide stop, the do-not-call list (canonical numbers), the
   attempt budget, the calling hours and every callee zone's window, and its caller ID (read
   FOR SHARE: still enabled and not rested; a disable or a rest waits for the gate in progress
   and every later gate sees it); a call the gate lets
   through is still refused when its pre-dial check refused it (dialer.predial). Refused calls
   are withdrawn with the right reason (services.calls_withdraw). The others are stamped
   `confirmed_at` and their requests logged, provided this worker still owns them (a stalled
   worker's call may have been handed to another). Only confirmed calls may be sent.
3. `store_answers`: the providers' answers on the calls' logs and the accepted calls' provider
   ids, in one statement on PostgreSQL.

So once an end, a pause, an organization stop or a do-not-call addition has committed, no
call passes the gate; what may still reach a provider afterwards is what a worker had already
confirmed and is sending: one batch per worker, sent within milliseconds of its gate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import connection, transaction

from campaigns import clock, selectors, services
from campaigns.models import (
    Call,
    CallLog,
    CallLogKind,
    CallStatus,
    Campaign,
    Customer,
    CustomerState,
    DoNotCall,
    PhoneNumber,
    ProviderAccount,
)
from campaigns.rules import caller_ids, engine
from campaigns.rules.policy import CAMPAIGN_FIELDS, campaign_policy, customer_facts
from campaigns.services.tx import lock_campaigns, lock_customers, lock_organizations, retry_on_conflict

# A request as logged: (call, summary, body).
Request = tuple[Call, str, str]
# A row of a call's log: (call, kind, summary, http status, body).
LogRow = tuple[Call, str, str, int | None, str]


def take(call_ids: Iterable[object]) -> list[Call]:
    """Step 1: claim the queued, untaken, unconfirmed calls of `call_ids` for this worker.

    Returns the calls won, each loaded with what placing needs (customer, campaign and its
    organization, caller ID, provider account), in the order of `call_ids`.
    """
    call_ids = list(call_ids)
    if not call_ids:
        return []
    won = _stamp_taken(call_ids, clock.now())
    if not won:
        return []
    calls = list(Call.objects.select_related("customer").filter(pk__in=won))
    # The calls of a batch share their campaign, caller ID and provider account: each is read
    # once here rather than joined (and parsed) once per call.
    read = Campaign.objects.in_bulk({c.campaign_id for c in calls}).values()
    campaigns = {campaign.pk: campaign for campaign in selectors.with_organizations(read)}
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


def _stamp_taken(call_ids: list, stamp: datetime) -> list[uuid.UUID]:
    """UPDATE ... RETURNING: the ids this statement itself moved to taken. On PostgreSQL the rows
    are chosen FOR UPDATE SKIP LOCKED, so a take never waits on (or deadlocks with) an end
    deleting the same calls: it leaves them to it."""
    pk, placing_at = Call._meta.pk, Call._meta.get_field("placing_at")
    ids = [pk.get_db_prep_value(pk.to_python(i), connection) for i in call_ids]
    table, (named, params) = Call._meta.db_table, _ids_in(ids)
    free = f"{named} AND status = %s AND placing_at IS NULL AND confirmed_at IS NULL"
    params = [*params, CallStatus.QUEUED]
    if connection.vendor == "postgresql":
        free = f"id IN (SELECT id FROM {table} WHERE {free} FOR UPDATE SKIP LOCKED)"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET placing_at = %s WHERE {free} RETURNING id",
            [placing_at.get_db_prep_value(stamp, connection), *params],
        )
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


@retry_on_conflict
def confirm_at_gate(
    requests: list[Request],
    *,
    refused_before: Mapping[object, engine.Decision] | None = None,
    notes: Mapping[object, list[LogRow]] | None = None,
) -> list[Call]:
    """Step 2, the last gate (see the module docstring). Returns the calls that passed it and
    that this worker still owns: the only ones whose requests may leave.

    `refused_before`: refusals decided before the gate (the pre-dial check, dialer.predial), by call id;
    a call the gate itself refuses keeps the gate's reason. `notes`: log rows (the pre-dial
    exchange) written before the request of each call that passes."""
    refused_before, notes = refused_before or {}, notes or {}
    calls = [call for call, _, _ in requests if call.placing_at is not None]
    if not calls:
        return []
    # KEY SHARE: an organization-wide stop (FOR UPDATE) that has committed is seen by the
    # campaign read that follows; one in progress is waited for.
    lock_organizations({call.organization_id for call in calls}, "key_share")
    lock_campaigns({call.campaign_id for call in calls}, "key_share")
    campaigns = _decided_from(calls)
    now = clock.now()  # after the locks: the instant the calls leave
    # The quota counts calls stamped before this one: read after the locks, like the stop.
    spent = selectors.quota_refuses_calls(
        list({c.organization_id: c.organization for c in campaigns.values()}.values()), now
    )
    policies = {
        pk: campaign_policy(campaign, quota_spent=campaign.organization_id in spent)
        for pk, campaign in campaigns.items()
    }
    blocked = _on_do_not_call(calls)
    unusable = _unusable_caller_ids(calls)
    allowed, refused = [], []
    for call in calls:
        call.campaign = campaigns[call.campaign_id]
        facts = customer_facts(
            call.customer, do_not_call=call.customer.number in blocked[call.organization_id]
        )
        # The call counts as the attempt it is: the budget allows it if the attempts before it
        # leave room; a retry delay does not hold back a call already queued.
        facts = replace(facts, attempts=call.attempt - 1, next_attempt_at=None)
        decision = engine.eligibility(facts, policies[call.campaign_id], now)
        if decision.action is engine.Action.DIAL and call.phone_number_id in unusable:
            decision = engine.Decision(
                engine.Action.WAIT,
                engine.Reason.NO_CALLER_ID,
                until=now + timedelta(seconds=caller_ids.WAIT_SECONDS),
                detail=f"caller ID {unusable[call.phone_number_id]} was disabled or rested before it left",
            )
        if decision.action is engine.Action.DIAL and call.pk in refused_before:
            decision = refused_before[call.pk]
        if decision.action is engine.Action.DIAL:
            allowed.append(call)
        else:
            refused.append((call, decision))
    services.calls_withdraw(refusals=refused, now=now)
    owned = set(_stamp_confirmed(allowed, now))
    confirmed = [call for call in allowed if call.pk in owned]
    logged = {call.pk: (summary, body) for call, summary, body in requests}
    rows = [row for c in confirmed for row in notes.get(c.pk, ())]  # before the requests: in order
    _insert_logs(rows + [(c, CallLogKind.REQUEST, logged[c.pk][0], None, logged[c.pk][1]) for c in confirmed])
    for call in confirmed:
        call.placing_at = call.confirmed_at = now
    for campaign_id in {call.campaign_id for call in confirmed}:  # Vapi's contact.dispatched
        ours = [{"contactId": str(call.customer_id)} for call in confirmed if call.campaign_id == campaign_id]
        services.events_emit(
            campaign=campaigns[campaign_id], event_type="contact.dispatched", items=ours, at=now
        )
    return confirmed


def _decided_from(calls: list[Call]) -> dict:
    """The calls' campaigns as the gate decides from them, read after its locks: what their
    policy reads (rules.policy.CAMPAIGN_FIELDS: status, schedule, hours, budget) and their
    organizations, read again onto the rows `take` loaded (the rest of a row, its request's
    settings, went into the request already); a campaign not loaded is read whole."""
    loaded = {call.campaign_id: call.campaign for call in calls if Call.campaign.is_cached(call)}
    fresh = selectors.campaigns_read_again(loaded, CAMPAIGN_FIELDS) if loaded else {}
    if missing := {call.campaign_id for call in calls} - loaded.keys():
        fresh |= Campaign.objects.in_bulk(missing)  # read after the locks too
    return {campaign.pk: campaign for campaign in selectors.with_organizations(fresh.values())}


def _unusable_caller_ids(calls: list[Call]) -> dict[object, str]:
    """The calls' caller IDs that are disabled, rested or retired now (id -> number), read under
    FOR SHARE on PostgreSQL: a disable or rest that has committed is seen, one in progress waits
    for this gate (the UPDATE's row lock conflicts with the share lock)."""
    ids = sorted({call.phone_number_id for call in calls}, key=str)
    rows = PhoneNumber.objects.filter(pk__in=ids).order_by("pk")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {PhoneNumber._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR SHARE",
                [ids],
            )
    return {
        pk: number
        for pk, number, disabled, rested_at, deleted_at in rows.values_list(
            "pk", "number", "disabled", "rested_at", "deleted_at"
        )
        if disabled or rested_at is not None or deleted_at is not None
    }


def _on_do_not_call(calls: list[Call]) -> dict[object, set[str]]:
    """Per organization, which of these calls' numbers are on its do-not-call list now."""
    found: dict[object, set[str]] = {call.organization_id: set() for call in calls}
    numbers = {call.customer.number for call in calls if call.customer.number}
    if numbers:
        rows = DoNotCall.objects.filter(organization_id__in=found.keys(), number__in=numbers)
        for organization_id, number in rows.values_list("organization_id", "number"):
            found[organization_id].add(number)
    return found


def _stamp_confirmed(calls: list[Call], stamp: datetime) -> list[uuid.UUID]:
    """Stamp the calls this worker still owns (`placing_at` as it took them, still queued, never
    confirmed) as confirmed; returns their ids. The stamp and a hand-back of a stalled call
    (services.call_release_stalled) are conditional updates of the same row, so exactly one wins:
    a call is never sent by two workers."""
    if not calls:
        return []
    pk, at = Call._meta.pk, Call._meta.get_field("placing_at")
    # The calls of one take share its stamp: one list of ids per stamp, not one OR per call
    # (fifty ORs cost more to parse and plan than the update costs to run).
    by_stamp: dict[datetime, list] = {}
    for call in calls:
        by_stamp.setdefault(call.placing_at, []).append(pk.get_db_prep_value(call.pk, connection))
    owned, params = [], []
    for taken, ids in by_stamp.items():
        named, values = _ids_in(ids)
        owned.append(f"({named} AND placing_at = %s)")
        params += [*values, at.get_db_prep_value(taken, connection)]
    now = at.get_db_prep_value(stamp, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Call._meta.db_table} SET placing_at = %s, confirmed_at = %s"
            f" WHERE ({' OR '.join(owned)}) AND status = %s AND confirmed_at IS NULL RETURNING id",
            [now, now, *params, CallStatus.QUEUED],
        )
        return [pk.to_python(row[0]) for row in cursor.fetchall()]


def _ids_in(ids: list) -> tuple[str, list]:
    """`id` among `ids` (database values), as SQL and its parameters. On PostgreSQL one array
    (`id = ANY(%s)`): the same statement text for any number of ids, and the primary key is the
    plan whatever the statistics say (with an IN list and the statistics of an empty table, the
    planner once nested the take's subquery in a loop over the queued calls: 1.1 s for 50)."""
    if connection.vendor == "postgresql":
        return "id = ANY(%s)", [ids]
    return f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)


def store_answers(
    *, answers: list[tuple[Call, str, int | None, str]], placed: list[tuple[Call, str]]
) -> None:
    """Step 3: a batch's answers, in one commit: each answer on its call's log (`answers` are
    (call, summary, http status, body)), and the calls the provider accepted (`placed` are
    (call, provider call id)) stamped placed, their customers dialing."""
    if not (answers or placed):
        return
    if connection.vendor == "postgresql":
        with transaction.atomic():
            # The house lock order: customers before their calls (the recorder takes a batch's
            # customers, then its calls; the other way round the two deadlock).
            lock_customers(call.customer_id for call, _ in placed)
            _answer_in_one_statement(answers, placed)
        return
    with transaction.atomic():
        _insert_logs([(call, CallLogKind.RESPONSE, *answer) for call, *answer in answers])
        if placed:
            accepted, update, params = _placed_update(placed)
            with connection.cursor() as cursor:
                cursor.execute(f"WITH {accepted} {update}", params)
            customers = [call.customer_id for call, _ in placed]
            Customer.objects.filter(pk__in=customers, state=CustomerState.QUEUED).update(
                state=CustomerState.DIALING
            )


def _placed_update(placed: list[tuple[Call, str]]) -> tuple[str, str, list]:
    """The accepted calls' UPDATE, as (the `accepted` CTE, the UPDATE joined to it, parameters):
    placed now, with the provider's id unless a callback told us the id first (that one stays)."""
    pk, at = Call._meta.pk, Call._meta.get_field("placed_at")
    pairs = [v for call, pid in placed for v in (pk.get_db_prep_value(call.pk, connection), pid)]
    table = Call._meta.db_table
    accepted = f"accepted (id, pid) AS (VALUES {_values(len(placed), 2, casts=_uuid_cast())})"
    update = (
        f"UPDATE {table} SET placed_at = %s, provider_call_id ="
        f" CASE WHEN {table}.provider_call_id = '' THEN accepted.pid ELSE {table}.provider_call_id END"
        f" FROM accepted WHERE {table}.id = accepted.id"
    )
    return accepted, update, [*pairs, at.get_db_prep_value(clock.now(), connection)]


def _answer_in_one_statement(
    answers: list[tuple[Call, str, int | None, str]], placed: list[tuple[Call, str]]
) -> None:
    """PostgreSQL: store_answers in one statement (one round trip, after the customers' lock)."""
    parts, params, tail = [], [], "SELECT 1"
    if answers:
        sql, params = _log_insert([(call, CallLogKind.RESPONSE, *answer) for call, *answer in answers])
        parts.append(f"logged AS ({sql})")
    if placed:
        accepted, update, placed_params = _placed_update(placed)
        parts += [accepted, f"placed AS ({update})"]
        params += placed_params
        # The customers by their ids, not through `placed`: the planner cannot see how few rows a
        # data-modifying CTE returns, and with statistics that saw no queued customer yet (a
        # campaign's first minutes) it scanned every customer of the table once per call placed.
        tail = f"UPDATE {Customer._meta.db_table} SET state = %s WHERE id = ANY(%s) AND state = %s"
        customers = sorted({call.customer_id for call, _ in placed})
        params += [CustomerState.DIALING, customers, CustomerState.QUEUED]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {tail}", params)


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
    now = at.get_db_prep_value(clock.now(), connection)
    params = []
    for call, kind, summary, status, body in rows:
        params += [pk.get_db_prep_value(call.pk, connection), kind, summary[:200], status]
        params += [CallLog.truncate(body), now]
    columns = "(call_id, kind, summary, http_status, body, created_at)"
    return f"INSERT INTO {CallLog._meta.db_table} {columns} VALUES {_values(len(rows), 6)}", params


def _uuid_cast() -> tuple[str, ...]:
    return ("::uuid",) if connection.vendor == "postgresql" else ()


def _values(count: int, width: int, *, casts: tuple[str, ...] = ()) -> str:
    """Placeholders of a VALUES list of `count` rows of `width` columns. In a WITH list the
    columns take their types from the first row, so `casts` ("::uuid", "") are put there."""
    first = ", ".join(f"%s{cast}" for cast in casts + ("",) * (width - len(casts)))
    return ", ".join([f"({first})"] + [f"({', '.join(['%s'] * width)})"] * (count - 1))
