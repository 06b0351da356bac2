"""A local fake of Twilio Programmable Voice's Call resource, answering and calling back as Twilio
documents it (www.twilio.com/docs/voice/api/call-resource, /docs/usage/webhooks/voice-webhooks,
/docs/voice/answering-machine-detection, /docs/usage/security).

    with FakeTwilio() as twilio:              # account_sid, auth_token; twilio.url is the base URL

- `POST /2010-04-01/Accounts/{AccountSid}/Calls.json` (form-encoded, HTTP Basic with the Account
  SID and Auth Token): 401 code 20003 without them; 400 with Twilio's error JSON (`code`,
  `message`, `more_info`, `status`) for a missing To (21201), an invalid To (21211), a missing From
  (21603), neither Url nor Twiml (21205), a Timeout or TimeLimit out of range, an unknown
  MachineDetection or StatusCallbackEvent; 429 code 20429 past `concurrent_requests`. 201 with the
  Call (`sid` CA…, `status` queued).
- Status callbacks to StatusCallback (form POSTs, signed X-Twilio-Signature with the Auth Token,
  computed by the official library), for the StatusCallbackEvents asked (`completed` always):
  `initiated`, `ringing`, `in-progress` (answered), then `completed`, `busy`, `no-answer` or
  `failed`, each with CallSid, AccountSid, CallStatus, From, To, Direction, ApiVersion,
  CallbackSource, SequenceNumber, Timestamp (RFC 2822), and CallDuration on the last one (with
  AnsweredBy when machine detection ran).
- With AsyncAmd, the AMD verdict to AsyncAmdStatusCallback: CallSid, AccountSid, AnsweredBy
  (`human`, or `machine_start` / `machine_end_beep` under DetectMessageEnd), MachineDetectionDuration.
  A machine's call then waits for our update (`POST …/Calls/{Sid}.json` with `Twiml` or
  `Status=completed`), and completes after it (or after `machine_wait` seconds without one).
- `GET …/Calls/{Sid}.json`: the Call as it stands (`answered_by`, `duration`, `price` once ended);
  404 code 20404 for an unknown sid.
"""

from __future__ import annotations

import base64
import re
import threading
import time
import uuid
from email.utils import formatdate
from urllib.parse import parse_qs, urlencode

from twilio.request_validator import RequestValidator

