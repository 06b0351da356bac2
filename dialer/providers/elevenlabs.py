"""ElevenLabs Agents: `POST /v1/convai/twilio/outbound-call` (or `/v1/convai/sip-trunk/outbound-call`
for a SIP trunk) to dial, the post-call webhook (signed `ElevenLabs-Signature`) to hear back,
`GET /v1/convai/conversations/{conversation_id}` to reconcile.

The account: `api_key` is an ElevenLabs API key (sent in `xi-api-key`); `webhook_secret` is the
post-call webhook's HMAC secret from ElevenLabs' console (each webhook carries
`ElevenLabs-Signature: t=<unix seconds>,v0=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; one older
than 30 minutes is refused, as ElevenLabs' SDK does); `settings.trunk` is "twilio" (default) or
"sip". The campaign's assistantId is the `agent_id`, the caller ID's provider id the
`agent_phone_number_id`; our call id travels in the conversation's dynamic variables
(`dialdeck_call_id`) with the customer's variableValues. A `post_call_transcription` ends the call
(its `termination_reason` mapped in campaigns.rules.provider_outcomes; `analysis` stored as is, its
`transcript_summary` as the summary); a `call_initiation_failure` ends it as busy, unanswered or
failed. ElevenLabs reports cost (`metadata.cost`) in credits, not money: it is stored with the unit
"credits", summed per unit, never added to a campaign's money.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest

from campaigns.models import Call
from campaigns.rules import provider_outcomes as rules
from campaigns.services.inputs import CallEvent
from dialer.providers.base import ProviderError, WebhookRejected
from dialer.providers.rest import RestProvider, text

TOLERANCE_SECONDS = 30 * 60
OUR_ID = "dialdeck_call_id"


class ElevenLabsProvider(RestProvider):
    name = "elevenlabs"
    default_base_url = "https://api.elevenlabs.io"
    check_path = "/v1/user/subscription"  # the plan: read only (GET /v1/user echoes the key)

    def auth_headers(self) -> dict[str, str]:
        return {"xi-api-key": self.account.api_key}

    def refusal(self, code: int, data: dict[str, Any]) -> tuple[bool, str]:
        detail = data.get("detail")
        said = detail.get("message", "") if isinstance(detail, dict) else detail or data.get("message", "")
        return code >= 500 or code in (408, 429), str(said)[:160]

    def call_id_of(self, answer: dict[str, Any]) -> str:
        return text(answer.get("conversation_id"), 100) if answer.get("success") is not False else ""

    def create(self, call: Call) -> tuple[str, dict[str, Any]]:
        customer, phone = call.customer, call.phone_number
        values = (customer.assistant_overrides or {}).get("variableValues") or {}
        variables = {str(k): v for k, v in values.items()} | {OUR_ID: str(call.pk)}
        _, agent = call.campaign.target
        body = {"agent_id": agent, "agent_phone_number_id": phone.provider_phone_number_id or str(phone.pk)}
        body |= {"to_number": customer.number}
        body["conversation_initiation_client_data"] = {"dynamic_variables": variables}
        trunk = "sip-trunk" if self.account.settings.get("trunk") == "sip" else "twilio"
        return f"/v1/convai/{trunk}/outbound-call", body

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Verify ElevenLabs-Signature, then read one post-call event. WebhookRejected 401/413/400."""
        body = self.read_body(request)
        parts = dict(
            p.split("=", 1) for p in request.META.get("HTTP_ELEVENLABS_SIGNATURE", "").split(",") if "=" in p
        )
        stamp, given = parts.get("t", ""), parts.get("v0", "")
        if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE_SECONDS:
            raise WebhookRejected("missing, malformed or stale ElevenLabs-Signature", status=401)
        secret = self.account.webhook_secret.encode()
        expected = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        if not secret or not hmac.compare_digest(expected, given):
            raise WebhookRejected("wrong ElevenLabs-Signature", status=401)
        payload = self.json_body(body)
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        raw = self.redact_text(body.decode(errors="replace"), payload)
        if payload.get("type") == "call_initiation_failure":
            return self.events(data, raw=raw, failure=text(data.get("failure_reason"), 40) or "unknown")
        if payload.get("type") != "post_call_transcription":
            return []
        return self.events(data, raw=raw)

    def events(self, data: dict, *, raw: str, failure: str = "", **ids: str) -> list[CallEvent]:
        client = data.get("conversation_initiation_client_data")
        variables = (client.get("dynamic_variables") if isinstance(client, dict) else None) or {}
        ids = {
            "call_id": text(variables.get(OUR_ID), 36),
            "provider_call_id": text(data.get("conversation_id"), 100),
        } | ids
        metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        status, reason = rules.elevenlabs_status(
            text(data.get("status"), 40),
            failure_reason=failure,
            termination=text(metadata.get("termination_reason"), 200),
        )
        start = metadata.get("start_time_unix_secs")
        started = datetime.fromtimestamp(start, tz=UTC) if isinstance(start, int) and start > 0 else None
        if status != "ended":
            return [CallEvent(kind="status-update", status=status, started_at=started, raw=raw, **ids)]
        seconds = metadata.get("call_duration_secs")
        ended = started + timedelta(seconds=seconds) if started and isinstance(seconds, int | float) else None
        analysis = data.get("analysis") if isinstance(data.get("analysis"), dict) else None
        turns = data.get("transcript") if isinstance(data.get("transcript"), list) else []
        transcript = "\n".join(
            f"{t.get('role', '')}: {t.get('message') or ''}" for t in turns if isinstance(t, dict)
        )
        return [
            CallEvent(
                kind="end-of-call-report",
                status="ended",
                ended_reason=reason,
                started_at=started if not failure else None,
                ended_at=ended,
                analysis=analysis,
                summary=text((analysis or {}).get("transcript_summary")),
                cost=_credits(metadata.get("cost")),
                cost_unit="credits",
                transcript=transcript,
                raw=raw,
                **ids,
            )
        ]

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET /v1/convai/conversations/{id} as events; 404: ended NOT_FOUND."""
        if not call.provider_call_id:
            return []
        try:
            found = self.get(f"/v1/convai/conversations/{quote(call.provider_call_id, safe='')}").answer
        except ProviderError as exc:
            return self.not_found(call, exc)
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        return self.events(found, raw=json.dumps(self.redact(found)), **ids)


def _credits(value: Any) -> Decimal | None:
    """ElevenLabs' cost in credits (an integer), if it is a sane one."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 10**6:
        return None
    return Decimal(str(value)).quantize(Decimal("0.0001"))
