"""Secrets redacted from a provider's JSON by reading its text (`scrub_written_json`): exactly what
walking the value (`scrub`) writes, or no answer, so the walk decides; never a third thing."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.providers.base import REDACTED, scrub, scrub_written_json

WEBHOOK_SECRET = "whsec_4f1c9a7e2b"
API_KEY = "k"
# Pieces that meet every rule the reading keeps: quotes, escapes, control characters, brackets,
# the redaction's own words, the secrets themselves and parts of them, digits (a secret in a number).
PIECES = [*'ab"\\[]:,{} 0123\n\t\x01/éu', "whsec_", WEBHOOK_SECRET, API_KEY, REDACTED, "redacted"]
PIECES += ["12345678"]
SECRETS = [WEBHOOK_SECRET, API_KEY, "12345678", "0", ":", ",", "redacted", "ted]", 'a"b', "a\\b", "\n"]
SECRETS += ["true", "é"]

text = st.lists(st.sampled_from(PIECES), max_size=5).map("".join)
number = st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False)
leaf = st.none() | st.booleans() | number | text
value = st.recursive(
    leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4), max_leaves=24
)
secrets = st.lists(st.sampled_from(SECRETS) | text.filter(bool), min_size=1, max_size=3).map(tuple)


@settings(max_examples=3000, deadline=None)
@given(value, secrets)
def test_reading_the_text_writes_what_walking_the_value_writes_or_leaves_it_to_the_walk(
    value, secrets
) -> None:
    written = orjson.dumps(value).decode()
    read = scrub_written_json(written, secrets)
    assert read is None or read == orjson.dumps(scrub(value, secrets)).decode()


def callback(transcript: str) -> dict:
    """Vapi's end-of-call report as it comes, our webhook secret echoed in the call it describes."""
    server = {"url": "https://dialer.example.com/webhooks/vapi/t"}
    server["headers"] = {"X-Vapi-Secret": WEBHOOK_SECRET}
    return {
        "message": {
            "type": "end-of-call-report",
            "endedReason": "customer-ended-call",
            "call": {"id": "c1", "assistantOverrides": {"server": server, "metadata": {"attempt": 1}}},
            "artifact": {"transcript": transcript, "messages": []},
        }
    }


def test_a_callback_that_echoes_the_secret_is_redacted_from_its_text_newlines_quotes_and_all() -> None:
    report = callback('AI: Hi, this is "Ava".\nUser: thanks, it works\tnow.\n')
    written = orjson.dumps(report).decode()

    read = scrub_written_json(written, (API_KEY, WEBHOOK_SECRET))

    assert read is not None and WEBHOOK_SECRET not in read
    assert read == orjson.dumps(scrub(report, (API_KEY, WEBHOOK_SECRET))).decode()
    assert orjson.loads(read)["message"]["call"]["assistantOverrides"]["server"]["headers"] == {
        "X-Vapi-Secret": REDACTED
    }


def test_what_the_text_alone_cannot_tell_is_left_to_the_walk() -> None:
    report = callback("fine")
    keyed = {WEBHOOK_SECRET: 1, API_KEY: 2}  # two keys that would become one
    escaped = orjson.dumps(report).decode().replace("fine", "a\\\\b")  # a backslash, escaped
    assert scrub_written_json(escaped, (WEBHOOK_SECRET,)) is None
    assert scrub_written_json(orjson.dumps(keyed).decode(), (WEBHOOK_SECRET, API_KEY)) is None
    assert scrub_written_json(orjson.dumps({"n": 12345678}).decode(), ("12345678",)) is None  # in a number
    assert scrub_written_json(orjson.dumps(report).decode(), ('se"cret',)) is None  # could span two strings
