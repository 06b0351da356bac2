"""Retell AI: `POST /v2/create-phone-call` to dial, the agent's webhook (`call_started`,
`call_ended`, `call_analyzed`, signed `x-retell-signature`) to hear back, `GET /v2/get-call/{id}`
to reconcile.

The account: `api_key` is a Retell API key (the one with the webhook badge: Retell signs each
webhook with it, `v=<ms>,d=<hex HMAC-SHA256(key, body + ms)>`, and a signature older than five
minutes is refused, as Retell's SDK does). The campaign's assistantId is sent as
`override_agent_id`, the customer's variableValues as `retell_llm_dynamic_variables`, our ids in
`metadata` (Retell echoes them in every webhook). `disconnection_reason` maps to our outcomes in
campaigns.rules.provider_outcomes; `call_analysis` lands in the call's analysis, its
`call_summary` in the summary; `call_cost.combined_cost` (cents) in the cost.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest

from campaigns.models import Call
from campaigns.rules import provider_outcomes as rules
from campaigns.services.inputs import CallEvent
from dialer.providers.base import ProviderError, WebhookRejected
from dialer.providers.rest import RestProvider, text

SIGNATURE = re.compile(r"v=(\d+),d=([0-9a-f]+)")
TOLERANCE_MS = 5 * 60 * 1000


class RetellProvider(RestProvider):
    name = "retell"
    default_base_url = "https://api.retellai.com"
    check_path = "/list-agents"  # the account's agents: read only

    def create(self, call: Call) -> tuple[str, dict[str, Any]]:
        customer = call.customer
        values = (customer.assistant_overrides or {}).get("variableValues") or {}
        body: dict[str, Any] = {"from_number": call.phone_number.number, "to_number": customer.number}
        body["metadata"] = {"callId": str(call.pk), "campaignId": str(call.campaign_id)}
        body["metadata"] |= {"customerId": str(customer.pk), "attempt": call.attempt}
        target_key, target = call.campaign.target
        if target_key == "assistantId" and target:
            body["override_agent_id"] = target
        if values:
            body["retell_llm_dynamic_variables"] = {str(k): str(v) for k, v in values.items()}
        return "/v2/create-phone-call", body

    def parse_webhook(self, request: HttpRequest) -> list[CallEvent]:
        """Verify x-retell-signature, then read one event. Raises WebhookRejected (401, 413, 400)."""
        body = self.read_body(request)
        found = SIGNATURE.fullmatch(request.META.get("HTTP_X_RETELL_SIGNATURE", "").strip())
        if not found or abs(time.time() * 1000 - int(found[1])) > TOLERANCE_MS:
            raise WebhookRejected("missing, malformed or stale x-retell-signature", status=401)
        signed = body + found[1].encode()
        expected = hmac.new(self.account.api_key.encode(), signed, hashlib.sha256).hexdigest()
        if not self.account.api_key or not hmac.compare_digest(expected, found[2]):
            raise WebhookRejected("wrong x-retell-signature", status=401)
        payload = self.json_body(body)
        event, call = payload.get("event"), payload.get("call")
        if event not in ("call_started", "call_ended", "call_analyzed") or not isinstance(call, dict):
            return []
        return self.events(call, event, raw=self.redact_text(body.decode(errors="replace"), payload))

    def events(self, call: dict, event: str, *, raw: str, **ids: str) -> list[CallEvent]:
        metadata = call.get("metadata") if isinstance(call.get("metadata"), dict) else {}
        ids = {
            "call_id": text(metadata.get("callId"), 36),
            "provider_call_id": text(call.get("call_id"), 100),
        } | ids
        status, reason = rules.retell_status(
            text(call.get("call_status"), 40), text(call.get("disconnection_reason"), 80)
        )
        if event == "call_started":
            status, reason = "in-progress", ""
        common: dict[str, Any] = {"raw": raw, "started_at": _ms(call.get("start_timestamp")), **ids}
        if status != "ended":
            return [CallEvent(kind="status-update", status=status, **common)]
        analysis = call.get("call_analysis") if isinstance(call.get("call_analysis"), dict) else None
        cents = (
            (call.get("call_cost") or {}).get("combined_cost")
            if isinstance(call.get("call_cost"), dict)
            else None
        )
        ended = CallEvent(
            kind="end-of-call-report" if analysis else "status-update",
            status="ended",
            ended_reason=reason,
            ended_at=_ms(call.get("end_timestamp")),
            transcript=text(call.get("transcript")),
            recording_url=text(call.get("recording_url"), 500),
            analysis=analysis,
            summary=text((analysis or {}).get("call_summary")),
            cost=(Decimal(str(cents)) / 100).quantize(Decimal("0.0001"))
            if isinstance(cents, int | float)
            else None,
            cost_unit="USD",
            **common,
        )
        return [ended]

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """GET /v2/get-call/{id}: its status, and once ended and analyzed its report. 404: NOT_FOUND."""
        if not call.provider_call_id:
            return []
        try:
            found = self.get(f"/v2/get-call/{quote(call.provider_call_id, safe='')}").answer
        except ProviderError as exc:
            return self.not_found(call, exc)
        ids = {"call_id": str(call.pk), "provider_call_id": call.provider_call_id}
        event = "call_analyzed" if found.get("call_analysis") else "call_ended"
        return self.events(found, event, raw=json.dumps(self.redact(found)), **ids)


def _ms(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value / 1000, tz=UTC) if isinstance(value, int) and value > 0 else None
