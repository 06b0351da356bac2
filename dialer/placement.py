"""Taking queued calls to their provider, and closing the ones it forgot.

Placing a batch (numbered; each step is safe to repeat), one path for every provider:
1. take the calls: a conditional UPDATE that only one worker can win (dialer.claims.take);
2. build each request (nothing leaves yet); a request that cannot be built (overrides that
   would hide our callbacks) ends its call at once, nothing sent;
3. the pre-dial check (dialer.predial), for calls whose campaign has a predialPlan: each
   contact is asked about at its campaign's server, from threads, the whole batch at once;
   the calls come back in turns (those that need no check at once, then each campaign's as
   soon as its server has answered or its timeout passed), and steps 4-6 run for each turn;
4. pass the last gate (dialer.claims.confirm_at_gate): in one transaction, under lock, each
   call is decided again at the real current time (campaign status, organization stop,
   do-not-call, attempt budget, calling hours, every callee zone), and then by its pre-dial
   answer; refused calls are withdrawn with their reason, and the others are confirmed and
   their requests logged (after the pre-dial exchange), if this worker still owns them;
5. send the confirmed requests (HTTP providers: all at once through the providers' transport,
   dialer.providers.transport, which touches no database), then store the answers and
   provider ids in one commit (dialer.claims);
6. after a provider error: hand the call back for a later try (retryable errors, with
   backoff; it passes the gate again), or end it with the provider's reason; when the request
   may have reached the provider (read timeout), do neither: its callbacks (which carry our
   call id) or the reaper settle it, so nobody is rung twice.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Min

from campaigns import clock, services
from campaigns.models import Call, CallLog, CallLogKind, CallStatus
from dialer import claims, predial
from dialer.models import SimulatedEvent
from dialer.providers.base import HttpProvider, Provider, ProviderError, provider_for, send_all
from dialer.webhooks import record_stored_events

log = logging.getLogger(__name__)

BATCH = 50
MAX_TRIES = 5
REAPED_REASON = "call.dialdeck.no-outcome-from-provider"
MIN_RING_PLUS_DURATION = 15 + 10  # the smallest max_ring_seconds + max_duration_seconds allowed
# A worker that took a call this long past the provider timeout without confirming it is gone.
# (It covers the longest pre-dial check, predial.MAX_TIMEOUT; a call handed back while a slow
# batch still waits is harmless: that worker's gate finds it no longer its own.)
STALL_MARGIN_SECONDS = 30
# A call whose pre-dial check found no free thread in time is tried again this much later.
UNASKED_RETRY_SECONDS = 1.0


def recorder(call: Call):
    """Stores a provider exchange (a status poll) on the call's log."""

    def record(kind: str, summary: str, *, http_status: int | None = None, body: str | bytes = "") -> None:
        services.call_log(call, kind, summary, http_status=http_status, body=body)

    return record


def backoff(tries: int) -> float:
    return min(300.0, 2.0**tries)


def place_many(call_ids: list[str]) -> list[tuple[str, float | None]]:
    """Place the calls of a batch (steps 1-6 of the module docstring). Running a batch twice, or
    two batches sharing calls, places each call once. Returns (call id, retry in) pairs: seconds
    after which to try a call again, or None when done with it."""
    providers: dict[object, Provider] = {}
    taken, exchanges, unsendable = [], {}, []
    for call in claims.take(call_ids):  # 1.
        provider = providers.get(call.provider_account_id) or provider_for(call.provider_account)
        providers[call.provider_account_id] = provider
        if isinstance(provider, HttpProvider):  # 2.
            exchange = provider.prepare_call(call)
            if exchange.error is not None:
                unsendable.append((call, exchange.error))
                continue
            exchanges[call.pk] = exchange
        taken.append(call)
    retry: dict[str, float | None] = {}
    for turn in predial.in_turn(taken):  # 3.
        retry |= _place(turn, providers, exchanges)
    for call, exc in unsendable:  # ended with the reason, the why on its log (services.call_fail)
        retry[str(call.pk)] = _after_error(call, exc)
    return [(call_id, retry.get(str(call_id))) for call_id in call_ids]


