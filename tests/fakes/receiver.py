"""A campaign's own server, for tests: a real HTTP server on 127.0.0.1 that records every request
it gets and answers what the test says.

    with Receiver() as receiver:              # a random free port
        server = {"url": receiver.url + "/events"}
        receiver.answer(503, times=2)         # the next two requests get 503, then `status`
        receiver.status = 200                 # the answer when nothing is scripted (200)
        receiver.delay = 1.5                  # seconds every answer waits (0)

Records: `requests` (each `Received`: method, path, headers, raw body, parsed JSON, arrival time
and the status it was answered), `in_flight` (requests received and not yet answered),
`truncated` (requests whose sender died before the whole body arrived: dropped unanswered, as a
real server does, and not recorded; regression: a worker killed mid-send left an empty "repeat"). Keep-alive
HTTP/1.1, like a real server, so the client's connection pool is exercised.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: Message
    body: bytes
    at: float = field(default_factory=time.time)
    answered: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


@dataclass
class _Scripted:
    status: int
    delay: float
    body: bytes


class Receiver:
    def __init__(self) -> None:
        self.status, self.delay, self.body = 200, 0.0, b'{"ok": true}'
        self.requests: list[Received] = []
        self.in_flight = 0
        self.truncated = 0  # requests whose body never fully arrived (not recorded)
        self._script: deque[_Scripted] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a request held by `delay` never holds up the test's end
        self.url = f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, status: int, *, times: int = 1, delay: float = 0.0, body: bytes = b"") -> None:
        """The next `times` requests get `status` (after `delay` seconds) instead of the default."""
        with self._lock:
            self._script.extend(_Scripted(status, delay, body) for _ in range(times))

    def received(self) -> list[Received]:
        with self._lock:
            return list(self.requests)

    def by_key(self) -> dict[str, list[Received]]:
        """The requests received, grouped by their Idempotency-Key header."""
        found: dict[str, list[Received]] = {}
        for request in self.received():
            found.setdefault(request.header("Idempotency-Key"), []).append(request)
        return found

    def _next(self) -> _Scripted:
        with self._lock:
            return self._script.popleft() if self._script else _Scripted(self.status, self.delay, self.body)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                expected = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(expected)
                if len(body) < expected:  # the sender died mid-request: a real server drops it too
                    with receiver._lock:
                        receiver.truncated += 1
                    self.close_connection = True
                    return
                request = Received("POST", self.path, self.headers, body)
                with receiver._lock:
                    receiver.requests.append(request)
                    receiver.in_flight += 1
                answer = receiver._next()
                try:
                    time.sleep(answer.delay)
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                    request.answered = answer.status
                except OSError:  # the client gave up (timeout) or died: nothing to answer
                    self.close_connection = True
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        return Handler
