"""A Vapi-compatible provider: POST /call to dial, webhooks to hear back, GET /call/{id} to reconcile.

Each call carries its way home (spec §10-§11): our per-account webhook URL, the account's secret
(sent back in X-Vapi-Secret) and our ids in the overrides' metadata. Exchanges are recorded with
the secret and API key redacted. 5xx, 408, 429, timeouts and broken connections are retryable;
other 4xx end the call with Vapi's endedReason if the body has one, else REJECTED.
"""

from __future__ import annotations

import hmac
import json
import os
import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote, urlsplit
from urllib.request import getproxies, proxy_bypass

import orjson
import urllib3
from django.conf import settings
from django.http import HttpRequest

from campaigns.models import Call, CallStatus
from dialer.providers.base import CallEvent, Exchange, HttpProvider, ProviderError, WebhookRejected

FAILED = "call.start.error-provider-request-failed"
REJECTED = "call.start.error-provider-rejected-request"
NOT_FOUND = "call.dialdeck.not-found-at-provider"
RETRYABLE_REASONS = {"call.start.error-subscription-concurrency-limit-reached"}
MESSAGES = ("status-update", "end-of-call-report")
OVERRIDES = dict(assistantId="assistantOverrides", squadId="squadOverrides", workflowId="workflowOverrides")
# CreateCustomerDTO key -> Customer field, sent when set (numberE164CheckEnabled only when false).
CUSTOMER_DTO = {"number": "number", "name": "name", "email": "email", "sipUri": "sip_uri"}
CUSTOMER_DTO |= {"externalId": "external_id", "extension": "extension"}
WEB = ("https://", "http://")


def _new_pools() -> dict[str, urllib3.PoolManager]:
    """Keep-alive pools of this process, big enough for the placement threads (dialer.placement):
    one direct, and one per proxy named by HTTP_PROXY / HTTPS_PROXY (NO_PROXY honoured)."""
    pools: dict[str, urllib3.PoolManager] = {"": urllib3.PoolManager(num_pools=8, maxsize=32)}
    for scheme, proxy in getproxies().items():
        if scheme in ("http", "https"):
            pools[scheme] = urllib3.ProxyManager(proxy, num_pools=8, maxsize=32)
    return pools


def _pool(url: str) -> urllib3.PoolManager:
    parts = urlsplit(url)
    if parts.scheme in _pools and not proxy_bypass(parts.hostname or ""):
        return _pools[parts.scheme]
    return _pools[""]


_pools = _new_pools()  # a forked child starts its own
os.register_at_fork(after_in_child=lambda: globals().update(_pools=_new_pools()))