def _place(turn: predial.Turn, providers: dict[object, Provider], exchanges: dict) -> dict[str, float | None]:
    """Steps 4-6 for one turn of a batch; returns the retry delays of its calls, by call id."""
    requests = [
        (call, exchanges[call.pk].request_summary, exchanges[call.pk].logged_body)
        if call.pk in exchanges
        else (call, f"place call ({call.provider_account.kind})", "")
        for call in turn.calls
    ]
    confirmed = claims.confirm_at_gate(requests, refused_before=turn.refused, notes=turn.notes)  # 4.
    sending = [
        (providers[call.provider_account_id], exchanges[call.pk])
        for call in confirmed
        if call.pk in exchanges
    ]
    send_all(sending)  # 5.
    placed, failed, answers = [], [], []
    for provider, exchange in sending:
        try:
            placed.append((exchange.call, provider.accepted(exchange)))
        except ProviderError as exc:
            failed.append((exchange.call, exc))
        answers.append((exchange.call, exchange.summary, exchange.status, exchange.answer_text))
    for call in confirmed:
        if call.pk not in exchanges:  # a provider without HTTP (simulated): placed here, in order
            try:
                placed.append((call, providers[call.provider_account_id].place_call(call)))
            except ProviderError as exc:
                failed.append((call, exc))
    claims.store_answers(answers=answers, placed=placed)
    retry = {str(call.pk): _after_error(call, exc) for call, exc in failed}  # 6.
    for call in turn.unasked:  # no thread was free to ask its server in time: not its fault
        services.call_release(call, retry_in=UNASKED_RETRY_SECONDS, unconfirmed=True)
        retry[str(call.pk)] = UNASKED_RETRY_SECONDS
    return retry


def _after_error(call: Call, exc: ProviderError) -> float | None:
    """Step 6 when the provider refused or never answered: wait for its callbacks (the request
    may have reached it), hand the call back for a later try, or end it with the reason."""
    if exc.outcome_unknown:
        services.call_log(call, CallLogKind.NOTE, "outcome unknown: waiting for the provider's callbacks")
        return None
    tries = CallLog.objects.filter(call=call, kind=CallLogKind.REQUEST).count()
    if exc.retryable and tries < MAX_TRIES:
        delay = exc.retry_after or backoff(tries)
        services.call_release(call, retry_in=delay)
        return delay
    services.call_fail(call=call, ended_reason=exc.ended_reason, detail=str(exc))
    return None


def _overdue(call: Call, cutoff: datetime) -> bool:
    """Live, and past ring time + max duration since it left for the provider, before `cutoff`.

    The clock starts when a worker took the call (or the provider accepted it), not when it was
    queued: a call re-sent or retried may reach the provider long after, and is not overdue while
    it rings and talks.
    """
    began = call.placed_at or call.placing_at or call.created_at
    limit = timedelta(seconds=call.campaign.max_ring_seconds + call.campaign.max_duration_seconds)
    return call.status != CallStatus.ENDED and began + limit < cutoff


def _each_request_refused(call: Call) -> bool:
    """Every request of the call was answered with a refusal (4xx/5xx): none was taken."""
    requests = call.log.filter(kind=CallLogKind.REQUEST).count()
    refused = call.log.filter(kind=CallLogKind.RESPONSE, http_status__gte=400).count()
    return requests > 0 and refused >= requests


def _never_left(call: Call) -> bool:
    """No provider id, and never confirmed at the gate (so no request of it may have reached the
    provider: refused requests hand the call back unconfirmed, services.call_release)."""
    return not call.provider_call_id and call.confirmed_at is None


def reap_stale_calls(*, now: datetime | None = None) -> int:
    """Ask the provider about calls past ring time + max duration + grace; close what it cannot finish.

    First, calls taken for placement by a worker that died before confirming them are handed
    back (they never reached the provider, so they are placed, not closed). Each call is
    handled on its own: one that cannot be reaped (a database error, a provider answering
    nonsense) is logged and left for the next run, never stopping the others. Returns how
    many calls were closed here.
    """
    now = now or clock.now()
    stalled = services.call_release_stalled(
        taken_before=now - timedelta(seconds=settings.PROVIDER_HTTP_TIMEOUT + STALL_MARGIN_SECONDS)
    )
    if stalled:
        log.warning("handed back %d calls whose worker died before sending them", stalled)
    grace = timedelta(seconds=settings.DIALER_REAP_GRACE_SECONDS)
    # The shortest possible deadline bounds the query; each call's own is checked below. Oldest first,
    # so a crowd of young calls never hides a stale one.
    candidates = (
        Call.objects.exclude(status=CallStatus.ENDED)
        .filter(created_at__lt=now - grace - timedelta(seconds=MIN_RING_PLUS_DURATION))
        .select_related("provider_account", "campaign")
        .order_by("created_at")[:500]
    )
    closed = 0
    overdue = [call for call in candidates if _overdue(call, now - grace)]
    # In no set order: a run cut short (its worker killed) leaves a different remainder each time,
    # so repeated short runs still get through calls that each take a provider round trip or ten.
    random.shuffle(overdue)
    found = _find_lost(overdue)
    for call in overdue:
        try:
            closed += _reap(call, now - grace, found)
        except Exception:  # noqa: BLE001 - one call must never stop the reaping of the others
            log.exception("could not reap call %s; it is left for the next run", call.pk)
    return closed


