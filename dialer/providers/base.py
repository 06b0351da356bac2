"""The provider protocol: how the dialer places calls and hears back about them.

A provider module defines one subclass of `Provider`. The registry at the
bottom loads them lazily by `ProviderAccount.kind`.

- `place_call(call)` asks the provider to dial and returns its call id.
  It raises `ProviderError(retryable=...)`; retryable errors are retried with
  backoff, others end the call with `ProviderError.ended_reason`.
- `parse_webhook(request)` authenticates a callback and turns it into
  `CallEvent`s; it raises `WebhookRejected` for anything not from the provider.
  `accept_webhook(request)` is what the endpoint stores of it: those events, or, for a provider
  that reads its messages later, each message to act on kept as it arrived (`Received`, its
  secrets redacted), read into events by `stored_events(text)` when the recorder records it.
- `parse_inbound(request)` recognises a request asking how to answer an inbound call (Vapi's
  `assistant-request`, Twilio's incoming-call webhook) and `inbound_answer(result)` answers it,
  in the request: the provider waits (dialer.webhooks, services.inbound_call_receive).
- `fetch_status(call)` asks about a call we have not heard from in too long
  (the reaper uses it) and returns what the provider knows, as events.
- `find_call(call, created_from=, created_to=)` looks for a call whose request was cut
  (a worker killed mid-request: we never learned the provider's id) among the calls the
  provider created in that window, by our call id in their metadata; it returns its events
  like `fetch_status`, with the provider's call id set so the call learns it. A provider
  that cannot list its calls keeps the default: it finds nothing ([]).
Every HTTP request and answer is handed to `record` so users see why a call failed.

An HTTP provider (`HttpProvider`) places a call in three steps that the dialer can run for a
whole batch at once: `prepare_call` builds the request (recorded, and the call's ownership
confirmed, before it leaves), `send_all` performs a batch's requests together through the one
transport (dialer.providers.transport; no database) and `accepted` reads the provider's call id
from the answer or raises ProviderError. A provider says only how its request is written
(`request_of`) and how it reads a refusal (`refused`); the rest of an answer is read once here.
"""

from __future__ import annotations

import functools
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from django.conf import settings

from campaigns import egress
from campaigns.connections import ConnectionCheck
from campaigns.services.inputs import CallEvent
from dialer.providers import transport

if TYPE_CHECKING:
    from django.http import HttpRequest

    from campaigns.models import Call, ProviderAccount
    from campaigns.services.inbound import InboundResult


REDACTED = "[redacted]"
# Shorter secrets are redacted only where a whole JSON string equals them: replacing an API key
# "a" or "12" inside every string would mangle the log, and match by chance.
LONG_SECRET = 8
TOO_DEEP = "[nested too deep to log]"
# Why a request never left, as a call's ended reason: its target's name did not resolve (retried),
# or its target is not a place Dialdeck sends requests to (campaigns.egress).
FAILED = "call.start.error-provider-request-failed"
URL_REFUSED = "call.dialdeck.provider-url-refused"
# A decision about a provider host is reused this long: one lookup per batch, not per request.
RECHECK_SECONDS = 5.0


