"""A local fake of Vapi's call API that answers like the real one and calls webhooks back over HTTP.

    with FakeVapi(api_key="k") as vapi:      # a real HTTP server on 127.0.0.1, random free port
        account.base_url = vapi.url

`POST /call` checks the Bearer key and the CreateCallDTO shape (400 with Vapi's error envelope,
unknown keys refused), answers 201 with a Call (`status: queued`, `subscriptionLimits`), then plays
the call: `status-update` ringing, in-progress (unless nobody answered), ended, and an
`end-of-call-report` (an answered call whose serverMessages list `transcript` also streams SCRIPT
as `transcript` messages, partial then final, while it talks), each posted to the call's
`assistantOverrides.server.url` (or squadOverrides'; workflows have none, so `org_server` is used)
with that server's headers, shaped like the fixtures in spec/fixtures/provider. `GET /call/{id}`
answers the Call as it stands (404 if unknown).
`GET /call` is Vapi's List Calls (operationId CallController_findAll in VapiAI/docs'
fern/apis/api/openapi.json): filters id, assistantId, phoneNumberId, createdAt|updatedAt + Gt, Lt,
Ge, Le (ISO 8601) and `limit` (0-1000, default 100); answers 200 with a bare JSON array of Calls
(no pagination; Vapi documents no order, so `list_order` picks one: "newest" first, the default,
"oldest" first, or by "id"), 400 with the validation envelope for an unknown parameter or a bad
value.

Knobs (all thread-safe, set any time):
- `fail_next(n, status=500, body=None, retry_after=None)`: the next n POST /call answer `status`;
  `fail_rate`: the share of the other POST /call answered 500 (seeded, so runs repeat);
- `hang_next(n, seconds)`: ... never answer (the client times out); `close_next(n)`: ... drop the
  connection without an answer. None of these creates a call;
- `lose_answer_next(n, seconds)`: the next n POST /call create and play their call, then never
  answer (the client times out), as when the worker that sent them was killed mid-request;
  with `drop_webhooks` the call really happened and nobody hears of it but through GET /call;
- `drop_webhooks`: play calls (GET shows them) but post nothing; `deliveries = k`: post each message
  k times; `shuffle`: post a call's messages in random order; `ring`, `answer`, `talk`, `report`:
  latencies in seconds; `ended_reason`: a string, or a function of the request body.
Records: `requests` (every request received), `placed` (our call id, from metadata.callId, for each
call created), `webhooks` (each post made and the status it got, or the error).
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random
import re
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

ORG_ID = "9f0e1d2c-3b4a-4596-8877-665544332211"
TARGETS = ("assistantId", "squadId", "workflowId")
OVERRIDES = {
    "assistantId": "assistantOverrides",
    "squadId": "squadOverrides",
    "workflowId": "workflowOverrides",
}
CREATE_CALL_KEYS = {
    *TARGETS,
    *OVERRIDES.values(),
    "assistant",
    "squad",
    "workflow",
    "phoneNumberId",
    "phoneNumber",
    "customer",
    "customerId",
    "customers",
    "name",
    "schedulePlan",
    "transport",
    "assistantVersion",
}
CUSTOMER_KEYS = {
    "number",
    "sipUri",
    "name",
    "email",
    "externalId",
    "extension",
    "numberE164CheckEnabled",
    "assistantOverrides",
}
NOT_ANSWERED = {"customer-did-not-answer", "customer-busy"}
# What an answered call's agent and callee say, posted as `transcript` messages (a partial draft,
# then the final line) when the call's serverMessages ask for them.
SCRIPT = [
    ("assistant", "Hi, this is Ava from TechFlow, calling about your order."),
    ("user", "Oh, hello, yes."),
    ("assistant", "It ships tomorrow, is the address still right?"),
    ("user", "It is, thanks."),
]
# GET /call's query: the fields it filters on exactly, and the dates it compares.
LIST_EXACT = ("id", "assistantId", "phoneNumberId")
LIST_DATES = {
    f"{field}{op}": (field, op) for field in ("createdAt", "updatedAt") for op in ("Gt", "Lt", "Ge", "Le")
}
COMPARE = {
    "Gt": lambda a, b: a > b,
    "Lt": lambda a, b: a < b,
    "Ge": lambda a, b: a >= b,
    "Le": lambda a, b: a <= b,
}
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    at: float = field(default_factory=time.time)  # when it arrived (wall clock, seconds)


@dataclass
class Delivery:
    provider_call_id: str
    type: str
    status: str
    answer: int | str  # the HTTP status we got back, or the error's name


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    run: Callable[[], None] = field(compare=False)
    post: bool = field(default=False, compare=False)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_iso(text: str) -> datetime:
    """An ISO 8601 date-time as Vapi takes it (a date alone is midnight UTC); ValueError if not one."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FakeVapi:
    def __init__(self, *, api_key: str = "vapi-test-key", concurrency_limit: int = 10) -> None:
        self.api_key = api_key
        self.concurrency_limit = concurrency_limit
        self.ring, self.answer, self.talk, self.report = 0.05, 0.05, 0.15, 0.05
        self.ended_reason: str | Callable[[dict], str] = "customer-ended-call"
        # The end-of-call report's analysis.structuredData for a call (its POST /call body); None:
        # {"answered": <bool>} as in the fixture.
        self.structured_data: Callable[[dict], dict] | None = None
        self.drop_webhooks, self.deliveries, self.shuffle, self.fail_rate = False, 1, False, 0.0
        self.org_server: dict | None = None
        self.list_order = "newest"
        self.requests: list[Received] = []
        self.placed: list[str | None] = []
        self.calls: dict[str, dict] = {}
        self.webhooks: list[Delivery] = []
        self._faults: deque[tuple] = deque()
        self._lock = threading.RLock()
        self._wake = threading.Condition(self._lock)
        self._jobs: list[_Job] = []
        self._seq = itertools.count()
        self._posting = 0
        self._random = random.Random(7)
        self._stopped = False

    # -- knobs ---------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, body: dict | None = None, retry_after=None):
        with self._lock:
            self._faults.extend([("fail", status, body, retry_after)] * count)

    def hang_next(self, count: int = 1, *, seconds: float = 2.0) -> None:
        with self._lock:
            self._faults.extend([("hang", seconds)] * count)

    def close_next(self, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([("close",)] * count)

    def lose_answer_next(self, count: int = 1, *, seconds: float = 2.0) -> None:
        with self._lock:
            self._faults.extend([("lose", seconds)] * count)

    # -- what happened -------------------------------------------------------

    def posts_to_create_calls(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/call"]

    def placed_counts(self) -> Counter:
        """How many calls were created for each of our call ids (it must be 1 for each)."""
        return Counter(self.placed)

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every scheduled state change and webhook post has been made."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._jobs or self._posting:
                if not self._wake.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"fake Vapi still busy: {len(self._jobs)} jobs, {self._posting} posts")

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> FakeVapi:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="fake-vapi-webhook")
        serve = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="fake-vapi", daemon=True
        )
        serve.start()
        threading.Thread(target=self._run_jobs, name="fake-vapi-clock", daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- the API -------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        with self._lock:
            self.requests.append(Received(handler.command, handler.path, dict(handler.headers), body))
            fault = self._faults.popleft() if handler.command == "POST" and self._faults else None
            if handler.command == "POST" and not fault and self._random.random() < self.fail_rate:
                fault = ("fail", 500, None, None)
        if fault and fault[0] in ("hang", "close"):
            if fault[0] == "hang":
                time.sleep(fault[1])
            handler.close_connection = True  # no answer at all
            return
        if fault and fault[0] == "fail":
            _, status, error, retry_after = fault
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return handler.answer(
                status, error or {"message": "Internal server error", "statusCode": status}, headers
            )
        if handler.headers.get("Authorization") != f"Bearer {self.api_key}":
            return handler.answer(
                401, {"message": "Invalid Key.", "error": "Unauthorized", "statusCode": 401}
            )
        if handler.command == "GET" and urlsplit(handler.path).path == "/assistant":  # Vapi's list
            return handler.answer(200, [{"id": "asst_fake", "orgId": "org_fake", "name": "Fake agent"}])
        if handler.command == "GET" and urlsplit(handler.path).path == "/call":
            status, answer = self._list(urlsplit(handler.path).query)
            return handler.answer(status, answer)
        if handler.command == "GET" and (match := re.fullmatch(r"/call/([^/?]+)", handler.path)):
            with self._lock:
                call = json.loads(json.dumps(self.calls.get(match[1])))
            if call is None:
                return handler.answer(404, {"message": "Not Found", "statusCode": 404})
            return handler.answer(200, call)
        if handler.command == "POST" and handler.path == "/call":
            errors = _create_call_errors(body)
            if errors:
                return handler.answer(400, {"message": errors, "error": "Bad Request", "statusCode": 400})
            created = self._create(body)
            if fault:  # ("lose", seconds): created and playing, but the answer never comes
                time.sleep(fault[1])
                handler.close_connection = True
                return
            return handler.answer(201, created)
        return handler.answer(404, {"message": f"Cannot {handler.command} {handler.path}", "statusCode": 404})

    def _list(self, query: str) -> tuple[int, Any]:
        """GET /call: the calls matching every filter given, newest first, at most `limit`."""
        params = dict(parse_qsl(query, keep_blank_values=True))
        errors = [
            f"property {key} should not exist"
            for key in params
            if key not in (*LIST_EXACT, *LIST_DATES, "limit")
        ]
        limit = 100
        if "limit" in params:
            try:
                limit = float(params["limit"])
                if not math.isfinite(limit):
                    raise ValueError(limit)
            except ValueError:
                errors.append("limit must be a number conforming to the specified constraints")
            else:
                if limit < 0:
                    errors.append("limit must not be less than 0")
                elif limit > 1000:
                    errors.append("limit must not be greater than 1000")
        bounds = []
        for key, (name, op) in LIST_DATES.items():
            if key in params:
                try:
                    bounds.append((name, op, _parse_iso(params[key])))
                except ValueError:
                    errors.append(f"{key} must be a valid ISO 8601 date string")
        if errors:
            return 400, {"message": errors, "error": "Bad Request", "statusCode": 400}
        with self._lock:
            calls = json.loads(json.dumps(list(self.calls.values())))
        found = [
            call
            for call in calls
            if all(call.get(key) == params[key] for key in LIST_EXACT if key in params)
            and all(COMPARE[op](_parse_iso(call[name]), when) for name, op, when in bounds)
        ]
        order = "id" if self.list_order == "id" else "createdAt"
        found.sort(key=lambda call: call[order], reverse=self.list_order == "newest")
        return 200, found[: int(limit)]

    def _create(self, body: dict) -> dict:
        now = time.time()
        target = next(t for t in TARGETS if t in body)
        call = {
            "id": str(uuid.uuid4()),
            "orgId": ORG_ID,
            "type": "outboundPhoneCall",
            "status": "queued",
            "phoneCallProvider": "twilio",
            "phoneCallTransport": "pstn",
            **{
                k: body[k]
                for k in (target, "phoneNumberId", "customer", "name", OVERRIDES[target])
                if k in body
            },
            "createdAt": _iso(now),
            "updatedAt": _iso(now),
        }
        metadata = body.get(OVERRIDES[target], {}).get("metadata", {})
        with self._lock:
            self.calls[call["id"]] = call
            self.placed.append(metadata.get("callId"))
            live = sum(c["status"] != "ended" for c in self.calls.values())
            self._play(call, body, target)
        remaining = max(0, self.concurrency_limit - live)
        limits = {"concurrencyBlocked": False, "concurrencyLimit": self.concurrency_limit}
        return {**call, "subscriptionLimits": {**limits, "remainingConcurrentCalls": remaining}}

    # -- playing a call ------------------------------------------------------

    def _play(self, call: dict, body: dict, target: str) -> None:
        """Schedule the call's life (state changes at their true times) and its webhook posts."""
        reason = self.ended_reason(body) if callable(self.ended_reason) else self.ended_reason
        start = time.time()
        answered = reason not in NOT_ANSWERED
        t_ring = self.ring
        t_talk = t_ring + self.answer
        t_end = t_talk + self.talk if answered else t_ring + self.talk
        steps = [(t_ring, {"status": "ringing"})]
        if answered:
            steps.append((t_talk, {"status": "in-progress", "startedAt": _iso(start + t_talk)}))
        cost = round(0.05 + self.talk * 0.002, 4) if answered else 0
        ended = {"status": "ended", "endedReason": reason, "endedAt": _iso(start + t_end), "cost": cost}
        steps.append((t_end, ended))
        report = _report(reason, answered, call["id"])
        if self.structured_data is not None:
            report["analysis"]["structuredData"] = self.structured_data(body)
        steps.append((t_end + self.report, report))
        server = body.get(OVERRIDES[target], {}).get("server") or self.org_server
        snapshot = dict(call)
        messages = []
        for delay, change in steps:
            state = {k: v for k, v in change.items() if k not in ("analysis", "artifact", "costs")}
            snapshot = {**snapshot, **state, "updatedAt": _iso(start + delay)}
            if change is report:
                snapshot = {**snapshot, "analysis": report["analysis"], "artifact": report["artifact"]}
                message = {"type": "end-of-call-report", **change, "endedReason": reason}
                message |= {"startedAt": snapshot.get("startedAt"), "endedAt": snapshot.get("endedAt")}
                message = {k: v for k, v in message.items() if v is not None and k != "status"}
            else:
                message = {"type": "status-update", "status": change["status"]}
                message |= {"endedReason": reason} if change["status"] == "ended" else {}
            message |= {
                "timestamp": int((start + delay) * 1000),
                "call": snapshot,
                "customer": call.get("customer"),
            }
            messages.append((delay, message))
            self._at(delay, lambda s=snapshot: self._set_state(s))
        overrides = body.get(OVERRIDES[target], {})
        if answered and any(str(m).startswith("transcript") for m in overrides.get("serverMessages") or []):
            talking = {**dict(call), "status": "in-progress", "startedAt": _iso(start + t_talk)}
            step = self.talk / (len(SCRIPT) + 1)
            for i, (role, words) in enumerate(SCRIPT):
                delay = t_talk + step * (i + 1)
                for kind, said in (("partial", words.split(",")[0]), ("final", words)):
                    line = {"type": "transcript", "role": role, "transcriptType": kind, "transcript": said}
                    line |= {"timestamp": int((start + delay) * 1000), "call": talking}
                    messages.append((delay, line | {"customer": call.get("customer")}))
        if self.drop_webhooks or not server:
            return
        times = [delay for delay, _ in messages]
        if self.shuffle:
            self._random.shuffle(times)
        for delay, (_, message) in zip(times, messages, strict=True):
            for copy in range(self.deliveries):
                payload = {"message": message}
                self._at(delay + copy * 0.01, lambda p=payload: self._post(server, p), post=True)

    def _set_state(self, snapshot: dict) -> None:
        with self._lock:
            self.calls[snapshot["id"]] = snapshot

    def _post(self, server: dict, payload: dict) -> None:
        message = payload["message"]
        try:
            answer = requests.post(
                server["url"], json=payload, headers=server.get("headers") or {}, timeout=60
            )
            got: int | str = answer.status_code
        except requests.RequestException as exc:
            got = type(exc).__name__
        with self._lock:
            status = message.get("status") or message.get("transcriptType") or "ended"
            self.webhooks.append(Delivery(message["call"]["id"], message["type"], status, got))

    # -- the clock -----------------------------------------------------------

    def _at(self, delay: float, run: Callable[[], None], *, post: bool = False) -> None:
        with self._lock:
            heapq.heappush(self._jobs, _Job(time.monotonic() + delay, next(self._seq), run, post))
            self._wake.notify_all()

    def _run_jobs(self) -> None:
        with self._lock:
            while not self._stopped:
                if not self._jobs:
                    self._wake.wait()
                    continue
                wait = self._jobs[0].due - time.monotonic()
                if wait > 0:
                    self._wake.wait(timeout=wait)
                    continue
                job = heapq.heappop(self._jobs)
                if job.post:
                    self._posting += 1
                    self._pool.submit(self._posted, job.run)
                else:
                    job.run()
                self._wake.notify_all()

    def _posted(self, run: Callable[[], None]) -> None:
        try:
            run()
        finally:
            with self._lock:
                self._posting -= 1
                self._wake.notify_all()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so the client's connection reuse is exercised
    fake: FakeVapi

    def do_POST(self) -> None:
        self.fake.handle(self)

    do_GET = do_POST

    def answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


def _create_call_errors(body: Any) -> list[str]:
    """What Vapi would refuse in a CreateCallDTO (the parts Dialdeck uses)."""
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    errors = [f"property {key} should not exist" for key in body if key not in CREATE_CALL_KEYS]
    targets = [t for t in TARGETS if t in body]
    if len(targets) != 1:
        return [*errors, "exactly one of assistantId, squadId, workflowId is required"]
    errors += [
        f"{key} cannot be used with {targets[0]}"
        for k, key in OVERRIDES.items()
        if key in body and k not in targets
    ]
    if not set(body.get("workflowOverrides", {})) <= {"variableValues"}:
        errors.append("workflowOverrides.property should not exist (only variableValues)")
    if not isinstance(body.get("phoneNumberId"), str) or not body["phoneNumberId"]:
        errors.append("phoneNumberId must be a string")
    customer = body.get("customer")
    if not isinstance(customer, dict) or not (customer.get("number") or customer.get("sipUri")):
        return [*errors, "customer.number or customer.sipUri is required"]
    errors += [f"customer.property {key} should not exist" for key in customer if key not in CUSTOMER_KEYS]
    if (
        customer.get("number")
        and customer.get("numberE164CheckEnabled", True)
        and not E164.match(customer["number"])
    ):
        errors.append("customer.number must be a valid phone number in the E.164 format")
    if len(body.get("name", "")) > 40:
        errors.append("name must be shorter than or equal to 40 characters")
    server = body.get(OVERRIDES[targets[0]], {}).get("server")
    if server is not None and not str(server.get("url", "")).startswith(("https://", "http://")):
        errors.append("server.url must be a URL address")  # the real API wants https; tests run on http
    return errors


def _report(reason: str, answered: bool, provider_call_id: str) -> dict:
    """The end-of-call-report's own fields, as in webhook-end-of-call-report.json."""
    transcript = (
        "AI: Hi, this is Ava from TechFlow...\nUser: Yes, it works now, thanks.\n" if answered else ""
    )
    return {
        "cost": round(0.05 + 0.13, 4) if answered else 0,
        "costs": [{"type": "vapi", "subType": "normal", "minutes": 0.1, "cost": 0.13}],
        "artifact": {
            "transcript": transcript,
            "messages": [],
            "recordingUrl": f"https://storage.example.com/rec/{provider_call_id}.wav",
            "stereoRecordingUrl": f"https://storage.example.com/rec/{provider_call_id}-stereo.wav",
        },
        "analysis": {
            "summary": f"Fake call ended with {reason}.",
            "structuredData": {"answered": answered},
            "successEvaluation": str(answered).lower(),
        },
    }