class VapiProvider(HttpProvider):
    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Authenticate first, then bound and parse one server message; [] for what we do not act on.

        Raises WebhookRejected: 401 missing or wrong secret, 413 over WEBHOOK_MAX_BYTES, 400 not JSON.
        """
        meta, secret = request.META, self.account.webhook_secret.encode()  # not .headers: a copy per call
        auth = meta.get("HTTP_AUTHORIZATION", "")
        given = (meta.get("HTTP_X_VAPI_SECRET", ""), auth[7:] if auth[:7].lower() == "bearer " else "")
        if not secret or not any(g and hmac.compare_digest(g.encode(), secret) for g in given):
            raise WebhookRejected("missing or wrong webhook secret", status=401)
        limit, declared = settings.WEBHOOK_MAX_BYTES, str(request.META.get("CONTENT_LENGTH", ""))
        if (declared.isdigit() and int(declared) > limit) or len(body := request.read(limit + 1)) > limit:
            raise WebhookRejected(f"body over {limit} bytes", status=413)
        try:
            message = orjson.loads(body)["message"]
            call, kind = _obj(message.get("call")), message.get("type")
        except (ValueError, LookupError, TypeError, AttributeError, RecursionError):
            raise WebhookRejected('not a JSON {"message": {...}}', status=400) from None
        known_status = kind == "end-of-call-report" or message.get("status") in CallStatus.values
        if kind not in MESSAGES or not known_status:
            return []
        raw = self._redact(body.decode(errors="replace"))
        return [_event(kind, call | message, raw=raw, at=_when(message.get("timestamp")), **_ids(call))]

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET /call/{id} as events: its status, and its report once ended. 404: ended with NOT_FOUND."""
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        if not call.provider_call_id:
            return []
        try:
            found = self._poll(f"/call/{quote(call.provider_call_id, safe='')}")
        except ProviderError as exc:
            if exc.http_status != 404:
                raise
            return [CallEvent(kind="status-update", status="ended", ended_reason=NOT_FOUND, **ids)]
        if found.get("status") not in CallStatus.values:
            return []
        events = [_event("status-update", found, raw=self._redact(json.dumps(found)), **ids)]
        if found["status"] == "ended" and (found.get("analysis") or found.get("artifact")):
            events.append(_event("end-of-call-report", found, raw=events[0].raw, **ids))
        return events

    def _body(self, call: Call) -> dict[str, Any]:
        """CreateCallDTO (spec §10): customer overrides deep-merged under our server and metadata."""
        campaign, customer, account, phone = call.campaign, call.customer, self.account, call.phone_number
        server = {"url": f"{settings.SITE_URL}/webhooks/vapi/{account.webhook_token}", "timeoutSeconds": 20}
        server["headers"] = {"X-Vapi-Secret": account.webhook_secret}
        metadata = {"campaignId": str(campaign.pk), "customerId": str(customer.pk), "callId": str(call.pk)}
        metadata |= {"customerIndex": customer.position, "attempt": call.attempt}
        ours = {"server": server, "serverMessages": list(MESSAGES), "metadata": metadata}
        overrides = _merge(_obj(customer.assistant_overrides), ours)
        if campaign.machine_detection and "voicemailDetection" not in overrides:
            overrides["voicemailDetection"] = {"provider": "vapi"}
        target_key, target = campaign.target
        if target_key == "workflowId":  # WorkflowOverrides holds nothing but variableValues
            overrides = {k: v for k, v in overrides.items() if k == "variableValues"}
        dto = {key: getattr(customer, f) for key, f in CUSTOMER_DTO.items() if getattr(customer, f)}
        if not customer.number_e164_check_enabled:
            dto["numberE164CheckEnabled"] = False
        body = {target_key: target, "phoneNumberId": phone.provider_phone_number_id or str(phone.pk)}
        body |= {"customer": dto, "name": f"camp {str(campaign.pk)[:8]} #{customer.position}"[:40]}
        return body | ({OVERRIDES[target_key]: overrides} if overrides else {})

    def prepare_call(self, call: Call) -> Exchange:
        return self._exchange(call, "POST", "/call", self._body(call))

    def accepted(self, exchange: Exchange) -> str:
        """POST /call's answer: Vapi's call id. Raises ProviderError (see the module docstring)."""
        if exchange.error:
            raise exchange.error
        if not _text(exchange.answer.get("id"), 100):
            raise ProviderError("answered without a call id", retryable=False, ended_reason=REJECTED)
        return exchange.answer["id"]

    def _exchange(self, call: Call | None, method: str, path: str, body: dict | None = None) -> Exchange:
        logged = self._redact(json.dumps(body)) if body else ""
        return Exchange(call=call, method=method, path=path, body=body, logged_body=logged)

    def send(self, exchange: Exchange, *, poll: bool = False) -> None:
        """One exchange: the answer, or a ProviderError in `exchange.error`."""
        method, path = exchange.method, exchange.path
        url, timeout = self.account.base_url.rstrip("/") + path, settings.PROVIDER_HTTP_TIMEOUT
        headers = {"Authorization": f"Bearer {self.account.api_key}"}
        if exchange.body is not None:
            headers["Content-Type"] = "application/json"
        try:
            answer = _pool(url).request(
                method,
                url,
                body=None if exchange.body is None else orjson.dumps(exchange.body),
                headers=headers,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=False,
                retries=False,
            )
        except urllib3.exceptions.ReadTimeoutError as exc:
            # The request went out; the provider may have created the call. Posting again could
            # ring the person twice, so the call waits for its callbacks or the reaper instead.
            exchange.summary = f"{method} {path}: {_describe(exc)}"
            exchange.error = ProviderError(exchange.summary, retryable=False, outcome_unknown=not poll)
            return
        except (urllib3.exceptions.HTTPError, OSError) as exc:  # refused, reset, closed, bad URL
            exchange.summary = f"{method} {path}: {_describe(exc)}"
            exchange.error = ProviderError(exchange.summary, retryable=True)
            return
        code, text = answer.status, answer.data.decode(errors="replace")
        exchange.status, exchange.summary = code, f"{method} {path} -> {code}"
        exchange.answer_text = self._redact(text)
        try:
            data = _obj(orjson.loads(text))
        except orjson.JSONDecodeError:
            data = {}
        exchange.answer, exchange.headers = data, answer.headers
        if 200 <= code < 300:
            return
        reason, said = _text(data.get("endedReason"), 200), str(data.get("message") or "")[:120]
        retryable = code >= 500 or code in (408, 429) or reason in RETRYABLE_REASONS
        ended = reason or (FAILED if retryable else REJECTED)
        wait = min(300, int(after)) if (after := answer.headers.get("Retry-After", "")).isdigit() else None
        text = f"{method} {path}: the provider answered {code} {said}".strip()
        exchange.error = ProviderError(
            text, retryable=retryable, retry_after=wait, ended_reason=ended, http_status=code
        )

    def _poll(self, path: str) -> dict:
        """GET `path`, both halves recorded on the call's log. Returns the JSON object answered."""
        exchange = self._exchange(None, "GET", path)
        self.record("poll", exchange.request_summary)
        self.send(exchange, poll=True)
        self.record("poll", exchange.summary, http_status=exchange.status, body=exchange.answer_text)
        if exchange.error:
            raise exchange.error
        return exchange.answer

    def _redact(self, text: str) -> str:
        for secret in filter(None, (self.account.webhook_secret, self.account.api_key)):
            text = text.replace(secret, "[redacted]")
        return text


