"""Taking queued calls to their provider, and closing the ones it forgot.

Placing one call (numbered; each step is safe to repeat):
1. take it: a conditional UPDATE that only one worker can win (queued, not yet taken);
2. ask the engine again, with fresh do-not-call data: a call that is no longer allowed
   (paused, outside hours, opted out meanwhile) is withdrawn before it leaves us;
3. record the request on the call, proving in the same commit that this worker still owns
   it (a stalled worker's call may have been handed to another), ask the provider, record
   the answer;
4. store the provider's id, or hand the call back for a later try (retryable errors,
   with backoff), or end it with the provider's reason; when the request may have
   reached the provider (read timeout), do neither: its callbacks (which carry our
   call id) or the reaper settle it, so nobody is rung twice.
"""

from __future__ import annotations

import functools
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, CallLog, CallLogKind, CallStatus
from dialer import engine
from dialer.dispatch import defer_until
from dialer.models import SimulatedEvent
from dialer.policy import campaign_policy, customer_facts
from dialer.providers.base import HttpProvider, ProviderError, provider_for
from dialer.webhooks import record_stored_events

log = logging.getLogger(__name__)

BATCH = 50
# Calls of one batch sent to their providers at once: a provider answers in tens of
# milliseconds, and the worker would otherwise spend them waiting.
PLACEMENT_THREADS = 8
MAX_TRIES = 5
REAPED_REASON = "call.dialdeck.no-outcome-from-provider"
MIN_RING_PLUS_DURATION = 15 + 10  # the smallest max_ring_seconds + max_duration_seconds allowed
# A worker that took a call this long past the provider timeout without sending it is gone.
STALL_MARGIN_SECONDS = 30


def recorder(call: Call, *, placing: bool = False):
    """Stores a provider exchange on the call's log. When placing, a request may only leave while
    this worker still owns the call (services.call_confirm_placing raises PlacementLost)."""

    def record(kind: str, summary: str, *, http_status: int | None = None, body: str | bytes = "") -> None:
        if placing and kind == CallLogKind.REQUEST:
            with transaction.atomic():  # the stamp and the request on the log: one commit
                services.call_confirm_placing(call)
                services.call_log(call, kind, summary, http_status=http_status, body=body)
            return
        services.call_log(call, kind, summary, http_status=http_status, body=body)

    return record


def backoff(tries: int) -> float:
    return min(300.0, 2.0**tries)


def place_many(call_ids: list[str]) -> list[tuple[str, float | None]]:
    """Place the calls of a batch: take them all in one conditional update (each call is won by
    exactly one worker, so running a batch twice, or two batches sharing calls, places each call
    once), then place the won ones. Calls of an HTTP provider go out together: their requests
    are logged and their ownership confirmed in one commit, sent several at a time from threads
    that touch no database, and their answers stored in one commit. Returns (call id, retry in)
    pairs."""
    now, retry = timezone.now(), {}
    split: list[tuple[HttpProvider, Call]] = []
    providers: dict[object, HttpProvider] = {}
    for call in services.calls_take_for_placing(call_ids):  # 1.
        if not _still_allowed(call, now):  # 2.
            continue
        provider = providers.get(call.provider_account_id) or provider_for(call.provider_account)
        if isinstance(provider, HttpProvider):
            providers[call.provider_account_id] = provider
            split.append((provider, call))
        else:
            retry[str(call.pk)] = _place_allowed(call)
    if split:
        retry |= _place_split(split)
    return [(call_id, retry.get(str(call_id))) for call_id in call_ids]


def _place_split(split: list[tuple[HttpProvider, Call]]) -> dict[str, float | None]:
    """Steps 3-4 for a batch of calls of HTTP providers. Returns {call id: retry in}."""
    exchanges = {call.pk: (provider, provider.prepare_call(call)) for provider, call in split}
    owned = services.calls_confirm_placing(
        [(ex.call, ex.request_summary, ex.logged_body) for _, ex in exchanges.values()]
    )
    sending = [exchanges[call.pk] for call in owned]  # the others went to another worker
    list(_threads(os.getpid()).map(lambda pair: pair[0].send(pair[1]), sending))  # 3.
    placed, failed = [], []
    for provider, exchange in sending:
        try:
            placed.append((exchange.call, provider.accepted(exchange)))
        except ProviderError as exc:
            failed.append((exchange.call, exc))
    answers = [(ex.call, ex.summary, ex.status, ex.answer_text) for _, ex in sending]
    services.calls_answered(answers=answers, placed=placed)  # 4.
    return {str(call.pk): _after_error(call, exc) for call, exc in failed}


