"""A pooled client's connection outlives its idle time: gunicorn, started as the Procfile starts it
(config/gunicorn.conf.py), keeps an idle keep-alive connection open longer than Node's fetch keeps
one in its pool (4 s, under Vapi's TypeScript SDK), so the SDK's next request on it never meets a
connection the server has just closed ("other side closed")."""

from __future__ import annotations

import http.client
import select
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import process_env, wait_for

ROOT = Path(__file__).resolve().parents[2]
# Node's fetch (undici) closes a pooled connection after 4 s idle; a client that waits longer
# opens a new one. The server must not close first.
CLIENT_IDLE = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _procfile_web(port: int) -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:").replace("$PORT", str(port)))
    return [sys.executable, "-m", "gunicorn", *argv[1:]]  # this interpreter's gunicorn


def _answers(server: subprocess.Popen, port: int, log: Path) -> bool:
    if server.poll() is not None:
        pytest.fail(f"gunicorn exited with {server.returncode}:\n{log.read_text()[-3000:]}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def web(transactional_db, tmp_path) -> Iterator[int]:
    """The Procfile's web process on a free port, against the test database; its port."""
    port, log = _free_port(), tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            _procfile_web(port), cwd=ROOT, env=process_env(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: _answers(server, port, log), timeout=60, what="gunicorn to listen")
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(connection: http.client.HTTPConnection, key: str) -> http.client.HTTPResponse:
    connection.request("GET", "/campaign", headers={"Authorization": f"Bearer {key}"})
    response = connection.getresponse()
    response.read()
    return response


def test_a_connection_idle_longer_than_a_pooled_clients_stays_open(web, api) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", web, timeout=30)
    first = _get(connection, api.raw_key)
    assert first.status == 200, first.status
    assert (first.getheader("Connection") or "").lower() != "close"
    pooled, address = connection.sock, connection.sock.getsockname()

    # The idle time is what is tested: a client that keeps its connection this long in its pool.
    time.sleep(CLIENT_IDLE)

    closed_by_server = select.select([pooled], [], [], 0)[0] and pooled.recv(1, socket.MSG_PEEK) == b""
    assert not closed_by_server, "gunicorn closed the idle connection before the client did"
    second = _get(connection, api.raw_key)
    assert second.status == 200
    assert connection.sock is pooled and pooled.getsockname() == address  # the same connection
    connection.close()