def _ids(call: dict) -> dict[str, str]:
    """Our call id from the overrides' metadata (or the call's own), and the provider's id."""
    found = [_obj(_obj(call.get(key)).get("metadata")) for key in OVERRIDES.values()]
    metadata = next(filter(None, found), _obj(call.get("metadata")))
    try:
        call_id = str(uuid.UUID(_text(metadata.get("callId"), 36)))
    except ValueError:
        call_id = ""
    return {"call_id": call_id, "provider_call_id": _text(call.get("id"), 100)}


def _event(kind: str, source: dict, **common: Any) -> CallEvent:
    """An event from a server message merged over its call, or from a Call object (GET /call)."""
    artifact, analysis = _obj(source.get("artifact")), _obj(source.get("analysis"))
    recording = _obj(artifact.get("recording"))
    mono = artifact.get("recordingUrl") or _obj(recording.get("mono")).get("combinedUrl")
    stereo = artifact.get("stereoRecordingUrl") or recording.get("stereoUrl")
    status = "ended" if kind == "end-of-call-report" else source["status"]
    return CallEvent(
        kind=kind,
        status=status,
        ended_reason=_text(source.get("endedReason"), 200) if status == "ended" else "",
        started_at=_when(source.get("startedAt")),
        ended_at=_when(source.get("endedAt")) if status == "ended" else None,
        cost=_cost(source.get("cost")),
        summary=_text(analysis.get("summary")),
        transcript=_text(artifact.get("transcript")),
        recording_url=_text(mono, 500, WEB),
        stereo_recording_url=_text(stereo, 500, WEB),
        analysis=analysis or None,
        **common,
    )


def _merge(base: dict, ours: dict) -> dict:
    """Deep merge: nested objects merge key by key; `ours` wins."""
    both = {k for k, v in ours.items() if isinstance(v, dict) and isinstance(base.get(k), dict)}
    return base | {k: _merge(base[k], v) if k in both else v for k, v in ours.items()}


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 10**7, starts: tuple[str, ...] = ("",)) -> str:
    return value if isinstance(value, str) and len(value) <= limit and value.startswith(starts) else ""


def _when(value: Any) -> datetime | None:
    """Milliseconds since the epoch (message.timestamp) or ISO 8601 (startedAt, endedAt), as aware UTC."""
    try:
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return datetime.fromtimestamp(value / 1000, tz=UTC) if type(value) in (int, float) else None
    except (ValueError, OverflowError, OSError):
        return None


def _cost(value: Any) -> Decimal | None:
    try:  # None, booleans, objects and NaN all raise here
        cost = Decimal(str(value))
        return cost.quantize(Decimal("0.0001")) if 0 <= cost < 10**6 else None
    except InvalidOperation:
        return None


def _describe(exc: Exception) -> str:
    """Why no answer came, in a line: the timeout, or the root error (refused, reset, closed)."""
    timeout = settings.PROVIDER_HTTP_TIMEOUT
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
        return f"no answer within {timeout:g} s (ReadTimeout)"
    if type(exc) is urllib3.exceptions.ConnectTimeoutError:
        return f"no connection within {timeout:g} s (ConnectTimeout)"
    root: BaseException = exc
    while True:
        inner = root.__cause__ or root.__context__
        inner = inner or next((a for a in getattr(root, "args", ()) if isinstance(a, BaseException)), None)
        if inner is None:
            break
        root = inner
    return f"{type(root).__name__}: {root}"[:160]
