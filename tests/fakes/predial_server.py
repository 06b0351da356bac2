"""A campaign's own server answering Vapi's `campaign.predial` message, over real HTTP.

    with FakePredialServer() as server:      # 127.0.0.1, a free port; POST /predial
        server.answer = "ineligible"         # or a function of the contact: contact -> answer

Answers (for every request, or per contact when `answer` is a function):
- "eligible" / "ineligible": 200 `{"eligible": true|false}`;
- "wrapped-eligible" / "wrapped-ineligible": 200 `{"messageResponse": {"eligible": ...}}`;
- "slow": sleeps `delay` seconds, then 200 eligible (past the caller's timeout, it is too late);
- "500": 500 with a JSON error; "bad-json": 200 with a body that is not JSON;
- "no-eligible": 200 `{}`; "string-eligible": 200 `{"eligible": "yes"}`.
`on_ask(contact)`, when set, runs in the server's thread before it answers (a test can change the
world while the dialer waits). Other messages (campaign events posted to the same server) are
answered 200 `{}` and kept in `events`. Records: `received` (each pre-dial request: headers, body,
arrival and answer times). `refused_url()` is a URL on which nothing listens (connection refused).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERS = {
    "eligible": (200, {"eligible": True}),
    "ineligible": (200, {"eligible": False}),
    "wrapped-eligible": (200, {"messageResponse": {"eligible": True}}),
    "wrapped-ineligible": (200, {"messageResponse": {"eligible": False}}),
    "500": (500, {"error": "database unavailable"}),
    "no-eligible": (200, {}),
    "string-eligible": (200, {"eligible": "yes"}),
}


@dataclass
class Asked:
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = b""  # the body as it came, byte for byte (what a signature covers)
    at: float = field(default_factory=time.time)  # when it arrived (wall clock, as FakeVapi's)
    answered_at: float | None = None  # when the answer was written (None: never)

    @property
    def contact(self) -> dict:
        return self.body["message"]["contact"]


def refused_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/predial"


class FakePredialServer:
    def __init__(self) -> None:
        self.answer: str | Callable[[dict], str] = "eligible"
        self.delay = 3.0
        self.on_ask: Callable[[dict], None] | None = None
        self.received: list[Asked] = []
        self.events: list[Asked] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/predial"

    def __enter__(self) -> FakePredialServer:
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, handler: _Handler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        asked = Asked(handler.path, dict(handler.headers), json.loads(raw) if raw else None, raw)
        message = asked.body.get("message", {}) if isinstance(asked.body, dict) else {}
        with self._lock:
            (self.received if message.get("type") == "campaign.predial" else self.events).append(asked)
        if message.get("type") != "campaign.predial":
            return self._write(handler, asked, 200, b"{}")
        contact = message.get("contact", {})
        if self.on_ask is not None:
            self.on_ask(contact)
        mode = self.answer(contact) if callable(self.answer) else self.answer
        if mode == "slow":
            time.sleep(self.delay)
            mode = "eligible"
        if mode == "bad-json":
            status, data = 200, b"<html>eligible</html>"
        else:
            status, body = ANSWERS[mode]
            data = json.dumps(body).encode()
        self._write(handler, asked, status, data)

    @staticmethod
    def _write(handler: _Handler, asked: Asked, status: int, data: bytes) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            asked.answered_at = time.time()
        except OSError:  # the caller gave up and closed the connection
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real server behind a load balancer
    fake: FakePredialServer

    def do_POST(self) -> None:
        self.fake.handle(self)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass
