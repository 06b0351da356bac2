"""Provider callbacks, in two halves.

1. `provider_webhook` (the HTTP endpoint, /webhooks/<kind>/<token>): find the account by its
   unguessable token (and its kind), let its provider authenticate and parse the request, store
   the events, answer. Storing is one insert, so a burst of callbacks never waits on the rows it
   will change. `provider_webhook_legacy` (/webhooks/vapi/<token>, what every account was given
   before each kind had its own path) does the same for an account of any kind.
2. `record_received_events` (a worker, every half second): hand the stored events, in arrival
   order, to `services.record_call_events`, the only writer of outcomes, a batch per transaction.

An inbound call (Vapi's `assistant-request`, Twilio's incoming-call webhook) is answered in
the request, as services.inbound_call_receive decides (the provider waits for the answer): the
same address, authenticated the same way.

Answers: 200 `{"received": n}` (also for events about calls we do not know, so providers stop
retrying); the provider's refusal status (401, 413, 400) with a short error; 404 for an unknown
token, or a kind that is not the account's; 405 for anything but POST. Never logs secrets, phone
numbers or bodies.
"""

from __future__ import annotations

import functools
import logging
import time
import weakref

import orjson
import psycopg
import psycopg.errors
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection, connections, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from psycopg import pq

from campaigns import services
from campaigns.models import ProviderAccount
from campaigns.services.inputs import CallEvent
from config.celery import app as celery_app
from dialer.models import WebhookEvent
from dialer.providers import simulated
from dialer.providers.base import InboundCall, Provider, Received, WebhookRejected, provider_for

log = logging.getLogger(__name__)


# token -> (account, read at): a few seconds of caching spares a query on every callback.
_ACCOUNTS: dict[str, tuple[ProviderAccount, float]] = {}
ACCOUNT_CACHE_SECONDS = 10.0
# Stored events recorded per transaction.
BATCH = 500
FOLLOW_UP_TASK = "dialer.tasks.provider_follow_up"

# The sizes (rows per callback) whose inbox insert each connection has prepared, up to
# PREPARED_SIZES (a callback carries one event or message, or a few); larger ones go unprepared.
PREPARED_SIZES = 8
IDLE = pq.TransactionStatus.IDLE
SQLSTATE = pq.DiagnosticField.SQLSTATE
UNDEFINED_STATEMENT = psycopg.errors.InvalidSqlStatementName.sqlstate.encode()  # 26000
FLAG = {True: b"t", False: b"f"}  # a boolean parameter in PostgreSQL's text form
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection, set[int]] = weakref.WeakKeyDictionary()


def _account(token: str) -> ProviderAccount | None:
    cached = _ACCOUNTS.get(token)
    if cached and time.monotonic() - cached[1] < ACCOUNT_CACHE_SECONDS:
        return cached[0]
    account = ProviderAccount.objects.filter(webhook_token=token, deleted_at__isnull=True).first()
    if account is not None:
        if len(_ACCOUNTS) > 1000:
            _ACCOUNTS.clear()
        _ACCOUNTS[token] = (account, time.monotonic())
    return account


@csrf_exempt
@require_POST
def provider_webhook(request: HttpRequest, kind: str, token: str) -> HttpResponse:
    """An account's own address: its token under its own kind; any other kind is no address."""
    account = _account(token)
    if account is None or account.kind != kind:
        return _unknown()
    return _receive(request, account)


@csrf_exempt
@require_POST
def provider_webhook_legacy(request: HttpRequest, token: str) -> HttpResponse:
    """/webhooks/vapi/<token>: the address of every account, whatever its kind, as first given."""
    account = _account(token)
    if account is None:
        return _unknown()
    return _receive(request, account)


def _unknown() -> JsonResponse:
    return JsonResponse({"error": "unknown webhook address"}, status=404)


def _receive(request: HttpRequest, account: ProviderAccount) -> HttpResponse:
    provider = provider_for(account)
    try:
        if (inbound := provider.parse_inbound(request)) is not None:
            return _answer_inbound(provider, account, inbound)
        accepted = provider.accept_webhook(request)
    except WebhookRejected as exc:
        log.warning("webhook refused for provider account %s: %s (%s)", account.pk, exc, exc.status)
        return JsonResponse({"error": str(exc)}, status=exc.status)
    if accepted:
        _store(account, accepted)
    for job in provider.follow_ups([item for item in accepted if isinstance(item, CallEvent)]):
        # By name (tasks are the layer above), on the project's app (a web thread has no current
        # app of its own): a worker makes the request, never this web process.
        celery_app.send_task(FOLLOW_UP_TASK, args=[str(account.pk), job])
    return HttpResponse(b'{"received": %d}' % len(accepted), content_type="application/json")


