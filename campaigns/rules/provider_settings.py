"""What each kind of provider account needs: its own settings (Twilio's Account SID, ElevenLabs'
trunk, ...), which credentials are required, and the problems of given values. Pure: the
services refuse with these problems (as field errors), the dashboard's form and the API's
serializer are built from `FIELDS`.

Settings hold no secrets (those are the account's encrypted `api_key` and `webhook_secret`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Setting:
    name: str  # the key in ProviderAccount.settings (snake_case), camelCase in the API
    label: str
    help: str = ""
    required: bool = False
    pattern: str = ""  # a full match, when given
    pattern_says: str = ""  # what the pattern means, for its refusal
    max_length: int = 200
    choices: tuple[str, ...] = ()
    long: bool = False  # a multi-line text (TwiML, a message)
    schemes: tuple[str, ...] = ()  # a URL with one of these schemes


TWILIO = (
    Setting(
        "account_sid",
        "Account SID",
        "Twilio console, Account info: AC followed by 32 hex digits.",
        required=True,
        pattern=r"AC[0-9a-fA-F]{32}",
        pattern_says="must be AC followed by 32 hex digits",
    ),
    Setting(
        "api_key_sid",
        "API key SID",
        "Only if the credential below is an API key's secret (SK…), not the Auth Token.",
        pattern=r"SK[0-9a-fA-F]{32}",
        pattern_says="must be SK followed by 32 hex digits",
    ),
    Setting(
        "stream_url",
        "Agent stream URL",
        "Your agent's WebSocket, reached by <Connect><Stream> (wss://…).",
        max_length=500,
        schemes=("wss",),
    ),
    Setting(
        "twiml",
        "TwiML",
        "Instead of a stream: the TwiML each answered call runs.",
        max_length=4000,
        long=True,
    ),
    Setting(
        "voicemail_message",
        "Voicemail message",
        "Said after the beep when a machine answers; empty: hang up.",
        max_length=1000,
        long=True,
    ),
)
ELEVENLABS = (
    Setting(
        "trunk",
        "Outbound trunk",
        "The phone numbers imported into ElevenLabs: from Twilio, or a SIP trunk.",
        choices=("twilio", "sip"),
    ),
)
FIELDS: Mapping[str, tuple[Setting, ...]] = {"twilio": TWILIO, "elevenlabs": ELEVENLABS}

# Kinds whose API key (Twilio's Auth Token) is required to place calls at all.
NEEDS_API_KEY = frozenset({"twilio", "retell", "bland", "elevenlabs"})
# Kinds whose webhooks are signed with a secret their console makes (pasted into Dialdeck)...
SECRET_FROM_CONSOLE = frozenset({"elevenlabs"})
# ... and those that authenticate them with the secret Dialdeck makes (pasted into their console:
# Vapi's X-Vapi-Secret header, Bland's signing secret); Twilio and Retell sign with the API key.
OUR_SECRET = frozenset({"vapi", "bland"})


def fields_for(kind: str) -> tuple[Setting, ...]:
    return FIELDS.get(kind, ())


def settings_problems(kind: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(setting name, reason) for each problem of a kind's settings: unknown names, missing
    required ones, values that are not text, too long, off pattern or not a choice; and Twilio's
    agent: a stream URL or TwiML, not both, not neither."""
    known = {setting.name: setting for setting in fields_for(kind)}
    problems = [(name, "is not a setting of this provider") for name in values if name not in known]
    for setting in known.values():
        value = values.get(setting.name, "")
        if not isinstance(value, str):
            problems.append((setting.name, "must be a string"))
        elif not value:
            if setting.required:
                problems.append((setting.name, "is required"))
        elif len(value) > setting.max_length:
            problems.append((setting.name, f"must be at most {setting.max_length} characters"))
        elif setting.pattern and not re.fullmatch(setting.pattern, value):
            problems.append((setting.name, setting.pattern_says))
        elif setting.choices and value not in setting.choices:
            problems.append((setting.name, f"must be one of {', '.join(setting.choices)}"))
        elif setting.schemes and not _url_with(value, setting.schemes):
            problems.append((setting.name, f"must be a {' or '.join(setting.schemes)}:// URL with a host"))
    if kind == "twilio" and not any(name == "stream_url" or name == "twiml" for name, _ in problems):
        stream, twiml = values.get("stream_url"), values.get("twiml")
        if bool(stream) == bool(twiml):
            problems.append(("stream_url", "give either a stream URL or TwiML (one of them)"))
    return problems


def credentials_problems(kind: str, *, api_key: bool, webhook_secret: bool) -> list[tuple[str, str]]:
    """(field, reason) for credentials a kind needs and does not have (given now or stored)."""
    problems = []
    if kind in NEEDS_API_KEY and not api_key:
        problems.append(("api_key", "is required for this provider"))
    if kind in SECRET_FROM_CONSOLE and not webhook_secret:
        problems.append(("webhook_secret", "is required for this provider: copy it from its console"))
    return problems


def _url_with(value: str, schemes: tuple[str, ...]) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname) and not any(c.isspace() for c in value)
