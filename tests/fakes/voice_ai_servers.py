"""Local fakes of three voice-AI platforms' outbound-call APIs, answering and calling back as each
documents it. Each plays a call by `outcome(body)`: "answered", "voicemail", "busy", "no-answer".

- `FakeRetell` (docs.retellai.com): `POST /v2/create-phone-call` (Bearer key; 400 without
  from_number/to_number in E.164; 201 with the call, `call_status: registered`), webhooks
  `call_started` (only when the call connected), `call_ended` (`disconnection_reason`,
  `call_cost.combined_cost` in cents), `call_analyzed` (`call_analysis`), each `{"event", "call"}`
  signed `x-retell-signature: v=<ms>,d=<hex HMAC-SHA256(api key, body + ms)>`, to the agent's
  webhook URL (`agent_webhook_url`, as set in Retell's console); `GET /v2/get-call/{call_id}`.
- `FakeBland` (docs.bland.ai): `POST /v1/calls` (`authorization: <key>`; 400 without
  phone_number; 200 `{"status": "success", "call_id"}`), one post-call webhook to the request's
  `webhook` with the call details (`status`, `completed`, `answered_by`, `call_ended_by`, `price`,
  `call_length` in minutes, `metadata`), signed `X-Webhook-Signature: <hex HMAC-SHA256(secret,
  body)>`; `GET /v1/calls/{call_id}`.
- `FakeElevenLabs` (elevenlabs.io/docs): `POST /v1/convai/twilio/outbound-call` and
  `/v1/convai/sip-trunk/outbound-call` (`xi-api-key`; 422 with FastAPI's `detail` list for a
  missing field; 200 `{"success": true, "conversation_id", "callSid"}`), the post-call webhook
  (`post_call_transcription`, or `call_initiation_failure` when nobody answered) to the
  workspace's webhook URL (`workspace_webhook_url`), signed `ElevenLabs-Signature:
  t=<s>,v0=<hex HMAC-SHA256(secret, "<t>.<body>")>`; `GET /v1/convai/conversations/{id}`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid

from tests.fakes.provider_server import FakeProvider, Received

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _json(request: Received) -> dict:
    try:
        body = json.loads(request.raw or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


class FakeRetell(FakeProvider):
    name = "retell"
    create_path = r"/v2/create-phone-call"

    def __init__(self, *, api_key: str = "key_retell_0123456789") -> None:
        super().__init__()
        self.api_key, self.agent_webhook_url = api_key, ""

    def error_body(self, status: int) -> dict:
        return {"status": "error", "message": "Too many requests" if status == 429 else "Internal error"}

    def route(self, request: Received):
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return 401, {"status": "error", "message": "Invalid API key"}, {}
        if request.method == "GET" and request.path == "/list-agents":
            return 200, [{"agent_id": "agent_default", "agent_name": "Fake agent", "version": 0}], {}
        if request.method == "GET" and (m := re.fullmatch(r"/v2/get-call/([^/]+)", request.path)):
            with self._lock:
                call = self.calls.get(m[1])
            return (200, call, {}) if call else (404, {"status": "error", "message": "Call not found"}, {})
        if request.method == "POST" and request.path == "/v2/create-phone-call":
            body = _json(request)
            for key in ("from_number", "to_number"):
                if not E164.match(str(body.get(key, ""))):
                    return 400, {"status": "error", "message": f"{key} must be a valid E.164 number"}, {}
            now = int(time.time() * 1000)
            call = {
                "call_type": "phone_call",
                "call_id": "call_" + uuid.uuid4().hex[:24],
                "agent_id": body.get("override_agent_id", "agent_default"),
                "call_status": "registered",
                "from_number": body["from_number"],
                "to_number": body["to_number"],
                "direction": "outbound",
                "metadata": body.get("metadata") or {},
                "start_timestamp": None,
                "end_timestamp": None,
                "retell_llm_dynamic_variables": body.get("retell_llm_dynamic_variables") or {},
                "created": now,
            }
            with self._lock:
                self.calls[call["call_id"]] = call
                self.placed.append(call["metadata"].get("callId"))
            self._play(call["call_id"], self.outcome(body))
            return 201, call, {}
        return 404, {"status": "error", "message": "Not Found"}, {}

    def _play(self, call_id: str, outcome: str) -> None:
        connected = outcome in ("answered", "voicemail")
        begin, end = self.ring + self.answer, self.ring + self.answer + self.talk
        reason = {"answered": "user_hangup", "voicemail": "voicemail_reached", "busy": "dial_busy"}.get(
            outcome, "dial_no_answer"
        )
        if connected:
            self._change(begin, call_id, "call_started", call_status="ongoing", start_timestamp=_ms(begin))
        ended = {"call_status": "ended", "disconnection_reason": reason, "end_timestamp": _ms(end)}
        if connected:
            ended |= {
                "transcript": "Agent: Hi!\nUser: Hello.",
                "recording_url": f"https://rec.example.com/{call_id}.wav",
            }
            ended["call_cost"] = {"combined_cost": 12.5, "total_duration_seconds": 9}
        else:
            ended["call_status"] = "not_connected"
        self._change(end, call_id, "call_ended", **ended)
        if connected:
            analysis = {
                "call_summary": f"Fake call: {outcome}.",
                "user_sentiment": "Positive",
                "call_successful": outcome == "answered",
                "in_voicemail": outcome == "voicemail",
            }
            self._change(end + self.report, call_id, "call_analyzed", call_analysis=analysis)

    def _change(self, delay: float, call_id: str, event: str, **fields) -> None:
        def change() -> None:
            with self._lock:
                self.calls[call_id] = {**self.calls[call_id], **fields}

        self.at(delay, change)
        self.post_later(delay, self.agent_webhook_url, event, lambda: self.sign(event, call_id))

    def sign(self, event: str, call_id: str) -> tuple[bytes, dict]:
        with self._lock:
            body = json.dumps({"event": event, "call": self.calls[call_id]}).encode()
        stamp = str(int(time.time() * 1000))
        digest = hmac.new(self.api_key.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "x-retell-signature": f"v={stamp},d={digest}"}


class FakeBland(FakeProvider):
    name = "bland"
    create_path = r"/v1/calls"

    def __init__(
        self, *, api_key: str = "sk-bland-0123456789", webhook_secret: str = "bland-signing-secret-42"
    ):
        super().__init__()
        self.api_key, self.webhook_secret = api_key, webhook_secret

    def error_body(self, status: int) -> dict:
        return {
            "status": "error",
            "message": "Rate limit exceeded" if status == 429 else "Internal server error",
        }

    def route(self, request: Received):
        if request.headers.get("authorization") != self.api_key:
            return 401, {"status": "error", "message": "Invalid API key"}, {}
        if request.method == "GET" and request.path == "/v1/me":
            return (
                200,
                {"status": "active", "billing": {"current_balance": 12.5}, "total_calls": len(self.calls)},
                {},
            )
        if request.method == "GET" and (m := re.fullmatch(r"/v1/calls/([^/]+)", request.path)):
            with self._lock:
                call = self.calls.get(m[1])
            return (200, call, {}) if call else (404, {"status": "error", "message": "Call not found"}, {})
        if request.method == "POST" and request.path == "/v1/calls":
            body = _json(request)
            if not body.get("phone_number"):
                return 400, {"status": "error", "message": "Missing required parameter: phone_number"}, {}
            if not (body.get("task") or body.get("pathway_id") or body.get("persona_id")):
                return (
                    400,
                    {"status": "error", "message": "Missing required parameter: task or pathway_id"},
                    {},
                )
            call_id = str(uuid.uuid4())
            call = {
                "call_id": call_id,
                "c_id": call_id,
                "to": body["phone_number"],
                "from": body.get("from"),
                "request_data": body.get("request_data") or {},
                "metadata": body.get("metadata") or {},
                "completed": False,
                "queue_status": "queued",
                "status": "queued",
                "inbound": False,
                "max_duration": body.get("max_duration", 30),
                "answered_by": None,
                "call_length": None,
                "price": None,
                "created_at": _iso(0),
                "started_at": None,
                "error_message": None,
            }
            with self._lock:
                self.calls[call_id] = call
                self.placed.append(call["metadata"].get("callId"))
            self._play(call_id, self.outcome(body), body)
            return (
                200,
                {
                    "status": "success",
                    "message": "Call successfully queued.",
                    "call_id": call_id,
                    "batch_id": None,
                },
                {},
            )
        return 404, {"status": "error", "message": "Not Found"}, {}

    def _play(self, call_id: str, outcome: str, body: dict) -> None:
        begin, end = self.ring + self.answer, self.ring + self.answer + self.talk
        connected = outcome in ("answered", "voicemail")
        if connected:
            self.at(begin, lambda: self._set(call_id, status="in-progress", started_at=_iso(begin)))
        final = {"completed": True, "queue_status": "complete", "status": "completed"}
        if connected:
            final |= {
                "call_length": round(self.talk / 60, 4),
                "price": 0.09,
                "call_ended_by": "USER",
                "answered_by": "voicemail"
                if outcome == "voicemail" and body.get("answered_by_enabled")
                else "human",
                "concatenated_transcript": "assistant: Hi! \n user: Hello.",
                "summary": f"Fake: {outcome}",
                "recording_url": f"https://rec.example.com/{call_id}.mp3",
                "analysis": {"interested": True},
            }
        else:
            final |= {
                "status": outcome,
                "call_length": 0,
                "price": 0,
                "answered_by": "no-answer" if outcome == "no-answer" else None,
            }
        self.at(end, lambda: self._set(call_id, **final))
        self.post_later(end, body.get("webhook", ""), "webhook", lambda: self.sign(call_id))

    def _set(self, call_id: str, **fields) -> None:
        with self._lock:
            self.calls[call_id] = {**self.calls[call_id], **fields}

    def sign(self, call_id: str) -> tuple[bytes, dict]:
        with self._lock:
            body = json.dumps(self.calls[call_id]).encode()
        digest = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Webhook-Signature": digest}


class FakeElevenLabs(FakeProvider):
    name = "elevenlabs"
    create_path = r"/v1/convai/(twilio|sip-trunk)/outbound-call"

    def __init__(
        self, *, api_key: str = "sk_eleven_0123456789", webhook_secret: str = "wsec_eleven_0123456789"
    ):
        super().__init__()
        self.api_key, self.webhook_secret, self.workspace_webhook_url = api_key, webhook_secret, ""

    def error_body(self, status: int) -> dict:
        return {
            "detail": {
                "status": "too_many_concurrent_requests" if status == 429 else "internal_error",
                "message": "Too many concurrent requests" if status == 429 else "Internal error",
            }
        }

    def route(self, request: Received):
        if request.headers.get("xi-api-key") != self.api_key:
            return 401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, {}
        if request.method == "GET" and request.path == "/v1/user/subscription":
            return (
                200,
                {"tier": "creator", "character_count": 0, "character_limit": 100000, "status": "active"},
                {},
            )
        if request.method == "GET" and (m := re.fullmatch(r"/v1/convai/conversations/([^/]+)", request.path)):
            with self._lock:
                found = self.calls.get(m[1])
            if not found:
                return 404, {"detail": {"status": "conversation_not_found", "message": "Not found"}}, {}
            return 200, found, {}
        if request.method == "POST" and re.fullmatch(self.create_path, request.path):
            body = _json(request)
            missing = [k for k in ("agent_id", "agent_phone_number_id", "to_number") if not body.get(k)]
            if missing:
                detail = [
                    {"loc": ["body", k], "msg": "field required", "type": "value_error.missing"}
                    for k in missing
                ]
                return 422, {"detail": detail}, {}
            conversation_id = "conv_" + uuid.uuid4().hex[:20]
            client = body.get("conversation_initiation_client_data") or {}
            found = {
                "agent_id": body["agent_id"],
                "conversation_id": conversation_id,
                "status": "initiated",
                "transcript": [],
                "metadata": {"start_time_unix_secs": int(time.time()), "call_duration_secs": 0},
                "analysis": None,
                "conversation_initiation_client_data": client,
            }
            with self._lock:
                self.calls[conversation_id] = found
                self.placed.append((client.get("dynamic_variables") or {}).get("dialdeck_call_id"))
            self._play(conversation_id, self.outcome(body))
            call = (
                {"callSid": "CA" + uuid.uuid4().hex}
                if "twilio" in request.path
                else {"sip_call_id": uuid.uuid4().hex}
            )
            return (
                200,
                {"success": True, "message": "Success", "conversation_id": conversation_id, **call},
                {},
            )
        return 404, {"detail": "Not Found"}, {}

    def _play(self, conversation_id: str, outcome: str) -> None:
        begin, end = self.ring + self.answer, self.ring + self.answer + self.talk
        if outcome in ("busy", "no-answer"):
            self.at(end, lambda: self._set(conversation_id, status="failed"))
            failure = {
                "agent_id": "",
                "conversation_id": conversation_id,
                "failure_reason": outcome,
                "metadata": {},
            }
            self.post_later(
                end,
                self.workspace_webhook_url,
                "call_initiation_failure",
                lambda: self.sign("call_initiation_failure", failure | self._client(conversation_id)),
            )
            return
        self.at(begin, lambda: self._set(conversation_id, status="in-progress"))
        said = "voicemail detected" if outcome == "voicemail" else "Call ended by remote party"
        metadata = {
            "start_time_unix_secs": int(time.time()),
            "call_duration_secs": 9,
            "cost": 412,
            "termination_reason": said,
        }
        analysis = {
            "call_successful": "success",
            "transcript_summary": f"Fake: {outcome}",
            "data_collection_results": {},
            "evaluation_criteria_results": {},
        }
        transcript = [
            {"role": "agent", "message": "Hi!", "time_in_call_secs": 0},
            {"role": "user", "message": "Hello.", "time_in_call_secs": 2},
        ]
        done = {"status": "done", "metadata": metadata, "analysis": analysis, "transcript": transcript}
        self.at(end + self.report, lambda: self._set(conversation_id, **done))
        self.post_later(
            end + self.report,
            self.workspace_webhook_url,
            "post_call_transcription",
            lambda: self.sign("post_call_transcription", self.calls[conversation_id]),
        )

    def _client(self, conversation_id: str) -> dict:
        return {
            "conversation_initiation_client_data": self.calls[conversation_id][
                "conversation_initiation_client_data"
            ]
        }

    def _set(self, conversation_id: str, **fields) -> None:
        with self._lock:
            self.calls[conversation_id] = {**self.calls[conversation_id], **fields}

    def sign(self, kind: str, data: dict) -> tuple[bytes, dict]:
        body = json.dumps({"type": kind, "event_timestamp": int(time.time()), "data": data}).encode()
        stamp = str(int(time.time()))
        digest = hmac.new(
            self.webhook_secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        return body, {"Content-Type": "application/json", "ElevenLabs-Signature": f"t={stamp},v0={digest}"}


def _ms(delay: float) -> int:
    return int((time.time() + delay) * 1000)


def _iso(delay: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(time.time() + delay, tz=UTC).isoformat()
