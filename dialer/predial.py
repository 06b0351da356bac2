"""Vapi's pre-dial check (`predialPlan`): before a contact is dialed, ask the campaign's server.

A campaign with `predial_plan` (and its `enabled` not false) has each contact POSTed to its
`server.url`, immediately before the call would pass the last gate, as Vapi's `campaign.predial`
server message: `{"message": {"type": "campaign.predial", "timestamp": <ms>, "campaignId",
"contact": CampaignContact}}`. The server's static `headers` go with it, and the organization's
signature (dialer.signing: X-Dialdeck-Timestamp, X-Dialdeck-Signature), as campaign events have
it. It must answer 2xx with JSON `{"eligible": true|false}` (Vapi's `{"messageResponse":
{"eligible": ...}}` is accepted too).

- `eligible: true`: the call goes on to the gate and the provider;
- `eligible: false`: the contact is skipped (Reason.PREDIAL_INELIGIBLE, a contact.skipped event);
- anything else fails closed (Reason.PREDIAL_FAILED, a contact.predial-failed event with a short
  `error`): no answer within the timeout, a refused or broken connection, a non-2xx answer, a body
  that is not JSON, `eligible` missing or not a boolean, or a server URL the dialer may not send to
  (checked again at request time, like provider URLs: campaigns.egress).

The timeout is the server's `timeoutSeconds` (Vapi's default 20), at most MAX_TIMEOUT (Vapi's
dashboard caps this check at 30 s). One attempt per call; Vapi says the handler must tolerate
being asked again about a contact (here: a retry of the call after a provider error).

Latency. `in_turn` sends a batch's checks from threads of their own (PREDIAL_THREADS: a whole
batch at once, so a slow server costs its timeout once, not once per wave of threads; the
placement threads that send provider requests are never taken). It hands the calls back in
turns: first, at once, those whose campaign asks nothing (so they are placed while servers
think), then each campaign's calls as soon as its server has answered about all of them, or its
own timeout has passed. So a slow server delays nobody but its own campaign's contacts, by its
own timeout at most, and a batch with no pre-dial campaign costs one dictionary look-up per call.
The calls stay queued while they are asked: they count against the campaign's concurrency.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import orjson
import urllib3

from campaigns import clock, egress
from campaigns.models import Call, CallLogKind, Campaign
from campaigns.rules.engine import Action, Decision
from campaigns.rules.reasons import Reason
from dialer import signing
from dialer.claims import LogRow

DEFAULT_TIMEOUT = 20.0  # Vapi's Server.timeoutSeconds default
MAX_TIMEOUT = 30.0  # Vapi's dashboard caps the pre-dial check here
MIN_TIMEOUT = 1.0  # Vapi's Server.timeoutSeconds minimum
# A batch's checks all at once (dialer.placement.BATCH is 50), and room for a second batch while
# threads of a first one still wait out a server that trickles its answer past the deadline.
PREDIAL_THREADS = 100
# What is read of an answer: `{"eligible": false}` needs a few bytes, a log a few thousand.
MAX_ANSWER_BYTES = 64 * 1024
# Headers a campaign's static ones cannot replace: those framing the request, and ours.
OURS = frozenset({"content-length", "transfer-encoding", "host", "connection", "content-type", "user-agent"})
# Past a server's timeout, how long its answers are still awaited (the request's own timeouts
# end it about then; this only bounds a server that trickles its answer).
GRACE_SECONDS = 0.5
RECHECK_SECONDS = 5.0  # egress decisions about one host are reused this long (one DNS look-up a batch)


def wanted(campaign: Campaign) -> bool:
    """Whether the campaign's contacts are checked before they are dialed: a predialPlan whose
    `enabled` is not false (Vapi: `{}` turns it on, `false` keeps a copied plan idle)."""
    plan = campaign.predial_plan
    return plan is not None and not (isinstance(plan, dict) and plan.get("enabled") is False)


def timeout_of(campaign: Campaign) -> float:
    """The campaign server's timeoutSeconds, within [MIN_TIMEOUT, MAX_TIMEOUT]; DEFAULT_TIMEOUT
    when it has none (or not a number)."""
    given = (campaign.server or {}).get("timeoutSeconds")
    if isinstance(given, bool) or not isinstance(given, int | float) or given != given:
        return DEFAULT_TIMEOUT
    return float(min(MAX_TIMEOUT, max(MIN_TIMEOUT, given)))


@dataclass
class Check:
    """One contact's check: the request (built with the database at hand) and, once `ask` has run
    in a thread (which touches no database), its answer."""

    call: Call
    url: str
    headers: dict[str, str]
    body: bytes
    timeout: float
    secrets: list[str] = field(default_factory=list)  # the organization's signing secrets (dialer.signing)
    eligible: bool | None = None  # None: no usable answer (`error` says why)
    error: str = ""
    status: int | None = None
    answer_text: str = ""
    started: float = 0.0  # time.monotonic() when a thread began asking (0: not yet)

    @property
    def target(self) -> str:
        """The URL as logged: no query string or fragment, which may carry a token."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{parts.path}"

    def ask(self) -> None:
        """POST the message, signed as it leaves; set `eligible`, or `error` (a short string, the
        event's `error`)."""
        self.started = time.monotonic()
        try:
            egress.check_provider_url(self.url, max_age=RECHECK_SECONDS)
        except egress.ProviderUrlRefused as exc:
            self.error = f"server.url refused: {exc.reason}"[:200]
            return
        try:
            answer = _pool(self.url).request(
                "POST",
                self.url,
                body=self.body,
                headers=self.headers | signing.signed(self.secrets, self.body, clock.now()),
                timeout=urllib3.Timeout(connect=self.timeout, read=self.timeout),
                redirect=False,
                retries=False,
                preload_content=False,
            )
            try:
                raw = answer.read(MAX_ANSWER_BYTES + 1)
            finally:
                answer.release_conn()
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # timed out, refused, reset, closed
            # NewConnectionError (refused) is a ConnectTimeoutError too, for urllib3's own reasons.
            timed_out = isinstance(exc, urllib3.exceptions.ReadTimeoutError)
            timed_out |= type(exc) is urllib3.exceptions.ConnectTimeoutError
            self.error = (
                f"no answer within {self.timeout:g} s" if timed_out else f"no answer: {_root(exc)}"[:200]
            )
            return
        except ValueError as exc:  # a static header http.client will not send (a newline in it)
            self.error = f"not sent: {exc}"[:200]
            return
        self.status, self.answer_text = answer.status, raw[:MAX_ANSWER_BYTES].decode(errors="replace")
        self.eligible, self.error = _verdict(answer.status, raw)

    def decision(self) -> Decision | None:
        """None when the contact may be dialed; else the SKIP the gate withdraws the call with."""
        if self.eligible is True:
            return None
        if self.eligible is False:
            return Decision(
                Action.SKIP, Reason.PREDIAL_INELIGIBLE, detail=f"{self.target} answered eligible: false"
            )
        return Decision(Action.SKIP, Reason.PREDIAL_FAILED, detail=self.error or "no answer")

    def log(self) -> list[LogRow]:
        """The exchange, for the call's log (dialer.claims writes it with the provider request)."""
        asked = (self.call, CallLogKind.NOTE, f"pre-dial check: POST {self.target}", None, self.body.decode())
        said = "eligible" if self.eligible else ("not eligible" if self.eligible is False else self.error)
        code = f" -> {self.status}" if self.status is not None else ""
        answer = (self.call, CallLogKind.NOTE, f"pre-dial check{code}: {said}", self.status, self.answer_text)
        return [asked, answer]


