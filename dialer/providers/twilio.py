"""Twilio Programmable Voice: `POST /2010-04-01/Accounts/{Sid}/Calls.json` to dial, signed
status callbacks and answering-machine detection to hear back, `GET …/Calls/{Sid}.json` to reconcile.

The account: `api_key` is the Auth Token (it signs Twilio's callbacks, and authenticates us with
the Account SID, or with `settings.api_key_sid` when it is an API key's secret); `settings` holds
`account_sid`, and either `stream_url` (the user's agent, reached by `<Connect><Stream>`, with
our ids, the campaign's assistantId and the customer's variableValues as `<Parameter>`s) or
`twiml` (the campaign's own TwiML, sent as is), and `voicemail_message` (said, then hung up, when
a machine answers; without it the call is hung up at once).

Each call carries its way home in its callback URLs (`?callId=…&cb=status|amd`), which Twilio
signs with the Auth Token (X-Twilio-Signature, checked with the official library's validator
against SITE_URL + the path): a forged or altered callback is refused (403). Timeout is the
campaign's max ring time, TimeLimit its max duration. With machine detection on, AMD runs
asynchronously (the agent starts at once); a machine or fax ends the call as `voicemail` and a
follow-up (dialer.tasks.provider_follow_up) drops the voicemail message or hangs up. Statuses and
AnsweredBy map to our outcomes in campaigns.rules.provider_outcomes (docs/providers/twilio.md).
429 (code 20429) and 5xx are retried with backoff.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from django.conf import settings
from django.http import HttpRequest
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from campaigns import clock
from campaigns.models import Call
from campaigns.rules import provider_outcomes as rules
from campaigns.services.inbound import InboundResult
from campaigns.services.inputs import CallEvent
from dialer.providers.base import InboundCall, ProviderError, WebhookRejected
from dialer.providers.rest import RestProvider, text

EVENTS = ("initiated", "ringing", "answered", "completed")
NO_AGENT = "call.dialdeck.twilio-no-agent-configured"


class TwilioProvider(RestProvider):
    name = "twilio"
    default_base_url = "https://api.twilio.com"

    @property
    def check_path(self) -> str:  # type: ignore[override]  # the account resource: read only
        return f"/2010-04-01/Accounts/{quote(self.sid, safe='')}.json"

    @property
    def sid(self) -> str:
        return str(self.account.settings.get("account_sid", ""))

    def auth_headers(self) -> dict[str, str]:
        user = self.account.settings.get("api_key_sid") or self.sid
        token = base64.b64encode(f"{user}:{self.account.api_key}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def encode(self, body: dict[str, Any]) -> tuple[bytes, str]:
        return urlencode(body, doseq=True).encode(), "application/x-www-form-urlencoded"

    def calls_path(self, sid: str = "") -> str:
        tail = f"/{quote(sid, safe='')}" if sid else ""
        return f"/2010-04-01/Accounts/{quote(self.sid, safe='')}/Calls{tail}.json"

    def call_id_of(self, answer: dict[str, Any]) -> str:
        return text(answer.get("sid"), 64)

    def refusal(self, code: int, data: dict[str, Any]) -> tuple[bool, str]:
        retryable = code >= 500 or code in (408, 429) or data.get("code") == 20429
        return retryable, f"{data.get('code', '')} {data.get('message', '')}".strip()[:160]

    def create(self, call: Call) -> tuple[str, dict[str, Any]]:
        campaign, customer = call.campaign, call.customer
        body: dict[str, Any] = {"To": customer.number, "From": call.phone_number.number}
        body["Twiml"] = self.twiml(call)
        body |= {"StatusCallback": self.webhook_url(callId=str(call.pk), cb="status")}
        body |= {"StatusCallbackEvent": list(EVENTS), "StatusCallbackMethod": "POST"}
        body |= {"Timeout": campaign.max_ring_seconds, "TimeLimit": campaign.max_duration_seconds}
        if campaign.machine_detection:
            detect = "DetectMessageEnd" if self.account.settings.get("voicemail_message") else "Enable"
            body |= {"MachineDetection": detect, "AsyncAmd": "true", "AsyncAmdStatusCallbackMethod": "POST"}
            body["AsyncAmdStatusCallback"] = self.webhook_url(callId=str(call.pk), cb="amd")
        return self.calls_path(), body

    def twiml(self, call: Call) -> str:
        """The campaign's TwiML (the account's `twiml`), or a <Connect><Stream> to its agent."""
        own, stream_url = self.account.settings.get("twiml"), self.account.settings.get("stream_url")
        if own:
            return str(own)
        if not stream_url:
            raise ProviderError(
                "not sent: the Twilio account has neither a stream URL nor TwiML",
                retryable=False,
                ended_reason=NO_AGENT,
            )
        response = VoiceResponse()
        stream = response.connect().stream(url=str(stream_url))
        target_key, target = call.campaign.target
        values = (call.customer.assistant_overrides or {}).get("variableValues") or {}
        parameters = {"callId": str(call.pk), "campaignId": str(call.campaign_id), target_key: target}
        for name, value in {**parameters, **values}.items():
            stream.parameter(name=str(name)[:64], value=str(value)[:500])
        return str(response)

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Verify X-Twilio-Signature over our URL and the form, then read a status or AMD callback.

        Raises WebhookRejected: 413 too large, 403 missing or wrong signature, 400 not a callback.
        """
        body, params = self._verified(request)
        sid, call_id, cb = params.get("CallSid", ""), request.GET.get("callId", ""), request.GET.get("cb")
        if not sid or cb not in ("status", "amd"):
            raise WebhookRejected("not a Twilio call callback", status=400)
        ids = {"call_id": call_id, "provider_call_id": sid[:64], "raw": self.redact_text(body.decode())}
        answered_by = params.get("AnsweredBy", "")
        if cb == "amd":
            if not rules.twilio_machine(answered_by):
                return []  # a person (or unknown): the agent goes on
            return [CallEvent(kind="amd", status="ended", ended_reason=rules.VOICEMAIL, at=_now(), **ids)]
        status, reason = rules.twilio_status(params.get("CallStatus", ""), answered_by)
        at = _rfc2822(params.get("Timestamp")) or _now()
        if status != "ended":
            return [CallEvent(kind="status-update", status=status, at=at, **ids)]
        seconds = int(d) if (d := params.get("CallDuration", "")).isdigit() else 0
        started = at - timedelta(seconds=seconds) if seconds else None
        return [
            CallEvent(
                kind="end-of-call-report",
                status="ended",
                ended_reason=reason,
                at=at,
                ended_at=at,
                started_at=started,
                analysis={"answeredBy": answered_by} if answered_by else None,
                **ids,
            )
        ]

    def _verified(self, request: HttpRequest) -> tuple[bytes, dict[str, str]]:
        """The body and its form, once X-Twilio-Signature is checked over our URL and the form
        (read once per request: parse_inbound and parse_webhook both ask). Raises WebhookRejected:
        413 too large, 403 missing or wrong signature."""
        if (cached := getattr(request, "_dialdeck_form", None)) is not None:
            return cached
        body = self.read_body(request)
        params = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        url = settings.SITE_URL + request.get_full_path()
        signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
        if not signature or not RequestValidator(self.account.api_key).validate(url, params, signature):
            raise WebhookRejected("missing or wrong X-Twilio-Signature", status=403)
        request._dialdeck_form = (body, params)  # type: ignore[attr-defined]
        return body, params

    def parse_inbound(self, request: HttpRequest) -> InboundCall | None:
        """Twilio's incoming-call webhook (the number's "A call comes in" URL: this account's
        address, optionally with `?cb=inbound`): signed like every callback; None for the status
        and AMD callbacks (`cb=status|amd`), which parse_webhook reads."""
        body, params = self._verified(request)
        cb = request.GET.get("cb")
        if cb != "inbound" and (cb is not None or params.get("Direction") != "inbound"):
            return None
        if not params.get("CallSid"):
            raise WebhookRejected("not a Twilio incoming call", status=400)
        return InboundCall(
            caller=params.get("From", "")[:40],
            called=params.get("To", "")[:40],
            provider_call_id=params["CallSid"][:64],
            raw=self.redact_text(body.decode(errors="replace")),
        )

    def inbound_answer(self, result: InboundResult) -> tuple[bytes, str]:
        """TwiML: the rejection message said, then <Hangup/> (no message: <Reject reason="busy"/>);
        or the campaign's agent: the account's own `twiml` as is, or <Connect><Stream> to its
        `stream_url` with the campaign's agent and the caller's context as <Parameter>s (without
        either, the call is declined with the message)."""
        response = VoiceResponse()
        own, stream_url = self.account.settings.get("twiml"), self.account.settings.get("stream_url")
        if result.answer.routed and result.target is not None and own:
            return str(own).encode(), "text/xml"
        if result.answer.routed and result.target is not None and stream_url:
            stream = response.connect().stream(url=str(stream_url))
            target_key, target = result.target
            for name, value in {target_key: target, **result.context}.items():
                stream.parameter(name=str(name)[:64], value=str(value)[:500])
        elif message := result.answer.message or (result.answer.routed and "This call was declined."):
            response.say(str(message))
            response.hangup()
        else:
            response.reject(reason="busy")
        return str(response).encode(), "text/xml"

    def follow_ups(self, events: list[CallEvent]) -> list[dict[str, str]]:
        """A machine answered: drop the voicemail message (or hang up), from a worker."""
        return [
            {"action": "voicemail", "call_id": e.call_id, "provider_call_id": e.provider_call_id}
            for e in events
            if e.kind == "amd"
        ]

    def follow_up(self, job: dict[str, str]) -> None:
        """POST …/Calls/{Sid}.json: `Twiml` saying the voicemail message then hanging up, or
        `Status=completed`. Raises ProviderError (recorded by the caller)."""
        message = self.account.settings.get("voicemail_message")
        if message:
            response = VoiceResponse()
            response.say(str(message))
            response.hangup()
            body = {"Twiml": str(response)}
        else:
            body = {"Status": "completed"}
        self.poll(self.exchange(None, "POST", self.calls_path(job["provider_call_id"]), body))

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET …/Calls/{Sid}.json as events: its status, and once ended its report (duration,
        AnsweredBy, price). 404: ended NOT_FOUND."""
        if not call.provider_call_id:
            return []
        try:
            found = self.get(self.calls_path(call.provider_call_id)).answer
        except ProviderError as exc:
            return self.not_found(call, exc)
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        answered_by = text(found.get("answered_by"), 40)
        status, reason = rules.twilio_status(text(found.get("status"), 20), answered_by)
        raw = json.dumps(self.redact(found))
        if status != "ended":
            return [CallEvent(kind="status-update", status=status, raw=raw, **ids)]
        return [
            CallEvent(
                kind="end-of-call-report",
                status="ended",
                ended_reason=reason,
                raw=raw,
                started_at=_rfc2822(found.get("start_time")),
                ended_at=_rfc2822(found.get("end_time")),
                cost=_price(found.get("price")),
                cost_unit=text(found.get("price_unit"), 12).upper() or "USD",
                analysis={"answeredBy": answered_by} if answered_by else None,
                **ids,
            )
        ]


def _rfc2822(value: Any) -> datetime | None:
    """Twilio's dates ("Tue, 31 Aug 2010 20:36:28 +0000"), aware UTC; None if not one."""
    try:
        return parsedate_to_datetime(value).astimezone(UTC) if isinstance(value, str) and value else None
    except (TypeError, ValueError):
        return None


def _price(value: Any) -> Decimal | None:
    """Twilio's price (a negative string, "-0.01300": what was charged), as a positive amount."""
    try:
        price = abs(Decimal(str(value))) if value is not None else None
    except InvalidOperation:
        return None
    return price.quantize(Decimal("0.0001")) if price is not None and price < 10**6 else None


def _now() -> datetime:
    return clock.now()