def _find_lost(calls: list[Call]) -> dict[str, list]:
    """The provider's answer for every overdue call that passed the gate but never learned its
    provider id, by call id, asked once per provider account for all of them (find_calls: one
    listing, not one per call); an account that fails to answer is left to the per-call path."""
    lost = [c for c in calls if c.status == CallStatus.QUEUED and not c.provider_call_id and c.confirmed_at]
    by_account: dict[object, list[Call]] = {}
    for call in lost:
        by_account.setdefault(call.provider_account_id, []).append(call)
    found: dict[str, list] = {}
    for group in by_account.values():
        sent = CallLog.objects.filter(call__in=group, kind=CallLogKind.REQUEST).aggregate(
            first=Min("created_at"), last=Max("created_at")
        )
        if sent["first"] is None:
            continue
        timeout = timedelta(seconds=settings.PROVIDER_HTTP_TIMEOUT)
        # The listing's exchanges go on the first call's log (each call's own end says the rest).
        provider = provider_for(group[0].provider_account, record=recorder(group[0]))
        try:
            found |= provider.find_calls(
                group, created_from=sent["first"] - CLOCK_SKEW, created_to=sent["last"] + timeout + CLOCK_SKEW
            )
        except ProviderError as exc:
            log.warning("could not list calls at provider account %s: %s", group[0].provider_account_id, exc)
    return found


def _reap(call: Call, cutoff: datetime, found: dict[str, list] | None = None) -> int:
    """Reconcile one overdue call with its provider; 1 if it had to be closed here, else 0."""
    call.refresh_from_db()  # a worker may have taken, placed or ended it since the query
    if not _overdue(call, cutoff):
        return 0
    if call.status == CallStatus.QUEUED and _never_left(call):
        # It never reached the provider: hand it back for the tick's re-send; closing it would
        # spend one of the customer's attempts on a call nobody made.
        Call.objects.filter(
            pk=call.pk, status=CallStatus.QUEUED, confirmed_at__isnull=True, placing_at=call.placing_at
        ).update(placing_at=None)
        return 0
    provider = provider_for(call.provider_account, record=recorder(call))
    answered = False  # whether the provider answered our question about this call
    try:
        if call.provider_call_id:
            events = provider.fetch_status(call)
        elif found is not None and str(call.pk) in found:
            events = found[str(call.pk)]  # asked with the run's other lost calls
        else:
            events = _find(provider, call)
        answered = True
    except ProviderError as exc:
        services.call_log(
            call, CallLogKind.POLL, f"status poll failed: {exc}"[:200], http_status=exc.http_status
        )
        events = []
    for event in events:
        services.record_call_event(account=call.provider_account, event=event)
    call.refresh_from_db()
    if call.status == CallStatus.ENDED:
        return 0
    if answered and not events and call.status == CallStatus.QUEUED and _each_request_refused(call):
        # The provider refused every request and says it has no such call: it never left (its
        # worker died before handing it back). Sent again, not closed as an attempt.
        Call.objects.filter(pk=call.pk, status=CallStatus.QUEUED, provider_call_id="").update(
            placing_at=None, confirmed_at=None
        )
        return 0
    services.call_fail(
        call=call,
        ended_reason=REAPED_REASON,
        detail="no outcome from the provider within ring time + max duration + grace",
    )
    return 1


def follow_up(account_id: str, job: dict[str, str]) -> None:
    """Make a request a provider's callback asked for, recorded on the call's log; a failure is
    logged there too (nothing retries it: the call still ends by its time limit)."""
    try:
        call_id = uuid.UUID(str(job.get("call_id")))
    except ValueError:
        return
    call = (
        Call.objects.filter(pk=call_id, provider_account_id=account_id)
        .select_related("provider_account")
        .first()
    )
    # Providers deliver a callback more than once; its follow-up is made once (the shared cache's
    # add is the one atomic "first?" every worker can ask).
    if call is None or not cache.add(f"follow-up:{call.pk}:{job.get('action')}", 1, timeout=86400):
        return
    try:
        provider_for(call.provider_account, record=recorder(call)).follow_up(job)
    except ProviderError as exc:
        services.call_log(
            call, CallLogKind.POLL, f"follow-up failed: {exc}"[:200], http_status=exc.http_status
        )


# How far apart our clock and a provider's may be when we ask it for the calls it created.
CLOCK_SKEW = timedelta(seconds=60)


def _find(provider: Provider, call: Call) -> list:
    """A call that passed the gate but never learned its provider id (its worker was killed
    mid-request, or the answer was lost): ask the provider for the calls it created while our
    requests were out, and take the one carrying our call id in its metadata."""
    sent = list(call.log.filter(kind=CallLogKind.REQUEST).values_list("created_at", flat=True))
    if not sent:
        return []
    timeout = timedelta(seconds=settings.PROVIDER_HTTP_TIMEOUT)
    return provider.find_call(
        call, created_from=min(sent) - CLOCK_SKEW, created_to=max(sent) + timeout + CLOCK_SKEW
    )


def deliver_simulated_events(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Deliver the simulated provider's due events, each exactly once, through record_call_event."""
    due = SimulatedEvent.objects.filter(due_at__lte=now or clock.now()).order_by("due_at", "id")
    return record_stored_events(due, limit=limit)
