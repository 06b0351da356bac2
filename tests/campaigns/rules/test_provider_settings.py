"""Each kind's settings and credentials, as a table: what is refused and why."""

from __future__ import annotations

import pytest

from campaigns.rules.provider_settings import credentials_problems, settings_problems

SID = "AC" + "a" * 32
STREAM = "wss://agent.example.com/media"


@pytest.mark.parametrize(
    ("kind", "values", "problems"),
    [
        ("twilio", {"account_sid": SID, "stream_url": STREAM}, []),
        ("twilio", {"account_sid": SID, "twiml": "<Response><Say>Hi</Say></Response>"}, []),
        ("twilio", {"stream_url": STREAM}, [("account_sid", "is required")]),
        (
            "twilio",
            {"account_sid": "AC1", "stream_url": STREAM},
            [("account_sid", "must be AC followed by 32 hex digits")],
        ),
        ("twilio", {"account_sid": SID}, [("stream_url", "give either a stream URL or TwiML (one of them)")]),
        (
            "twilio",
            {"account_sid": SID, "stream_url": STREAM, "twiml": "<Response/>"},
            [("stream_url", "give either a stream URL or TwiML (one of them)")],
        ),
        (
            "twilio",
            {"account_sid": SID, "stream_url": "https://x.example"},
            [("stream_url", "must be a wss:// URL with a host")],
        ),
        (
            "twilio",
            {"account_sid": SID, "stream_url": "wss://"},
            [("stream_url", "must be a wss:// URL with a host")],
        ),
        ("twilio", {"account_sid": SID, "stream_url": STREAM, "api_key_sid": "SK" + "0" * 32}, []),
        (
            "twilio",
            {"account_sid": SID, "stream_url": STREAM, "voicemail_message": "x" * 1001},
            [("voicemail_message", "must be at most 1000 characters")],
        ),
        ("twilio", {"account_sid": 7, "stream_url": STREAM}, [("account_sid", "must be a string")]),
        ("elevenlabs", {}, []),
        ("elevenlabs", {"trunk": "sip"}, []),
        ("elevenlabs", {"trunk": "pstn"}, [("trunk", "must be one of twilio, sip")]),
        ("retell", {"agent": "x"}, [("agent", "is not a setting of this provider")]),
        ("bland", {}, []),
    ],
)
def test_settings(kind, values, problems) -> None:
    assert settings_problems(kind, values) == problems


@pytest.mark.parametrize(
    ("kind", "api_key", "webhook_secret", "problems"),
    [
        ("twilio", False, True, [("api_key", "is required for this provider")]),
        ("retell", True, False, []),
        ("bland", True, True, []),
        ("vapi", False, True, []),
        ("simulated", False, False, []),
        (
            "elevenlabs",
            True,
            False,
            [("webhook_secret", "is required for this provider: copy it from its console")],
        ),
    ],
)
def test_credentials(kind, api_key, webhook_secret, problems) -> None:
    assert credentials_problems(kind, api_key=api_key, webhook_secret=webhook_secret) == problems