def prepare(call: Call) -> Check:
    """The check of `call`'s contact: Vapi's campaign.predial message, as CampaignContact has it."""
    campaign, customer = call.campaign, call.customer
    server = campaign.server or {}
    contact: dict[str, Any] = {
        "id": str(customer.pk),
        "campaignId": str(campaign.pk),
        "orgId": str(campaign.organization_id),
        "number": customer.number_submitted or customer.number or customer.sip_uri,
        # Customers keep no creation time of their own: the campaign's is when most were sent.
        "createdAt": _stamp(campaign.created_at),
    }
    if customer.name:
        contact["name"] = customer.name
    for key, value in (
        ("assistantOverrides", customer.assistant_overrides),
        ("squadOverrides", customer.squad_overrides),
    ):
        if value is not None:
            contact[key] = value  # the contact's own, not merged with the campaign's (Vapi's shape)
    message = {
        "type": "campaign.predial",
        "timestamp": int(clock.now().timestamp() * 1000),
        "campaignId": str(campaign.pk),
        "contact": contact,
    }
    given = server.get("headers") if isinstance(server.get("headers"), dict) else {}
    headers = {str(k): str(v) for k, v in given.items() if v is not None and str(k).lower() not in OURS}
    headers |= {"Content-Type": "application/json", "User-Agent": "Dialdeck-Predial/1"}
    url = server.get("url") if isinstance(server.get("url"), str) else ""
    secrets = campaign.organization.event_signing_secrets(clock.now())
    return Check(call, url, headers, orjson.dumps({"message": message}), timeout_of(campaign), secrets)


@dataclass
class Turn:
    """Calls ready for the last gate: `refused` are the checks' SKIPs by call id, `notes` the
    exchanges to log on the calls that go on; `unasked` never got a thread in time (to be handed
    back and tried again, never failed for our own want of threads)."""

    calls: list[Call]
    refused: dict[object, Decision] = field(default_factory=dict)
    notes: dict[object, list[LogRow]] = field(default_factory=dict)
    unasked: list[Call] = field(default_factory=list)


