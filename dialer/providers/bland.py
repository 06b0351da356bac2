"""Bland AI: `POST /v1/calls` to dial, its post-call webhook to hear back (signed
`X-Webhook-Signature`), `GET /v1/calls/{call_id}` to reconcile.

The account: `api_key` is the Bland API key (sent in `authorization`, bare, as Bland documents);
`webhook_secret` is the webhook signing secret set in Bland's console (Bland signs each webhook's
raw body with it, HMAC-SHA256, hex). The campaign's assistantId is the `pathway_id`, the
customer's variableValues its `request_data`, our ids in `metadata` (echoed in the webhook);
`max_duration` (minutes) comes from the campaign's max duration and `answered_by_enabled` from
its machine detection (a voicemail is then our voicemail). `status`, `answered_by` and
`call_ended_by` map to our outcomes in campaigns.rules.provider_outcomes; `price` (USD) is the cost,
`analysis` the analysis, `summary` and `concatenated_transcript` the summary and transcript.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest

from campaigns.models import Call
from campaigns.rules import provider_outcomes as rules
from campaigns.services.inputs import CallEvent
from dialer.providers.base import ProviderError, WebhookRejected
from dialer.providers.rest import RestProvider, text


class BlandProvider(RestProvider):
    name = "bland"
    default_base_url = "https://api.bland.ai"
    check_path = "/v1/me"  # the account's details: read only

    def auth_headers(self) -> dict[str, str]:
        return {"authorization": self.account.api_key}

    def refusal(self, code: int, data: dict[str, Any]) -> tuple[bool, str]:
        errors = data.get("errors") if isinstance(data.get("errors"), list) else []
        said = data.get("message") or "; ".join(
            str(e.get("message", e)) for e in errors if isinstance(e, dict)
        )
        return code >= 500 or code in (408, 429), str(said)[:160]

    def create(self, call: Call) -> tuple[str, dict[str, Any]]:
        campaign, customer = call.campaign, call.customer
        body: dict[str, Any] = {"phone_number": customer.number, "from": call.phone_number.number}
        target_key, target = campaign.target
        body["pathway_id" if target_key in ("assistantId", "workflowId") else "persona_id"] = target
        body["webhook"] = self.webhook_url()
        body["metadata"] = {"callId": str(call.pk), "campaignId": str(campaign.pk), "attempt": call.attempt}
        body["max_duration"] = max(1, math.ceil(campaign.max_duration_seconds / 60))
        body["answered_by_enabled"] = bool(campaign.machine_detection)
        values = (customer.assistant_overrides or {}).get("variableValues") or {}
        if values:
            body["request_data"] = values
        return "/v1/calls", body

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Verify X-Webhook-Signature over the raw body, then read the call. WebhookRejected 401/413/400."""
        body = self.read_body(request)
        given = request.META.get("HTTP_X_WEBHOOK_SIGNATURE", "").strip()
        secret = self.account.webhook_secret.encode()
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not secret or not given or not hmac.compare_digest(expected, given):
            raise WebhookRejected("missing or wrong X-Webhook-Signature", status=401)
        payload = self.json_body(body)
        if not text(payload.get("call_id"), 100):
            return []
        return self.events(payload, raw=self.redact_text(body.decode(errors="replace"), payload))

    def events(self, found: dict, *, raw: str, **ids: str) -> list[CallEvent]:
        metadata = found.get("metadata") if isinstance(found.get("metadata"), dict) else {}
        ids = {
            "call_id": text(metadata.get("callId"), 36),
            "provider_call_id": text(found.get("call_id"), 100),
        } | ids
        status, reason = rules.bland_status(
            text(found.get("status"), 40),
            completed=found.get("completed") is True,
            answered_by=text(found.get("answered_by"), 40),
            ended_by=text(found.get("call_ended_by"), 40),
        )
        started = _iso(found.get("started_at"))
        if status != "ended":
            return [CallEvent(kind="status-update", status=status, started_at=started, raw=raw, **ids)]
        minutes = found.get("call_length")
        ended = started + timedelta(minutes=minutes) if started and isinstance(minutes, int | float) else None
        analysis = found.get("analysis") if isinstance(found.get("analysis"), dict) else None
        return [
            CallEvent(
                kind="end-of-call-report",
                status="ended",
                ended_reason=reason,
                started_at=started,
                ended_at=ended,
                cost=_usd(found.get("price")),
                cost_unit="USD",
                summary=text(found.get("summary")),
                analysis=analysis,
                transcript=text(found.get("concatenated_transcript")),
                recording_url=text(found.get("recording_url"), 500),
                raw=raw,
                **ids,
            )
        ]

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET /v1/calls/{call_id} as events; 404: ended NOT_FOUND."""
        if not call.provider_call_id:
            return []
        try:
            found = self.get(f"/v1/calls/{quote(call.provider_call_id, safe='')}").answer
        except ProviderError as exc:
            return self.not_found(call, exc)
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        return self.events(found, raw=json.dumps(self.redact(found)), **ids)


def _iso(value: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC) if parsed else None


def _usd(value: Any) -> Decimal | None:
    try:
        cost = Decimal(str(value)) if isinstance(value, int | float) else None
    except InvalidOperation:
        return None
    return cost.quantize(Decimal("0.0001")) if cost is not None and 0 <= cost < 10**6 else None
