"""Delivering campaign events to each campaign's own server (Vapi's `server` + `serverMessages`).

Events wait in the outbox (models.CampaignEvent), written in the same transaction as the change
they report. `deliver` (the beat task dialer.tasks.deliver_campaign_events, every second) runs
this loop, for up to a few seconds while a backlog lasts; every step is safe to repeat, and a
worker killed anywhere in it loses nothing:

1. take due events (services.events_take): each is leased (its next_attempt_at pushed past the
   time a delivery can take) and, on PostgreSQL, chosen SKIP LOCKED, so workers share them;
2. build each request (`envelope`, `headers`): Vapi's envelope, the server's static headers, our
   idempotency key and signature (README, "Campaign events");
3. send from threads that touch no database, SENDERS at once, each bounded by the campaign's
   server.timeoutSeconds; the target is checked again first (campaigns.egress): a private or
   loopback one is refused and the event given up, a name that does not resolve is retried;
4. record the answers as they come (services.event_attempts_record): delivered only after a
   2xx, else due again when `retry_at` says, or given up;
5. a request still unanswered WAIT_MARGIN_SECONDS past its timeout is left to its lease: the
   event is due again when the lease runs out, as it is when the worker died.

So delivery is at least once: a receiver may get an event twice, always with the same
Idempotency-Key header and `message.eventId` (the event's id), and must ignore the second.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from urllib.request import getproxies, proxy_bypass

import orjson
import urllib3
from urllib3 import HTTPHeaderDict

from campaigns import clock, egress
from campaigns.models import CampaignEvent
from campaigns.services import DeliveryAttempt, event_attempts_record, events_take
from campaigns.services.events import delivery_timeout
from dialer import signing

log = logging.getLogger(__name__)

SENDERS = 16  # requests in flight per worker process
# The lease past the server's timeout: time to record the answer. A worker dead this long has
# left its events to others.
LEASE_MARGIN_SECONDS = 15.0
# How long past its timeout the loop waits for a request before leaving it to its lease.
WAIT_MARGIN_SECONDS = 3.0
POLL_SECONDS = 0.5  # the longest wait for answers before checking deadlines again
RECHECK_SECONDS = 5.0  # a decision about a target host is reused this long (campaigns.egress)
RESPONSE_KEPT = 2000  # characters of an answer kept on its attempt
# Our retries when the server has no backoffPlan: from 10 s doubling, at most an hour apart,
# while within a day of the event; then it is given up.
FIRST_RETRY_SECONDS = 10.0
MAX_RETRY_SECONDS = 3600.0
GIVE_UP_AFTER = timedelta(hours=24)
# Vapi's backoffPlan when a key is missing: fixed, no retry, 1 s apart.
PLAN_DEFAULTS = {"maxRetries": 0, "baseDelaySeconds": 1.0}
PLAN_BOUNDS = {"maxRetries": (0, 10), "baseDelaySeconds": (0.0, 10.0)}

IDEMPOTENCY_HEADER = "Idempotency-Key"
OURS = {
    "content-type",
    "user-agent",
    IDEMPOTENCY_HEADER.lower(),
    signing.TIMESTAMP_HEADER.lower(),
    signing.SIGNATURE_HEADER.lower(),
}
FRAMING = {"host", "content-length", "transfer-encoding", "connection", "expect"}
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")  # an HTTP header name (RFC 9110)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Request:
    """One event's request, built from the database and sent by a thread that touches none."""

    event: CampaignEvent
    url: str
    timeout: float
    headers: HTTPHeaderDict
    body: bytes
    secrets: list[str]
    deadline: float = 0.0  # time.monotonic() after which the loop stops waiting for it


def envelope(event: CampaignEvent) -> dict[str, Any]:
    """Vapi's campaign event envelope (spec §5.3), plus `eventId`: the idempotency key in the body
    too, where the signature covers it (a replayed request cannot change it) and where it stays
    when a receiver queues bodies without their headers."""
    message = {
        "type": "campaign.event",
        "timestamp": (event.created_at - EPOCH) // timedelta(milliseconds=1),
        "campaignId": str(event.campaign_id),
        "eventType": event.event_type,
        "eventId": str(event.pk),
        "data": event.data,
    }
    return {"message": message}