def in_turn(calls: list[Call]) -> Iterator[Turn]:
    """The calls of a batch in turns for the gate (see the module docstring): those needing no
    check first, then each campaign's as soon as it is decided. Every call is in one turn."""
    checked: dict[object, list[Check]] = {}
    free = []
    for call in calls:
        if wanted(call.campaign):
            checked.setdefault(call.campaign_id, []).append(prepare(call))
        else:
            free.append(call)
    if not checked:
        yield Turn(free)
        return
    began, pool = time.monotonic(), _threads(os.getpid())
    futures = {c.call.pk: pool.submit(c.ask) for checks in checked.values() for c in checks}
    if free:
        yield Turn(free)
    deadlines = {cid: began + checks[0].timeout + GRACE_SECONDS for cid, checks in checked.items()}
    while checked:
        now = time.monotonic()
        for campaign_id in list(checked):  # every campaign decided by now, before waiting again
            checks = checked[campaign_id]
            if now >= deadlines[campaign_id] or all(futures[c.call.pk].done() for c in checks):
                del checked[campaign_id]
                yield _turn(checks, futures)
        running = {
            cid: [f for c in checks if not (f := futures[c.call.pk]).done()]
            for cid, checks in checked.items()
        }
        if running and all(running.values()):  # else one finished meanwhile: decide it at once
            wake = min(deadlines[campaign_id] for campaign_id in checked)
            left = [future for group in running.values() for future in group]
            wait(left, timeout=max(0.0, wake - time.monotonic()), return_when=FIRST_COMPLETED)


def _turn(checks: list[Check], futures: dict[object, Future]) -> Turn:
    """One campaign's checks, decided: answered, or timed out (its server had the whole timeout
    and is still silent); a check that never started (cancelled here, so it will not run late) or
    started too late to have its whole timeout is not the server's fault: unasked."""
    turn, now = Turn([]), time.monotonic()
    for check in checks:
        future, pk = futures[check.call.pk], check.call.pk
        late = not check.started or now - check.started < check.timeout
        if not future.done() and (future.cancel() or late):
            turn.unasked.append(check.call)  # its thread may still be asking: the answer is ignored
            continue
        if not future.done():  # asked, and the server is still silent: a snapshot, not the thread's
            check = Check(check.call, check.url, check.headers, check.body, check.timeout, check.secrets)
            check.error = f"no answer within {check.timeout:g} s"
        elif future.exception() is not None:  # a bug of ours must not pass a contact unchecked
            check.eligible, check.error = None, f"check failed: {type(future.exception()).__name__}"
        turn.calls.append(check.call)
        if (refusal := check.decision()) is not None:
            turn.refused[pk] = refusal
        turn.notes[pk] = check.log()
    return turn


def _verdict(status: int, raw: bytes) -> tuple[bool | None, str]:
    """(eligible, error) from an answer: a 2xx JSON object with a boolean `eligible`, at its top or
    in `messageResponse`."""
    if not 200 <= status < 300:
        return None, f"answered HTTP {status}"
    if len(raw) > MAX_ANSWER_BYTES:
        return None, f"answer over {MAX_ANSWER_BYTES} bytes"
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, "answer is not JSON"
    found = None
    if isinstance(parsed, dict):
        found = parsed.get("eligible")
        inner = parsed.get("messageResponse")
        if found is None and isinstance(inner, dict):
            found = inner.get("eligible")
    if not isinstance(found, bool):
        return None, "answer has no boolean eligible"
    return found, ""


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _root(exc: BaseException) -> str:
    """The root error of a failed request, in a line (`ConnectionRefusedError: ...`)."""
    root = exc
    for _ in range(10):  # a chain of causes is short; a cycle must not hang a placement thread
        inner = root.__cause__ or root.__context__ or _inner(root)
        if inner is None:
            break
        root = inner
    return f"{type(root).__name__}: {root}"


def _inner(exc: BaseException) -> BaseException | None:
    return next((a for a in getattr(exc, "args", ()) if isinstance(a, BaseException)), None)


@functools.cache
def _threads(pid: int) -> ThreadPoolExecutor:
    """This process's check threads (keyed by pid: a forked worker makes its own)."""
    return ThreadPoolExecutor(PREDIAL_THREADS, thread_name_prefix="predial")


def _new_pools() -> dict[str, urllib3.PoolManager]:
    """Keep-alive pools: one direct, one per proxy named by HTTP_PROXY / HTTPS_PROXY."""
    pools: dict[str, urllib3.PoolManager] = {"": urllib3.PoolManager(num_pools=32, maxsize=PREDIAL_THREADS)}
    for scheme, proxy in getproxies().items():
        if scheme in ("http", "https"):
            pools[scheme] = urllib3.ProxyManager(proxy, num_pools=32, maxsize=PREDIAL_THREADS)
    return pools


def _pool(url: str) -> urllib3.PoolManager:
    parts = urlsplit(url)
    if parts.scheme in _pools and not proxy_bypass(parts.hostname or ""):
        return _pools[parts.scheme]
    return _pools[""]


_pools = _new_pools()
os.register_at_fork(after_in_child=lambda: globals().update(_pools=_new_pools()))