def _answer_inbound(provider: Provider, account: ProviderAccount, inbound: InboundCall) -> HttpResponse:
    """An inbound call, answered in the request (the provider waits for the answer): recognised,
    decided and stored by services.inbound_call_receive, answered in the provider's terms."""
    result = services.inbound_call_receive(
        account=account,
        caller=inbound.caller,
        called=inbound.called,
        called_id=inbound.called_id,
        provider_call_id=inbound.provider_call_id,
        raw=inbound.raw,
    )
    log.info("inbound call on provider account %s: %s", account.pk, result.answer.reason)
    body, content_type = provider.inbound_answer(result)
    return HttpResponse(body, content_type=content_type)


def _store(account: ProviderAccount, accepted: list[CallEvent | Received]) -> None:
    """Store what a callback gave (its events, or its messages as received) in one statement, on
    any database.

    On PostgreSQL that statement is its own transaction, and its commit does not wait for the
    WAL flush (asynchronous commit, set for this transaction only): only a crash of the database
    server itself could lose the last instants of accepted events, and the reaper reconciles
    those calls with the provider. One round trip instead of four (BEGIN, SET, INSERT, COMMIT),
    and no disk flush: what lets a 2-worker server take ~2,600 callbacks a second.
    """
    rows = [(item.text, True) if isinstance(item, Received) else (_payload(item), False) for item in accepted]
    db = connections[DEFAULT_DB_ALIAS]  # once: each `connection.x` goes through a proxy
    if db.vendor != "postgresql":
        # SQLite: one INSERT, its own transaction in autocommit (the ORM's bulk_create compiled
        # the statement and wrapped it in BEGIN ... COMMIT each time: a third of the request).
        at = db.ops.adapt_datetimefield_value(timezone.now())
        owner = WebhookEvent._meta.get_field("account").get_db_prep_value(account.pk, db)
        params = [value for payload, as_received in rows for value in (owner, payload, at, as_received)]
        with db.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {WebhookEvent._meta.db_table} (account_id, payload, received_at, as_received)"
                " VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(rows)),
                params,
            )
        return
    owner = str(account.pk).encode()
    params = [value for text, as_received in rows for value in (owner, text.encode(), FLAG[as_received])]
    db.ensure_connection()
    conn = db.connection
    # Sent through libpq itself (psycopg's PGconn), prepared once per connection and size
    # (settings: DATABASE_PREPARED_STATEMENTS): Django's cursors bind parameters client-side, so
    # the server would parse and plan the insert on every callback, and psycopg's own cursor
    # spent 85 of a callback's 440 us of CPU in this process adapting two strings and looking
    # up its statement (measured through the WSGI handler). Its errors are psycopg's, raised
    # inside Django's wrapper as a cursor's would be: they are Django's, and one that broke the
    # connection has it dropped when the request ends, not kept for the next callbacks.
    with db.wrap_database_errors:
        pgconn, size = conn.pgconn, len(rows)
        if conn.prepare_threshold is None or size > PREPARED_SIZES or pgconn.transaction_status != IDLE:
            # Unprepared: behind a pooler that cannot keep prepared statements, for a rare size,
            # or inside a caller's transaction (where a failed statement could not be sent again).
            _raise_for(pgconn.exec_params(_inbox_insert(size), params), conn)
            return
        sizes = _PREPARED.setdefault(conn, set())
        name = b"dialdeck_inbox_insert_%d" % size
        if size not in sizes:
            _raise_for(pgconn.prepare(name, _inbox_insert(size)), conn)
            sizes.add(size)
        result = pgconn.exec_prepared(name, params)
        if result.error_field(SQLSTATE) == UNDEFINED_STATEMENT:
            # Deallocated behind our back (a pooler's DISCARD ALL; psycopg's DEALLOCATE ALL after
            # a rollback of its own prepared statements): nothing ran; prepare it again, once.
            _raise_for(pgconn.prepare(name, _inbox_insert(size)), conn)
            result = pgconn.exec_prepared(name, params)
        _raise_for(result, conn)


@functools.lru_cache(maxsize=64)
def _inbox_insert(size: int) -> bytes:
    """The insert of `size` rows in libpq's terms ($n parameters, in text, typed here)."""
    owner = WebhookEvent._meta.get_field("account").target_field.db_type(connection)
    rows = ", ".join(f"(${n + 1}::{owner}, ${n + 2}::text, ${n + 3}::boolean)" for n in range(0, 3 * size, 3))
    return (
        f"INSERT INTO {WebhookEvent._meta.db_table} (account_id, payload, as_received, received_at)"
        " SELECT event.account_id, event.payload, event.as_received, now()"
        f" FROM (VALUES {rows}) AS event (account_id, payload, as_received),"
        " (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit"
    ).encode()


