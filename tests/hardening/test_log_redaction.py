"""A provider's webhook token (its credential, in the path /webhooks/<kind>/<token>) never reaches a log.

Django's request log ("Not Found: …", "Unauthorized: …") is read from the very
handler config/settings.py's LOGGING installs; gunicorn's access log from a real
gunicorn started with the Procfile's command line.
"""

from __future__ import annotations

import io
import logging
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.logfilters import RedactWebhookTokens, redact_webhook_tokens
from tests.support import process_env

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zk3xQvB7_pL2-mN9wR4tY6uI8oP1aS5d"  # the shape of ProviderAccount.webhook_token


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Not Found: /webhooks/vapi/" + TOKEN, "Not Found: /webhooks/vapi/[redacted]"),
        ("Not Found: /webhooks/simulated/" + TOKEN, "Not Found: /webhooks/simulated/[redacted]"),
        (
            f'"POST /webhooks/vapi/{TOKEN}?x=1 HTTP/1.1" 404',
            '"POST /webhooks/vapi/[redacted]?x=1 HTTP/1.1" 404',
        ),
        (
            f"https://dialer.example.com/webhooks/vapi/{TOKEN}/extra",
            "https://dialer.example.com/webhooks/vapi/[redacted]",
        ),
        (f"/WEBHOOKS/Vapi/{TOKEN}", "/WEBHOOKS/Vapi/[redacted]"),
        (f"/webhooks//vapi//{TOKEN}", "/webhooks//vapi//[redacted]"),
        (f"/webhooks/{TOKEN}", "/webhooks/[redacted]"),  # a URL set up without its kind
        ("GET /app/campaigns HTTP/1.1", "GET /app/campaigns HTTP/1.1"),
        ("/webhooks/vapi/", "/webhooks/[redacted]"),  # nothing to hide, and nothing shown
    ],
)
def test_it_redacts_the_token_of_every_webhook_path(text: str, expected: str) -> None:
    assert redact_webhook_tokens(text) == expected


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the console handler of settings.LOGGING prints during the test."""
    root = logging.getLogger()
    handler = next(h for h in root.handlers if any(isinstance(f, RedactWebhookTokens) for f in h.filters))
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_djangos_request_log_shows_a_webhook_path_without_its_token(client, provider, console) -> None:
    provider.kind, provider.base_url = "vapi", "https://api.example.com"
    provider.save()
    token = provider.webhook_token
    body = b'{"message": {"type": "status-update"}}'

    refused = client.post(f"/webhooks/vapi/{token}", body, content_type="application/json")  # no secret
    unknown = client.post(f"/webhooks/vapi/{TOKEN}", body, content_type="application/json")
    unrouted = client.get(f"/webhooks/vapi/{token}/status")

    assert (refused.status_code, unknown.status_code, unrouted.status_code) == (401, 404, 404)
    printed = console.getvalue()
    assert "WARNING django.request Unauthorized: /webhooks/vapi/[redacted]" in printed
    assert "WARNING django.request Not Found: /webhooks/vapi/[redacted]" in printed
    assert token not in printed and TOKEN not in printed


def test_djangos_request_log_shows_an_accounts_own_webhook_path_without_its_token(
    client, provider, console
) -> None:
    token = provider.webhook_token  # a simulated account's: that provider sends no webhooks
    body = b'{"message": {"type": "status-update"}}'

    refused = client.post(f"/webhooks/simulated/{token}", body, content_type="application/json")
    wrong_kind = client.post(f"/webhooks/other/{token}", body, content_type="application/json")

    assert (refused.status_code, wrong_kind.status_code) == (404, 404)
    printed = console.getvalue()
    assert "WARNING django.request Not Found: /webhooks/simulated/[redacted]" in printed
    assert "WARNING django.request Not Found: /webhooks/other/[redacted]" in printed
    assert token not in printed


def test_a_traceback_that_names_a_webhook_path_is_redacted_too(console) -> None:
    try:
        raise RuntimeError(f"could not handle /webhooks/vapi/{TOKEN}")
    except RuntimeError:
        logging.getLogger("django.request").exception("Internal Server Error: /webhooks/vapi/%s", TOKEN)
    printed = console.getvalue()
    assert "Internal Server Error: /webhooks/vapi/[redacted]" in printed
    assert "RuntimeError: could not handle /webhooks/vapi/[redacted]" in printed
    assert TOKEN not in printed


# -- gunicorn, as the Procfile starts it -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _procfile_web_command(port: int) -> list[str]:
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    argv = shlex.split(line.removeprefix("web:").replace("$PORT", str(port)))
    assert Path(argv[0]).name == "gunicorn", argv
    return [sys.executable, "-m", "gunicorn", *argv[1:]]  # this interpreter's gunicorn


def _send(request: urllib.request.Request) -> int:
    """The answer's status; 0 while nothing listens yet (or it is too busy starting to answer)."""
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, TimeoutError, ConnectionError):
        return 0


@pytest.mark.django_db(transaction=True)
def test_gunicorns_access_log_shows_a_webhook_path_without_its_token(provider, tmp_path) -> None:
    provider.kind, provider.base_url = "vapi", "https://api.example.com"
    provider.save()
    token, port = provider.webhook_token, _free_port()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            _procfile_web_command(port), cwd=ROOT, env=process_env(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180  # a loaded 2-core machine starts workers slowly
        while _send(urllib.request.Request(f"{base}/accounts/login/")) != 200:
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        webhook = f"{base}/webhooks/vapi/{token}"
        headers = {"Content-Type": "application/json", "Referer": webhook}
        body = b'{"message": {"type": "status-update"}}'
        assert _send(urllib.request.Request(webhook, body, headers, method="POST")) == 401
        assert _send(urllib.request.Request(f"{base}/webhooks/vapi/{TOKEN}", body, headers)) == 404
        assert _send(urllib.request.Request(f"{base}/webhooks/simulated/{token}", body, headers)) == 404
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    printed = log.read_text()
    assert '"POST /webhooks/vapi/[redacted] HTTP/1.1" 401' in printed, printed
    assert '"POST /webhooks/vapi/[redacted] HTTP/1.1" 404' in printed, printed
    assert '"POST /webhooks/simulated/[redacted] HTTP/1.1" 404' in printed, printed
    assert f'"{base}/webhooks/vapi/[redacted]"' in printed  # the Referer field
    assert "Unauthorized: /webhooks/vapi/[redacted]" in printed  # Django's own log, in the worker
    assert token not in printed and TOKEN not in printed