class ProviderError(Exception):
    """A provider refused or failed a request.

    `retryable`: try again later (5xx, 429, timeouts, refused connections).
    `retry_after`: seconds the provider asked us to wait, if it said.
    `ended_reason`: the call's endedReason when we give up.
    `outcome_unknown`: the request may have reached the provider (a read timeout): neither
    retry nor fail; the call's callbacks, or the reaper, will tell.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        ended_reason: str = "call.start.error-provider-request-failed",
        http_status: int | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.outcome_unknown = outcome_unknown
        self.retryable = retryable
        self.retry_after = retry_after
        self.ended_reason = ended_reason
        self.http_status = http_status


class WebhookRejected(Exception):
    """A callback we refuse: unauthenticated, malformed or too large. `status` is the HTTP answer."""

    def __init__(self, message: str, *, status: int = 401) -> None:
        super().__init__(message)
        self.status = status


# record(kind, summary, http_status=None, body="") stores one exchange on the call's log.
Recorder = Callable[..., None]


@dataclass(frozen=True)
class Received:
    """A provider's message to act on, kept as it arrived (its secrets redacted, so it can be
    stored and logged): `Provider.stored_events` reads it into events when it is recorded."""

    text: str


@dataclass(frozen=True)
class InboundCall:
    """An inbound call the provider asks us how to answer (a callee calling a caller ID back):
    the caller's and the called number as the provider wrote them, the provider's id of the
    number called (Vapi's phoneNumberId) and of the call, and the request as logged (redacted)."""

    caller: str
    called: str
    provider_call_id: str
    called_id: str = ""
    raw: str = ""


@dataclass
class Provider(ABC):
    account: ProviderAccount
    record: Recorder = field(default=lambda *args, **kwargs: None)

    @functools.cached_property
    def webhook_address(self) -> str:
        """Our address for this account's callbacks (its kind's path and its token), worked out
        once per provider object (a batch's calls share it)."""
        from django.urls import reverse

        kwargs = {"kind": self.account.kind, "token": self.account.webhook_token}
        return f"{settings.SITE_URL}{reverse('provider-webhook', kwargs=kwargs)}"

    @abstractmethod
    def place_call(self, call: Call) -> str:
        """Ask the provider to dial `call`; return the provider's call id or raise ProviderError."""

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        raise WebhookRejected("this provider sends no webhooks", status=404)

    def accept_webhook(self, request: HttpRequest) -> list[CallEvent | Received]:
        """What the endpoint stores of a callback, authenticated: its events by default. A provider
        may keep a message as it arrived instead (Received), once it knows it is one to act on,
        and read it in `stored_events` when it is recorded: the callback is answered sooner. It
        then has no `follow_ups` from that message. Raises WebhookRejected like parse_webhook."""
        return self.parse_webhook(request)

    def events_of(self, item: CallEvent | Received) -> list[CallEvent]:
        """An item accept_webhook gave, as events: an event, or a message read (stored_events)."""
        return self.stored_events(item.text) if isinstance(item, Received) else [item]

    def stored_events(self, text: str) -> list[CallEvent]:
        """The events of a message `accept_webhook` kept (Received.text). Raises ValueError, or
        the error reading it raised, for text that is not one."""
        raise ValueError(f"{type(self).__name__} keeps no messages as received")

    def fetch_status(self, call: Call) -> list[CallEvent]:
        return []

    def parse_inbound(self, request: HttpRequest) -> InboundCall | None:
        """The inbound call this request asks about, authenticated; None when it is no such request
        (then parse_webhook reads it). Raises WebhookRejected like parse_webhook. A provider whose
        numbers cannot take calls keeps the default."""
        return None

    def inbound_answer(self, result: InboundResult) -> tuple[bytes, str]:
        """The body and content type that answer an inbound call as `result` decided. Only asked
        after parse_inbound found one: a provider whose numbers take no calls refuses, as
        parse_webhook does."""
        raise WebhookRejected("this provider takes no inbound calls", status=404)

    def follow_ups(self, events: list[CallEvent]) -> list[dict[str, str]]:
        """Requests to make to the provider because of callbacks just received (a voicemail drop
        after a machine answered), run by a worker (dialer.tasks.provider_follow_up); [] by default."""
        return []

    def follow_up(self, job: dict[str, str]) -> None:
        """Make one request `follow_ups` asked for; raises ProviderError."""
        return None

    def check_connection(self) -> ConnectionCheck:
        """A harmless request with the account's credentials (reads, never creates), for the
        dashboard's "test connection"; a provider without one says so."""
        return ConnectionCheck(True, "nothing to check: this provider places no real calls")

    def find_call(self, call: Call, *, created_from: datetime, created_to: datetime) -> list[CallEvent]:
        """The provider's call carrying `call`'s id, created in [created_from, created_to], as events
        (like fetch_status, `provider_call_id` set); [] when none does or the provider cannot tell.
        Raises ProviderError when the provider fails to answer."""
        return []

    def find_calls(
        self, calls: list[Call], *, created_from: datetime, created_to: datetime
    ) -> dict[str, list[CallEvent]]:
        """find_call for several calls of this account at once, by our call id ([] for those not
        found). A provider that can list its calls answers them all from one listing; this one asks
        for each. Raises ProviderError when the provider fails to answer."""
        return {
            str(call.pk): self.find_call(call, created_from=created_from, created_to=created_to)
            for call in calls
        }


@dataclass
class Exchange:
    """One HTTP request to a provider and what came of it.

    Built by `HttpProvider.prepare_call` (method, path, body and the body as recorded, secrets
    redacted), completed by `HttpProvider.send`: the answer's status and redacted text and the
    JSON object (or array) it held, or `error` when the provider refused or never answered.
    """

    call: Call | None
    method: str
    path: str
    body: dict[str, Any] | None = None
    logged_body: str = ""
    summary: str = ""  # the answer, or why none came, in a line
    status: int | None = None
    answer_text: str = ""
    answer: dict[str, Any] = field(default_factory=dict)
    listed: list[Any] = field(default_factory=list)  # the JSON array answered, by list endpoints
    headers: Mapping[str, str] = field(default_factory=dict)
    error: ProviderError | None = None

    @property
    def request_summary(self) -> str:
        return f"{self.method} {self.path}"


class HttpProvider(Provider):
    """A provider reached over HTTP; `place_call` is its three steps run one after another."""

    def secrets(self) -> tuple[str, ...]:
        """What never reaches a log: the account's API key and webhook secret (those it has)."""
        return tuple(filter(None, (self.account.api_key, self.account.webhook_secret)))

    def redact(self, value: Any) -> Any:
        """Parsed JSON (or a string) as it may be logged: see `scrub`. A value nested deeper than
        Python recurses is logged as TOO_DEEP (a provider's answer that deep raised in the reaper
        on every run, and its call was never closed)."""
        try:
            return scrub(value, self.secrets())
        except RecursionError:
            return TOO_DEEP

    def redact_text(self, text: str, parsed: Any = None) -> str:
        """A body as logged. JSON (`parsed`, what `text` parses to) is redacted as `scrub` redacts
        its value (read off the text orjson writes of it where `scrub_written_json` can, else
        walked) and written again only when a secret was in it; other text, and JSON nested
        deeper than Python recurses, lose only their long secrets."""
        secrets = self.secrets()
        if parsed is not None:
            try:
                written = orjson.dumps(parsed).decode()
                if (redacted := scrub_written_json(written, secrets)) is not None:
                    return text if redacted == written else redacted
            except TypeError:  # deeper than orjson writes: the walk decides
                pass
            try:
                redacted = scrub(parsed, secrets)
                return text if redacted == parsed else orjson.dumps(redacted).decode()
            except (RecursionError, TypeError):  # TypeError: deeper than orjson writes
                pass
        return scrub(text, secrets)

    @abstractmethod
    def prepare_call(self, call: Call) -> Exchange:
        """The request that asks the provider to dial `call`, not sent yet."""

    def send(self, exchange: Exchange, *, poll: bool = False) -> None:
        """Perform the request and complete `exchange` (see `send_all`)."""
        send_all([(self, exchange)], poll=poll)

    @abstractmethod
    def request_of(self, exchange: Exchange) -> transport.Request | None:
        """The HTTP request of `exchange`, or None with `exchange.error` set when it may not
        leave (see `target_allowed`)."""

    def exchange(self, call: Call | None, method: str, path: str, body: dict | None = None) -> Exchange:
        """A request not sent yet, its body as it will be logged (secrets redacted)."""
        logged = json.dumps(self.redact(body)) if body else ""
        return Exchange(call=call, method=method, path=path, body=body, logged_body=logged)

    def read_answer(self, exchange: Exchange, answer: transport.Answer) -> None:
        """Complete `exchange` with the provider's answer: status, summary, redacted text, the
        JSON it held, and `error` for a refusal (anything but 2xx, as `refused` reads it)."""
        code, text = answer.status, answer.text
        exchange.status, exchange.summary = code, f"{exchange.method} {exchange.path} -> {code}"
        exchange.headers = answer.headers
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        exchange.answer_text = self.redact_text(text, parsed)
        exchange.answer = parsed if isinstance(parsed, dict) else {}
        exchange.listed = parsed if isinstance(parsed, list) else []
        if not 200 <= code < 300:
            after = answer.headers.get("Retry-After", "")
            exchange.error = self.refused(exchange, min(300, int(after)) if after.isdigit() else None)

    @abstractmethod
    def refused(self, exchange: Exchange, retry_after: int | None) -> ProviderError:
        """The error of an answer that is not 2xx (its status and JSON are on `exchange`), with
        the Retry-After it asked for, in seconds (at most 300)."""

    def no_answer(self, exchange: Exchange, exc: transport.NoAnswer, *, poll: bool) -> None:
        """Complete `exchange` when no answer came: retried later, unless the request went out
        (a read timeout: the provider may have created the call, and posting again could ring
        the person twice, so the call waits for its callbacks or the reaper instead)."""
        exchange.summary = f"{exchange.method} {exchange.path}: {exc.reason}"[:200]
        exchange.error = ProviderError(
            exchange.summary, retryable=not exc.went_out, outcome_unknown=exc.went_out and not poll
        )

    def target_allowed(self, exchange: Exchange, url: str) -> bool:
        """Whether `url` may be sent to now (campaigns.egress, checked again before each request,
        even through a proxy). If not, nothing leaves and `exchange.error` says why: a name that
        does not resolve may later (retried, like a refused connection); a private target will
        stay private."""
        try:
            egress.check_provider_url(url, max_age=RECHECK_SECONDS)
            return True
        except egress.ProviderUrlRefused as exc:
            exchange.summary = f"{exchange.method} {exchange.path}: not sent: {exc.reason}"
            unresolved = isinstance(exc, egress.ProviderUrlUnresolvable)
            exchange.error = ProviderError(
                exchange.summary, retryable=unresolved, ended_reason=FAILED if unresolved else URL_REFUSED
            )
            return False

    @abstractmethod
    def accepted(self, exchange: Exchange) -> str:
        """The provider's call id from a completed exchange; raises its ProviderError otherwise."""

    # GET this path, authenticated, to test the connection (reads the account, lists nothing big).
    check_path: str = ""

    def check_connection(self) -> ConnectionCheck:
        exchange = Exchange(call=None, method="GET", path=self.check_path)
        self.send(exchange, poll=True)
        if exchange.error is not None:
            return ConnectionCheck(False, str(exchange.error)[:300], exchange.status)
        return ConnectionCheck(True, exchange.summary, exchange.status)

    def place_call(self, call: Call) -> str:
        exchange = self.prepare_call(call)
        self.record("request", exchange.request_summary, body=exchange.logged_body)
        self.send(exchange)
        self.record("response", exchange.summary, http_status=exchange.status, body=exchange.answer_text)
        return self.accepted(exchange)


_REGISTRY = {
    "simulated": "dialer.providers.simulated.SimulatedProvider",
    "vapi": "dialer.providers.vapi.VapiProvider",
    "twilio": "dialer.providers.twilio.TwilioProvider",
    "retell": "dialer.providers.retell.RetellProvider",
    "bland": "dialer.providers.bland.BlandProvider",
    "elevenlabs": "dialer.providers.elevenlabs.ElevenLabsProvider",
}


def send_all(pairs: list[tuple[HttpProvider, Exchange]], *, poll: bool = False) -> None:
    """Complete each (provider, exchange) with the provider's answer, the requests in flight
    together (dialer.providers.transport). Touches no database. An exchange whose `error` is
    already set is not sent. `poll`: not a placement (a read timeout leaves no outcome unknown)."""
    ready = []
    for provider, exchange in pairs:
        if exchange.error is None and (request := provider.request_of(exchange)) is not None:
            ready.append((provider, exchange, request))
    answers = transport.fetch_all([r for _, _, r in ready], timeout=settings.PROVIDER_HTTP_TIMEOUT)
    for (provider, exchange, _), answer in zip(ready, answers, strict=True):
        if isinstance(answer, transport.NoAnswer):
            provider.no_answer(exchange, answer, poll=poll)
        else:
            provider.read_answer(exchange, answer)


def check_connection(account: ProviderAccount) -> ConnectionCheck:
    """The account's provider's answer to a harmless authenticated request (campaigns.connections)."""
    return provider_for(account).check_connection()


def provider_for(account: ProviderAccount, record: Recorder | None = None) -> Provider:
    """The provider implementation for an account, imported on first use."""
    module_name, _, class_name = _REGISTRY[account.kind].rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(account=account, record=record or (lambda *a, **k: None))


def scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` with secrets replaced by REDACTED: every string (or key) equal to one, and inside
    strings every secret of at least LONG_SECRET characters (a key in a URL, one echoed in a
    message). Raises RecursionError for values nested deeper than Python recurses."""
    if isinstance(value, str):
        if value in secrets:
            return REDACTED
        for secret in secrets:
            if len(secret) >= LONG_SECRET and secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(key, secrets): scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


def scrub_written_json(written: str, secrets: tuple[str, ...]) -> str | None:
    """JSON as orjson writes it (compact, `written`), its secrets replaced where `scrub` replaces
    them in the value (a string or key equal to one; a long one inside a string): exactly
    `orjson.dumps(scrub(value, secrets))`. None when that cannot be read off the text alone, and
    the value must be walked.

    Read off the text when it escapes nothing but quotes and whitespace (no `\\\\`, no `\\u`: then
    every `\\"` is an escaped quote and every other `"` opens or closes a string), and each secret
    found is inside a string value (an odd count of unescaped `"` before it; not a key, as two
    keys could become one), is not the letter of an escape, and overlaps no other; and no secret
    has `"`, `\\`, `[`, `]` or a control character in it, or is part of REDACTED (so no
    replacement makes or unmakes another). A provider's callback that echoes our webhook secret
    then costs a few searches of its text, not a copy of its every value (a Vapi callback: 8.7 µs
    with the text written, against 18.5 µs walked)."""
    if "\\\\" in written or "\\u" in written:
        return None
    if any(not s.isprintable() or any(c in s for c in '"\\[]') or s in REDACTED for s in secrets):
        return None
    found = []
    for secret in secrets:
        # A short secret only where a whole string is the secret: its quotes are looked for too.
        needle, shift = (secret, 0) if len(secret) >= LONG_SECRET else (f'"{secret}"', 1)
        at = written.find(needle)
        while at != -1:
            if written[at - 1 : at] == "\\":  # an escape's letter, or an escaped quote
                return None
            found.append((at + shift, len(secret)))
            at = written.find(needle, at + len(needle))
    found.sort()
    parts, kept, quotes = [], 0, 0
    for at, size in found:
        if at < kept:  # two secrets overlap
            return None
        quotes += written.count('"', kept, at) - written.count('\\"', kept, at)
        if quotes % 2 == 0:  # outside a string: in a number, or between two strings
            return None
        close = written.find('"', at + size)
        while written[close - 1] == "\\":
            close = written.find('"', close + 1)
        if written[close + 1 : close + 2] == ":":  # in a key: two keys could become one
            return None
        parts += (written[kept:at], REDACTED)
        kept = at + size
    return "".join(parts) + written[kept:]