def headers(event: CampaignEvent, server: dict[str, Any]) -> HTTPHeaderDict:
    """The server's static headers (string values; ours and the framing ones cannot be set
    there), then ours; the timestamp and signature are added when the request leaves."""
    found = HTTPHeaderDict()
    static = server.get("headers")
    for name, value in static.items() if isinstance(static, dict) else ():
        text = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
        usable = isinstance(name, str) and TOKEN.fullmatch(name) and isinstance(text, str)
        if usable and name.lower() not in OURS | FRAMING and not any(c in text for c in "\r\n\0"):
            found[name] = text
    found["Content-Type"] = "application/json"
    found["User-Agent"] = "Dialdeck-Events/1"
    found[IDEMPOTENCY_HEADER] = str(event.pk)
    return found


def retry_at(
    server: dict[str, Any], *, attempts: int, http_status: int | None, created_at: datetime, now: datetime
) -> datetime | None:
    """When to try again after the `attempts`-th attempt failed; None: give up.

    With the server's backoffPlan (Vapi's): at most maxRetries retries (0 to 10; none when not
    given), baseDelaySeconds apart (0 to 10; 1 when not given) for `fixed` (the default type),
    or that doubling from the first retry for `exponential`; none after an answer whose status
    is among excludedStatusCodes. Without a plan, ours: FIRST_RETRY_SECONDS doubling, at most
    MAX_RETRY_SECONDS apart, while within GIVE_UP_AFTER of the event.
    """
    plan = server.get("backoffPlan")
    if isinstance(plan, dict):
        retries, base = (_bounded(plan.get(key), key) for key in ("maxRetries", "baseDelaySeconds"))
        excluded = plan.get("excludedStatusCodes")
        if attempts > retries or (isinstance(excluded, list) and http_status in excluded):
            return None
        delay = base * 2 ** (attempts - 1) if plan.get("type") == "exponential" else base
        return now + timedelta(seconds=delay)
    at = now + timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** min(attempts - 1, 20)))
    return at if at <= created_at + GIVE_UP_AFTER else None


