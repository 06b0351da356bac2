"""What the fake REST providers (Twilio, Retell, Bland, ElevenLabs) share: a real HTTP server on
127.0.0.1 (random free port), a clock that plays each call's life at its true times, webhook posts
made over HTTP from threads, and the knobs and records tests use.

Subclasses implement `route(request) -> (status, body, headers)` (body: a dict for JSON, or
bytes) and schedule a call's state changes and callbacks with `at(delay, run)` and
`post_later(delay, url, data, headers)`.

Knobs (thread-safe, set any time):
- `fail_next(n, status=500, body=None, retry_after=None)`: the next n create-call requests answer
  `status` with `body` (the provider's own error shape by default);
- `hang_next(n, seconds)`: ... never answer; `close_next(n)`: drop the connection. None creates a call;
- `lose_answer_next(n, seconds)`: the next n create their call and play it, then never answer;
- `drop_webhooks`: play calls (GET shows them) but post nothing; `deliveries = k`: post each
  callback k times; `outcome`: a function of the create request's body naming how the call goes
  ("answered", "voicemail", "busy", "no-answer", "failed").
Records: `requests`, `placed` (our call id for each call created), `webhooks` (url, status got).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

# How long a callback waits for our answer: generous, since on a loaded 2-core CI with SQLite a web
# thread may queue behind the workers' writes for a while; a real provider waits about as long.
WEBHOOK_TIMEOUT = 60


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes
    at: float = field(default_factory=time.time)


@dataclass
class Delivery:
    url: str
    kind: str
    answer: int | str


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    run: Callable[[], None] = field(compare=False)
    post: bool = field(default=False, compare=False)


class FakeProvider:
    name = "fake"
    create_path = ""  # a regular expression matched against the path of create-call requests

    def __init__(self) -> None:
        self.ring, self.answer, self.talk, self.report = 0.05, 0.05, 0.15, 0.05
        self.outcome: Callable[[dict], str] = lambda body: "answered"
        self.drop_webhooks, self.deliveries = False, 1
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
        self._stopped = False

    # -- knobs -------------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, body: Any = None, retry_after=None) -> None:
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

    # -- what happened -----------------------------------------------------------------------

    def creates(self) -> list[Received]:
        import re

        return [r for r in self.requests if r.method == "POST" and re.fullmatch(self.create_path, r.path)]

    def placed_counts(self) -> Counter:
        return Counter(self.placed)

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until every scheduled state change and callback has been made."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._jobs or self._posting:
                if not self._wake.wait(timeout=max(0.0, deadline - time.monotonic())):
                    raise TimeoutError(f"fake {self.name} still busy: {len(self._jobs)} jobs")

    # -- what subclasses implement -----------------------------------------------------------

    def route(self, request: Received) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def error_body(self, status: int) -> Any:
        return {"message": "Internal server error", "status": status}

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self):
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix=f"fake-{self.name}-post")
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        threading.Thread(target=self._run_jobs, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._stopped = True
            self._wake.notify_all()
        self._server.shutdown()
        self._server.server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def handle(self, handler: _Handler) -> None:
        import re

        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        request = Received(handler.command, parts.path, parts.query, dict(handler.headers), raw)
        creating = handler.command == "POST" and re.fullmatch(self.create_path, parts.path)
        with self._lock:
            self.requests.append(request)
            fault = self._faults.popleft() if creating and self._faults else None
        if fault and fault[0] in ("hang", "close"):
            if fault[0] == "hang":
                time.sleep(fault[1])
            handler.close_connection = True
            return
        if fault and fault[0] == "fail":
            _, status, body, retry_after = fault
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return handler.reply(status, body if body is not None else self.error_body(status), headers)
        status, body, headers = self.route(request)
        if fault and 200 <= status < 300:  # ("lose", seconds): created and playing, no answer comes
            time.sleep(fault[1])
            handler.close_connection = True
            return
        handler.reply(status, body, headers)

    # -- the clock ---------------------------------------------------------------------------

    def at(self, delay: float, run: Callable[[], None], *, post: bool = False) -> None:
        with self._lock:
            heapq.heappush(self._jobs, _Job(time.monotonic() + delay, next(self._seq), run, post))
            self._wake.notify_all()

    def post_later(self, delay: float, url: str, kind: str, make: Callable[[], tuple[bytes, dict]]) -> None:
        """At `delay`, POST what `make()` returns (body, headers) to `url`, `deliveries` times.
        `make` runs when the post is made, so signatures carry that instant's timestamp."""
        if self.drop_webhooks or not url:
            return
        for copy in range(self.deliveries):
            self.at(delay + copy * 0.01, lambda: self._post(url, kind, *make()), post=True)

    def _post(self, url: str, kind: str, data: bytes, headers: dict) -> None:
        try:
            answer = requests.post(url, data=data, headers=headers, timeout=WEBHOOK_TIMEOUT)
            got: int | str = answer.status_code
        except requests.RequestException as exc:
            got = type(exc).__name__
        with self._lock:
            self.webhooks.append(Delivery(url, kind, got))

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
    protocol_version = "HTTP/1.1"
    fake: FakeProvider

    def do_POST(self) -> None:
        self.fake.handle(self)

    do_GET = do_PATCH = do_DELETE = do_POST

    def reply(self, status: int, body: Any, headers: dict | None = None) -> None:
        import json

        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