@functools.cache
def _threads(pid: int) -> ThreadPoolExecutor:
    """The placement threads of this process (keyed by pid: a forked worker makes its own)."""
    return ThreadPoolExecutor(PLACEMENT_THREADS, thread_name_prefix="place")


def place_one(call_id: str, *, now: datetime | None = None) -> float | None:
    """Place one call. Returns seconds after which to try again, or None when done with it."""
    call = services.call_take_for_placing(call_id)  # 1.
    if call is None or not _still_allowed(call, now or timezone.now()):  # 2.
        return None
    return _place_allowed(call)


def _still_allowed(call: Call, now: datetime) -> bool:
    """Step 2 for a call this worker took (its `on_do_not_call` read when taken): withdraws it
    when the engine no longer allows it."""
    customer = call.customer
    facts = replace(
        customer_facts(customer, do_not_call=bool(customer.number) and call.on_do_not_call),
        attempts=call.attempt - 1,
        next_attempt_at=None,
    )
    decision = engine.eligibility(facts, campaign_policy(call.campaign), now)
    if decision.action != engine.Action.DIAL:
        services.call_withdraw(call=call, decision=decision, next_attempt_at=defer_until(decision, now))
        return False
    return True


def _place_allowed(call: Call) -> float | None:
    """Steps 3-4 for one call, on its own: the request is logged (and ownership confirmed) before
    it leaves, the answer after."""
    provider = provider_for(call.provider_account, record=recorder(call, placing=True))
    try:
        provider_call_id = provider.place_call(call)  # 3.
    except services.PlacementLost:
        return None  # handed to another worker while this one stalled
    except ProviderError as exc:
        return _after_error(call, exc)
    services.call_placed(call=call, provider_call_id=provider_call_id)  # 4.
    return None


def _after_error(call: Call, exc: ProviderError) -> float | None:
    """Step 4 when the provider refused or never answered: wait for its callbacks (the request
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


def _never_left(call: Call) -> bool:
    """No provider id, and no request the provider may have accepted (none sent, or each refused)."""
    if call.provider_call_id:
        return False
    sent = call.log.filter(kind=CallLogKind.REQUEST).count()
    return sent <= call.log.filter(kind=CallLogKind.RESPONSE, http_status__gte=400).count()


def reap_stale_calls(*, now: datetime | None = None) -> int:
    """Ask the provider about calls past ring time + max duration + grace; close what it cannot finish.

    First, calls taken for placement by a worker that died before sending them are handed
    back (they never reached the provider, so they are placed, not closed). Returns how many
    calls were closed here.
    """
    now = now or timezone.now()
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
    for call in [call for call in candidates if _overdue(call, now - grace)]:
        call.refresh_from_db()  # a worker may have taken, placed or ended it since the query
        if not _overdue(call, now - grace):
            continue
        if call.status == CallStatus.QUEUED and _never_left(call):
            # It never reached the provider: hand it back for the tick's re-send; closing it would
            # spend one of the customer's attempts on a call nobody made.
            Call.objects.filter(
                pk=call.pk, status=CallStatus.QUEUED, provider_call_id="", placing_at=call.placing_at
            ).update(placing_at=None)
            continue
        provider = provider_for(call.provider_account, record=recorder(call))
        try:
            events = provider.fetch_status(call) if call.provider_call_id else []
        except ProviderError as exc:
            services.call_log(
                call, CallLogKind.POLL, f"status poll failed: {exc}"[:200], http_status=exc.http_status
            )
            events = []
        for event in events:
            services.record_call_event(account=call.provider_account, event=event)
        call.refresh_from_db()
        if call.status != CallStatus.ENDED:
            services.call_fail(
                call=call,
                ended_reason=REAPED_REASON,
                detail="no outcome from the provider within ring time + max duration + grace",
            )
            closed += 1
    return closed


def deliver_simulated_events(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Deliver the simulated provider's due events, each exactly once, through record_call_event."""
    due = SimulatedEvent.objects.filter(due_at__lte=now or timezone.now()).order_by("due_at", "id")
    return record_stored_events(due, limit=limit)
