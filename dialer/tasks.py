"""Thin Celery tasks: load by id, return early if the row moved on, call dispatch or a service."""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache

from campaigns import clock, services
from dialer import dispatch, outbound, placement, webhooks

log = logging.getLogger(__name__)

# How long one run of deliver_campaign_events keeps taking events while a backlog lasts.
DRAIN_SECONDS = 5.0
# The reaper runs at most this often, whatever the beat asks (reap_stale_calls).
REAP_EVERY_SECONDS = 25


def enqueue_placement(call_ids: list[str]) -> None:
    """Hand freshly queued calls to the workers, in batches (each call stays idempotent)."""
    for start in range(0, len(call_ids), placement.BATCH):
        place_calls.delay(call_ids[start : start + placement.BATCH])


@shared_task(ignore_result=True)
def tick() -> None:
    """Beat, about every second: start due campaigns, dispatch running ones, finish what is done.

    Not acks_late: a lost tick is replaced by the next one a second later.
    """
    dispatch.tick(enqueue=enqueue_placement)


@shared_task(ignore_result=True, acks_late=True)
def place_calls(call_ids: list[str]) -> None:
    """Place queued calls at their provider.

    acks_late is safe: each call is taken with a conditional UPDATE (status queued and
    not yet taken), so a redelivered batch skips calls another run already placed.
    """
    for call_id, retry_in in placement.place_many(call_ids):
        if retry_in is not None:
            place_calls.apply_async(([call_id],), countdown=retry_in)


@shared_task(ignore_result=True)
def provider_follow_up(account_id: str, job: dict[str, str]) -> None:
    """A request a provider's callback asked for (a voicemail drop after a machine answered).

    Not acks_late: a lost follow-up leaves the call to end by itself (Twilio's TimeLimit).
    """
    placement.follow_up(account_id, job)


@shared_task(ignore_result=True)
def reap_stale_calls() -> None:
    """Beat, every few seconds: close calls the provider never finished telling us about, so
    concurrency is never leaked; runs unless a run completed within REAP_EVERY_SECONDS.

    Asked often and run when due, rather than asked when due: a run is lost with the worker that
    had taken it (restarts, crashes), and the calls it would have closed would keep their lines
    for another period. Only a completed run counts, so a killed one is taken up again at the
    next beat; two runs at once are harmless (each call is read again and closed conditionally).
    """
    last = cache.get("dialer:reaped-at")
    if last is not None and time.time() - last < REAP_EVERY_SECONDS:
        return
    placement.reap_stale_calls()
    cache.set("dialer:reaped-at", time.time(), timeout=REAP_EVERY_SECONDS * 10)


@shared_task(ignore_result=True)
def sweep_simulated() -> None:
    """Deliver the simulated provider's due events through the same path as webhooks."""
    placement.deliver_simulated_events()


@shared_task(ignore_result=True)
def record_webhooks() -> None:
    """Beat, every half second: record the webhook events the web processes stored.

    Keeps going while batches come back full, for up to a few seconds, so a burst is drained
    without waiting for the next beat.
    """
    deadline = time.monotonic() + 5
    while webhooks.record_received_events() == webhooks.BATCH and time.monotonic() < deadline:
        pass


@shared_task(ignore_result=True)
def deliver_campaign_events() -> None:
    """Beat, every second: send due campaign events to their campaigns' servers; a backlog is
    drained for up to DRAIN_SECONDS.

    Not acks_late: every event is leased in the database when taken (dialer.outbound), so a run
    lost with its worker leaves its events due again once their leases run out, and the next
    beat sends them. Beat gives each run a short expiry, so runs that waited behind a busy
    worker are dropped rather than piled up.
    """
    outbound.deliver(seconds=DRAIN_SECONDS)


@shared_task(ignore_result=True)
def make_series_runs() -> None:
    """Beat, every few seconds: make each recurring campaign's run that is due (services.series).

    Not acks_late, and safe to run on two beats at once: a run is claimed with a conditional
    UPDATE and the (series, run day) constraint refuses a second one; a lost sweep is the next's.
    """
    services.series_runs_due()


@shared_task(ignore_result=True)
def sweep_alerts() -> None:
    """Beat, every 30 s: open, announce and close alerts (services.alerts).

    Not acks_late, and safe to run twice at once: one open alert per key (a constraint) and a
    conditional announcement; a lost sweep is the next one's.
    """
    services.alerts_sweep(now=clock.now())