def _raise_for(result: pq.abc.PGresult, conn: psycopg.Connection) -> None:
    """Raise what psycopg's cursor would have raised for this libpq result, if it failed."""
    if result.status == pq.ExecStatus.COMMAND_OK:
        return
    if conn.pgconn.status == pq.ConnStatus.BAD:
        message = conn.pgconn.error_message.decode("utf-8", "replace").strip()
        raise psycopg.OperationalError(f"the connection is lost: {message}")
    raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)


def _payload(event: CallEvent) -> str:
    """The event as the inbox keeps it; one holding JSON that orjson cannot write (an analysis
    nested deeper than 254 levels, say) is kept without it, as the recorder would record it
    (services.sane_event), rather than refused with a 500 on every retry."""
    try:
        return orjson.dumps(event.to_json()).decode()
    except TypeError:
        return orjson.dumps(services.sane_event(event, timezone.now()).to_json()).decode()


def record_received_events(*, limit: int = BATCH) -> int:
    """Record the webhook events the endpoint stored, oldest first, each once. Returns how many."""
    return record_stored_events(WebhookEvent.objects.order_by("id"), limit=limit)


def record_stored_events(rows: QuerySet, *, limit: int = BATCH) -> int:
    """Record stored provider events (rows with `account` and a CallEvent `payload`), each once.

    1. claim up to `limit` rows (SKIP LOCKED on PostgreSQL, so several workers share the work);
    2. record them, in arrival order, through services.record_call_events in one transaction
       (which locks their campaigns, customers and calls in the house order, each in id order,
       so two batches cannot deadlock);
    3. delete the claimed rows in that same transaction, so a crash records nothing twice and
       loses nothing.
    If anything in the batch fails, it is rolled back and done again event by event, each in a
    savepoint: an event that cannot be recorded is logged and dropped, never blocking the rest;
    one that met a passing database condition (a deadlock, a lock wait timeout) stays for the
    next run. Returns how many rows were handled.
    """
    try:
        return _record_batch(rows, limit, one_by_one=False)
    except Exception:  # noqa: BLE001 - any failure: the slow path isolates the culprit
        log.warning("a batch of %s rows failed; recording them one by one", rows.model.__name__)
        return _record_batch(rows, limit, one_by_one=True)


def _record_batch(rows: QuerySet, limit: int, *, one_by_one: bool) -> int:
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    unknown, kept = 0, set()
    with transaction.atomic():
        batch = list(rows[:limit])  # 1.
        # Each account read (and its credentials decrypted) once per batch, not once per event.
        accounts = ProviderAccount.objects.in_bulk({row.account_id for row in batch})
        for row in batch:
            row.account = accounts[row.account_id]
        if not one_by_one:  # 2., all at once: any row that is not an event fails the batch
            read = [_events(row) for row in batch]
            if None in read:
                raise ValueError("a stored row is not a provider event")
            unknown = _record([pair for pairs in read for pair in pairs])
        for row in batch if one_by_one else ():
            try:
                with transaction.atomic():
                    unknown += _record(_read(row))
            except OperationalError as exc:  # passing: kept for the next run, never lost
                log.warning("kept %s %s for a later try: %s", rows.model.__name__, row.pk, type(exc).__name__)
                kept.add(row.pk)
            except Exception:  # noqa: BLE001 - one malformed event must not stop the rest
                log.exception("dropped %s %s that could not be recorded", rows.model.__name__, row.pk)
        rows.model.objects.filter(pk__in=[row.pk for row in batch if row.pk not in kept]).delete()  # 3.
    if unknown:
        log.info("%d of %d events named no call of ours", unknown, len(batch))
    return len(batch) - len(kept)


def _record(events: list[tuple[ProviderAccount, CallEvent]]) -> int:
    """Record (account, event) pairs, in order; returns how many named no call of ours."""
    # The simulated provider's callees calling back are inbound calls, not call events.
    callbacks = [e for e in events if e[1].kind == simulated.CALLBACK]
    events = [e for e in events if e[1].kind != simulated.CALLBACK]
    unknown = services.record_call_events(events).count(None) if events else 0
    return unknown + sum(simulated.simulated_callback(*e) is None for e in callbacks)


def _events(row: WebhookEvent) -> list[tuple[ProviderAccount, CallEvent]] | None:
    """The row's (account, event) pairs, or None when its payload is not what it says it is
    (recorded, and dropped, one by one later)."""
    try:
        return _read(row)
    except (ValueError, TypeError, LookupError, AttributeError, OverflowError, RecursionError):
        return None


def _read(row: WebhookEvent) -> list[tuple[ProviderAccount, CallEvent]]:
    """A stored CallEvent (JSON text, or a dict: the simulated provider's rows), or a message
    kept as received, read by the account's provider."""
    if getattr(row, "as_received", False):
        return [(row.account, event) for event in provider_for(row.account).stored_events(row.payload)]
    payload = row.payload if isinstance(row.payload, dict) else orjson.loads(row.payload)  # inbox: text
    return [(row.account, CallEvent.from_json(payload))]
