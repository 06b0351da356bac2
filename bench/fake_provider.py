"""A lean fake of Vapi's POST /call for the placement benchmark, so the fake's own CPU stays small.

The tests' fake (tests/fakes/vapi_server.py) plays every call and runs a thread per connection
on http.server: at hundreds of calls a second it used more CPU than the dialer it was measuring,
on the same two cores. This one is one asyncio event loop speaking HTTP/1.1 with keep-alive: it
checks the Bearer key and the CreateCallDTO (the tests' validator), answers 201 with a Call, and
records our call id (metadata.callId) and the customer's number of each call created, so the
benchmark can prove nobody was dialed twice. No webhooks: the benchmark ends calls itself.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import UTC, datetime

import orjson

from tests.fakes.vapi_server import ORG_ID, OVERRIDES, TARGETS, _create_call_errors

REASONS = {201: b"Created", 400: b"Bad Request", 401: b"Unauthorized", 404: b"Not Found"}


class LeanVapi:
    """`with LeanVapi(api_key) as fake:` serves on 127.0.0.1 at `fake.url` from a thread of its own."""

    def __init__(self, api_key: str) -> None:
        self.auth = f"Bearer {api_key}".encode()
        self.placed: list[str | None] = []
        self.numbers: list[str] = []
        self.requests = 0
        self._ready = threading.Event()

    def __enter__(self) -> LeanVapi:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self) -> None:
        self._loop = asyncio.new_event_loop()
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Connection(self), "127.0.0.1", 0)
        )
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        self._ready.set()
        self._loop.run_forever()

    def answer(
        self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes
    ) -> tuple[int, dict]:
        self.requests += 1
        if headers.get(b"authorization") != self.auth:
            return 401, {"message": "Invalid Key.", "error": "Unauthorized", "statusCode": 401}
        if (method, path) != (b"POST", b"/call"):
            return 404, {"message": f"Cannot {method.decode()} {path.decode()}", "statusCode": 404}
        try:
            dto = orjson.loads(body)
        except orjson.JSONDecodeError:
            dto = None
        if errors := _create_call_errors(dto):
            return 400, {"message": errors, "error": "Bad Request", "statusCode": 400}
        target = next(t for t in TARGETS if t in dto)
        self.placed.append(dto.get(OVERRIDES[target], {}).get("metadata", {}).get("callId"))
        self.numbers.append(dto["customer"].get("number"))
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        call = {"id": str(uuid.uuid4()), "orgId": ORG_ID, "type": "outboundPhoneCall", "status": "queued"}
        return 201, call | {"phoneNumberId": dto["phoneNumberId"], "createdAt": now, "updatedAt": now}


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests parsed from the bytes as they come, answered in order."""

    def __init__(self, fake: LeanVapi) -> None:
        self.fake, self.buffer = fake, bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = bytes(self.buffer[:end]).split(b"\r\n")
            headers = dict(_header(line) for line in head[1:])
            length = int(headers.get(b"content-length", b"0"))
            if len(self.buffer) < end + 4 + length:
                return  # the body is still on its way
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            method, path, _ = head[0].split(b" ", 2)
            status, answer = self.fake.answer(method, path, headers, body)
            payload = orjson.dumps(answer)
            self.transport.write(
                b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (status, REASONS[status], len(payload), payload)
            )


def _header(line: bytes) -> tuple[bytes, bytes]:
    name, _, value = line.partition(b":")
    return name.strip().lower(), value.strip()