def _bounded(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return PLAN_DEFAULTS[key]
    low, high = PLAN_BOUNDS[key]
    return min(max(value, low), high)


def deliver(*, seconds: float = 0.0) -> int:
    """Deliver due events (steps 1-5 of the module docstring), then wait for the requests in
    flight. Takes again as slots free up while takes come back full, for up to `seconds`: a
    backlog is drained, while a run that found everything due returns once its answers are in,
    so a worker is held no longer than its slowest server. Returns how many attempts were
    recorded; 0 at once when nothing is due."""
    stop, senders = time.monotonic() + seconds, _senders(os.getpid())
    running: dict[Future, Request] = {}
    recorded, taking = 0, True
    while True:
        now = time.monotonic()
        free = SENDERS - len(running)
        if taking and free:  # 1.
            taken = events_take(limit=free, lease_seconds=LEASE_MARGIN_SECONDS)
            for event in taken:
                request = _request(event)  # 2.
                request.deadline = now + request.timeout + WAIT_MARGIN_SECONDS
                running[senders.submit(_send, request)] = request  # 3.
            taking = len(taken) == free and now < stop
        if not running:
            return recorded
        wake = min(request.deadline for request in running.values())
        done, _ = wait(running, timeout=max(0.0, min(wake - now, POLL_SECONDS)), return_when=FIRST_COMPLETED)
        attempts = [future.result() for future in done]
        for future in done:
            del running[future]
        if attempts:  # 4.
            event_attempts_record(attempts=attempts)
            recorded += len(attempts)
        for future, request in list(running.items()):  # 5.
            if time.monotonic() > request.deadline:
                log.warning(
                    "campaign event %s: no answer from %s yet; left to its lease",
                    request.event.pk,
                    request.url,
                )
                del running[future]


def _request(event: CampaignEvent) -> Request:
    server = event.campaign.server if isinstance(event.campaign.server, dict) else {}
    url = server.get("url") if isinstance(server.get("url"), str) else ""
    return Request(
        event=event,
        url=url,
        timeout=delivery_timeout(server),
        headers=headers(event, server),
        body=orjson.dumps(envelope(event)),
        secrets=event.organization.event_signing_secrets(clock.now()),
    )


def _send(request: Request) -> DeliveryAttempt:
    """Step 3 for one event, in a sending thread: the attempt as recorded, and what comes next.
    Never raises: whatever goes wrong is the attempt's error."""
    event, began, at = request.event, time.monotonic(), clock.now()
    status, error, answer, retryable = None, "", "", True
    try:
        egress.check_provider_url(request.url, max_age=RECHECK_SECONDS)
        sent = HTTPHeaderDict(request.headers)
        sent.update(signing.signed(request.secrets, request.body, at))
        status, answer = _post(request, sent)
    except egress.ProviderUrlRefused as exc:  # a private target stays private; a name may resolve later
        error, retryable = (
            f"not sent: the server URL {exc.reason}",
            isinstance(exc, egress.ProviderUrlUnresolvable),
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = _describe(exc, request.timeout)
    except Exception as exc:  # noqa: BLE001 (a header http.client refuses...): recorded, never lost
        error = f"{type(exc).__name__}: {exc}"
    delivered = status is not None and 200 <= status < 300
    if status is not None and not delivered:
        error = f"answered {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    server = event.campaign.server if isinstance(event.campaign.server, dict) else {}
    attempts = event.attempts + 1
    later = None
    if not delivered and retryable:
        later = retry_at(
            server, attempts=attempts, http_status=status, created_at=event.created_at, now=clock.now()
        )
    if not delivered and later is None:
        log.info("campaign event %s given up after %d attempts: %s", event.pk, attempts, error)
    return DeliveryAttempt(
        event_id=event.pk,
        attempted_at=at,
        url=_shown(request.url),
        http_status=status,
        error=error.replace("\0", ""),
        duration_ms=round((time.monotonic() - began) * 1000),
        response=answer,
        delivered=delivered,
        retry_at=later,
    )


def _post(request: Request, sent: HTTPHeaderDict) -> tuple[int, str]:
    """POST the body; the status and the start of the answer. Redirects are answers, not
    followed: the place they point to was never checked."""
    response = _pool(request.url).request(
        "POST",
        request.url,
        body=request.body,
        headers=sent,
        timeout=urllib3.Timeout(total=request.timeout),
        redirect=False,
        retries=False,
        preload_content=False,
    )
    try:
        kept = response.read(RESPONSE_KEPT + 1)
        if len(kept) > RESPONSE_KEPT:
            response.close()  # the rest is not wanted, so the connection cannot be reused
    except (urllib3.exceptions.HTTPError, OSError) as exc:  # the status came: the answer stands
        kept = f"[answer cut: {_describe(exc, request.timeout)}]".encode()
        response.close()
    finally:
        response.release_conn()
    text = kept[:RESPONSE_KEPT].decode(errors="replace").replace("\0", "\ufffd")
    return response.status, text + ("…" if len(kept) > RESPONSE_KEPT else "")


def _shown(url: str) -> str:
    """The URL as logged: without its query string, which may carry a token."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url[:200]
    return urlunsplit(parts._replace(query="?" if parts.query else "", fragment=""))


def _describe(exc: BaseException, timeout: float) -> str:
    """Why no answer came, in a line: the timeout, or the root error (refused, reset, closed)."""
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return f"no answer within {timeout:g} s"
    if type(exc) is urllib3.exceptions.ConnectTimeoutError:
        return f"no connection within {timeout:g} s"
    root = exc
    for _ in range(10):  # causes can form a cycle
        args = (a for a in getattr(root, "args", ()) if isinstance(a, BaseException))
        inner = root.__cause__ or root.__context__ or next(args, None)
        if inner is None:
            break
        root = inner
    return f"{type(root).__name__}: {root}"[:200]


@functools.cache
def _senders(pid: int) -> ThreadPoolExecutor:
    """The sending threads of this process (keyed by pid: a forked worker makes its own)."""
    return ThreadPoolExecutor(SENDERS, thread_name_prefix="event")


@functools.cache
def _pools(pid: int) -> dict[str, urllib3.PoolManager]:
    """Keep-alive pools of this process: one direct, and one per proxy named by HTTP_PROXY /
    HTTPS_PROXY (NO_PROXY honoured), as for providers."""
    pools: dict[str, urllib3.PoolManager] = {"": urllib3.PoolManager(num_pools=32, maxsize=SENDERS)}
    for scheme, proxy in getproxies().items():
        if scheme in ("http", "https"):
            pools[scheme] = urllib3.ProxyManager(proxy, num_pools=32, maxsize=SENDERS)
    return pools


def _pool(url: str) -> urllib3.PoolManager:
    pools, parts = _pools(os.getpid()), urlsplit(url)
    if parts.scheme in pools and not proxy_bypass(parts.hostname or ""):
        return pools[parts.scheme]
    return pools[""]
