"""The providers' one HTTP transport (dialer.providers.transport), against a real local server."""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dialer.providers import transport
from dialer.providers.transport import Answer, NoAnswer, Request


def fetch(request: Request, *, timeout: float) -> Answer:
    """One request through the transport; raises its NoAnswer."""
    [answer] = transport.fetch_all([request], timeout=timeout)
    if isinstance(answer, NoAnswer):
        raise answer
    return answer


class Server:
    """Answers each path its own way; records what it was sent and how many were in flight."""

    def __init__(self) -> None:
        self.cookies: list[str] = []
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                owner.cookies.append(self.headers.get("Cookie", ""))
                with owner.lock:
                    owner.in_flight += 1
                    owner.peak = max(owner.peak, owner.in_flight)
                try:
                    if self.path.startswith("/slow"):
                        time.sleep(float(self.path.rsplit("/", 1)[1]))
                    if self.path == "/trickle":  # a byte every 0.1 s, for 3 s
                        self.send_response(200)
                        self.send_header("Content-Length", "30")
                        self.end_headers()
                        for _ in range(30):
                            self.wfile.write(b" ")
                            self.wfile.flush()
                            time.sleep(0.1)
                        return
                    headers = {"Content-Type": "application/json"}
                    status, answer = 200, b'{"echo": "%s"}' % body
                    if self.path == "/cookie":
                        headers["Set-Cookie"] = "session=account-a; Path=/"
                    if self.path == "/redirect":
                        status, headers["Location"] = 302, "/elsewhere"
                    if self.path == "/busy":
                        status, headers["Retry-After"], answer = 429, "7", b"{}"
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                finally:
                    with owner.lock:
                        owner.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


def test_a_batch_is_answered_in_its_order_and_never_more_than_at_once_in_flight(server) -> None:
    requests = [Request("POST", f"{server.url}/slow/0.05", body=str(i).encode()) for i in range(20)]

    answers = transport.fetch_all(requests, timeout=5)

    assert [a.text for a in answers] == [f'{{"echo": "{i}"}}' for i in range(20)]
    assert 1 < server.peak <= transport.AT_ONCE


def test_no_cookie_a_provider_set_is_sent_back(server) -> None:
    # Two organizations' accounts may share a provider host: nothing of one may reach the other.
    fetch(Request("GET", f"{server.url}/cookie"), timeout=5)
    fetch(Request("GET", f"{server.url}/other"), timeout=5)

    assert server.cookies == ["", ""]


def test_a_redirect_is_answered_not_followed(server) -> None:
    answer = fetch(Request("POST", f"{server.url}/redirect", body=b"{}"), timeout=5)

    assert (answer.status, answer.headers["location"]) == (302, "/elsewhere")
    assert len(server.cookies) == 1  # one request: /elsewhere was never asked


def test_headers_are_read_whatever_their_case(server) -> None:
    answer = fetch(Request("GET", f"{server.url}/busy"), timeout=5)

    assert (answer.status, answer.headers.get("retry-after"), answer.headers.get("Retry-After")) == (
        429,
        "7",
        "7",
    )


def test_an_answer_that_does_not_come_in_time_may_have_gone_out(server) -> None:
    with pytest.raises(NoAnswer) as raised:
        fetch(Request("POST", f"{server.url}/slow/1", body=b"{}"), timeout=0.2)

    assert raised.value.went_out
    assert raised.value.reason == "no answer within 0.2 s (ReadTimeout)"


def test_an_answer_trickled_byte_by_byte_cannot_hold_the_worker(server) -> None:
    started = time.monotonic()
    with pytest.raises(NoAnswer) as raised:
        fetch(Request("POST", f"{server.url}/trickle", body=b"{}"), timeout=0.3)

    assert time.monotonic() - started < 2.5  # the whole exchange is bounded (0.9 s), not each byte
    assert raised.value.went_out
    assert raised.value.reason == "no whole answer within 0.9 s (Timeout)"


def test_a_refused_connection_never_went_out_and_says_why() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]

    [answer] = transport.fetch_all([Request("POST", f"http://127.0.0.1:{port}/call")], timeout=2)

    assert isinstance(answer, NoAnswer) and not answer.went_out
    assert answer.reason.startswith("ConnectionRefusedError")


def test_one_failure_does_not_take_the_batch_with_it(server) -> None:
    requests = [
        Request("POST", f"{server.url}/fine", body=b"1"),
        Request("POST", "http://[::1/broken"),  # not a URL
        Request("POST", f"{server.url}/slow/1", body=b"2"),
        Request("POST", f"{server.url}/fine", body=b"3"),
    ]

    answers = transport.fetch_all(requests, timeout=0.3)

    assert [type(a).__name__ for a in answers] == ["Answer", "NoAnswer", "NoAnswer", "Answer"]
    assert (answers[0].text, answers[3].text) == ('{"echo": "1"}', '{"echo": "3"}')
    assert [a.went_out for a in answers[1:3]] == [False, True]


def _fetch_in_child(url: str, out) -> None:
    out.send(fetch(Request("POST", url, body=b"child"), timeout=5).text)


def test_a_forked_worker_sends_through_a_loop_of_its_own(server) -> None:
    # Celery's workers are forked: the parent's loop thread does not come along.
    fetch(Request("GET", f"{server.url}/parent"), timeout=5)  # the parent's loop runs
    ctx = multiprocessing.get_context("fork")
    mine, theirs = ctx.Pipe()
    child = ctx.Process(target=_fetch_in_child, args=(f"{server.url}/child", theirs))
    child.start()
    try:
        assert mine.poll(20), "the forked child never got its answer"
        assert mine.recv() == '{"echo": "child"}'
    finally:
        child.join(10)
    assert child.exitcode == 0