from tests.fakes.provider_server import FakeProvider, Received

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EVENTS = {"initiated", "ringing", "answered", "completed"}
CALLS = re.compile(r"/2010-04-01/Accounts/([^/]+)/Calls\.json")
ONE_CALL = re.compile(r"/2010-04-01/Accounts/([^/]+)/Calls/([^/]+)\.json")
ENDED = {"answered": "completed", "voicemail": "completed", "busy": "busy", "no-answer": "no-answer"}
ENDED["failed"] = "failed"


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class FakeTwilio(FakeProvider):
    name = "twilio"
    create_path = r"/2010-04-01/Accounts/[^/]+/Calls\.json"

    def __init__(
        self, *, account_sid: str = "AC" + "0" * 31 + "1", auth_token: str = "twilio-auth-token-1234"
    ):
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.concurrent_requests, self.machine_wait = 100, 1.0
        self.updates: list[dict] = []  # each POST …/Calls/{Sid}.json's form
        self._in_flight = 0
        self._updated: dict[str, threading.Event] = {}

    def error_body(self, status: int) -> dict:
        if status == 429:
            return _error(20429, "Too Many Requests", 429)
        return _error(20500, "Internal Server Error", status)

    def route(self, request: Received):
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return 401, _error(20003, "Authenticate", 401), {"WWW-Authenticate": 'Basic realm="Twilio API"'}
        if request.method == "GET" and request.path == f"/2010-04-01/Accounts/{self.account_sid}.json":
            return 200, {"sid": self.account_sid, "friendly_name": "Fake account", "status": "active"}, {}
        if (
            (match := CALLS.fullmatch(request.path))
            and match[1] == self.account_sid
            and request.method == "POST"
        ):
            with self._lock:
                if self._in_flight >= self.concurrent_requests:
                    return 429, _error(20429, "Too Many Requests", 429), {}
                self._in_flight += 1
            try:
                return self._create(parse_qs(request.raw.decode(), keep_blank_values=True))
            finally:
                with self._lock:
                    self._in_flight -= 1
        if (match := ONE_CALL.fullmatch(request.path)) and match[1] == self.account_sid:
            with self._lock:
                call = dict(self.calls[match[2]]) if match[2] in self.calls else None
            if call is None:
                return 404, _error(20404, f"The requested resource {request.path} was not found", 404), {}
            if request.method == "POST":
                form = {k: v[-1] for k, v in parse_qs(request.raw.decode()).items()}
                with self._lock:
                    self.updates.append({"sid": match[2], **form})
                    self._updated.setdefault(match[2], threading.Event()).set()
            return 200, call, {}
        return 404, _error(20404, f"The requested resource {request.path} was not found", 404), {}

    def _create(self, form: dict[str, list[str]]):
        one = {k: v[-1] for k, v in form.items()}
        to, from_ = one.get("To", ""), one.get("From", "")
        if not to:
            return 400, _error(21201, "No 'To' number is specified", 400), {}
        if not E164.match(to):
            return 400, _error(21211, f"Invalid 'To' Phone Number: {to}", 400), {}
        if not from_:
            return 400, _error(21603, "A 'From' phone number is required.", 400), {}
        if not (one.get("Url") or one.get("Twiml") or one.get("ApplicationSid")):
            return 400, _error(21205, "Url parameter is required.", 400), {}
        for key, low, high in (("Timeout", 1, 600), ("TimeLimit", 1, 14400)):
            if key in one and not (one[key].isdigit() and low <= int(one[key]) <= high):
                return (
                    400,
                    _error(21216 if key == "Timeout" else 21217, f"Invalid {key}: {one[key]}", 400),
                    {},
                )
        if one.get("MachineDetection") not in (None, "Enable", "DetectMessageEnd"):
            return 400, _error(21262, "Invalid MachineDetection", 400), {}
        events = {e for value in form.get("StatusCallbackEvent", []) for e in value.split()}
        if not events <= EVENTS:
            return 400, _error(21626, f"Invalid StatusCallbackEvent: {sorted(events - EVENTS)}", 400), {}
        now = time.time()
        sid = "CA" + uuid.uuid4().hex
        call = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": from_,
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "answered_by": None,
            "date_created": formatdate(now),
            "date_updated": formatdate(now),
            "start_time": None,
            "end_time": None,
            "duration": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }
        match_id = re.search(r'name="callId" value="([^"]+)"', one.get("Twiml", ""))
        callback_id = re.search(r"callId=([0-9a-f-]+)", one.get("StatusCallback", ""))
        with self._lock:
            self.calls[sid] = call
            self.placed.append((callback_id or match_id)[1] if (callback_id or match_id) else None)
        self._play(sid, one, events | {"completed"})
        return 201, call, {}

    # -- playing a call --------------------------------------------------------------------------

    def _play(self, sid: str, form: dict[str, str], events: set[str]) -> None:
        outcome = self.outcome(form)
        amd = form.get("MachineDetection") and form.get("AsyncAmd") == "true"
        seq = iter(range(100))
        status_url = form.get("StatusCallback", "")

        def callback(delay: float, status: str, **extra: str) -> None:
            def change() -> None:
                self._set(sid, status=status, **extra)

            self.at(delay, change)
            if {"in-progress": "answered"}.get(status, status) in events or status in ENDED.values():
                self.post_later(
                    delay, status_url, status, lambda: self._signed(status_url, sid, status, next(seq))
                )

        callback(0.0, "initiated")
        callback(self.ring, "ringing")
        if outcome in ("busy", "no-answer", "failed"):
            callback(self.ring + self.talk, ENDED[outcome], duration="0")
            return
        answered_at = self.ring + self.answer
        callback(answered_at, "in-progress", start_time=formatdate(time.time() + answered_at))
        machine = outcome == "voicemail"
        verdict = (
            ("machine_end_beep" if form["MachineDetection"] == "DetectMessageEnd" else "machine_start")
            if machine
            else "human"
        )
        if amd:
            amd_url = form.get("AsyncAmdStatusCallback", "")
            self.at(answered_at + 0.05, lambda: self._set(sid, answered_by=verdict))
            self.post_later(answered_at + 0.05, amd_url, "amd", lambda: self._amd(amd_url, sid, verdict))
        if machine and amd:
            # The machine records until we update the call (voicemail drop or hang-up).
            self.at(
                answered_at + 0.05, lambda: self._end_after_update(sid, status_url, events, seq, answered_at)
            )
            return
        end = answered_at + self.talk
        self._finish(sid, end, answered_at, status_url, seq, verdict if form.get("MachineDetection") else "")

    def _end_after_update(self, sid, status_url, events, seq, answered_at) -> None:
        """Complete the call once we updated it (or after machine_wait); `settle` waits for it."""
        with self._lock:
            self._posting += 1
            event = self._updated.setdefault(sid, threading.Event())

        def wait() -> None:
            try:
                event.wait(self.machine_wait)
                self._finish(sid, 0.05, 0.0, status_url, seq, self.calls[sid]["answered_by"])
            finally:
                with self._lock:
                    self._posting -= 1
                    self._wake.notify_all()

        threading.Thread(target=wait, daemon=True).start()

    def _finish(self, sid, delay, answered_at, status_url, seq, answered_by) -> None:
        talk = max(1, round(delay - answered_at))
        fields = {"duration": str(talk), "end_time": formatdate(time.time() + delay), "price": "-0.01300"}
        self.at(delay, lambda: self._set(sid, status="completed", **fields))
        extra = {"CallDuration": str(talk), "Duration": "1"} | (
            {"AnsweredBy": answered_by} if answered_by else {}
        )
        self.post_later(
            delay,
            status_url,
            "completed",
            lambda: self._signed(status_url, sid, "completed", next(seq), **extra),
        )

    def _set(self, sid: str, **fields: str) -> None:
        with self._lock:
            if sid in self.calls:  # a test may have made Twilio forget it
                self.calls[sid] = {**self.calls[sid], **fields, "date_updated": formatdate(time.time())}

    def _signed(self, url: str, sid: str, status: str, seq: int, **extra: str) -> tuple[bytes, dict]:
        call = self.calls[sid]
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": status,
            "Called": call["to"],
            "Caller": call["from"],
            "Direction": "outbound-api",
            "From": call["from"],
            "To": call["to"],
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(seq),
            "Timestamp": formatdate(time.time()),
        }
        if status in ENDED.values() and status != "completed":
            params |= {"CallDuration": "0", "Duration": "0"}
        return self.sign(url, params | extra)

    def _amd(self, url: str, sid: str, answered_by: str) -> tuple[bytes, dict]:
        params = {"AccountSid": self.account_sid, "CallSid": sid, "AnsweredBy": answered_by}
        return self.sign(url, params | {"MachineDetectionDuration": "2150"})

    def sign(self, url: str, params: dict[str, str]) -> tuple[bytes, dict]:
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
        headers["I-Twilio-Idempotency-Token"] = uuid.uuid4().hex
        return urlencode(params).encode(), headers
