"""Each provider's words for a call's state, read as ours: tables, and properties for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules import provider_outcomes as rules
from campaigns.rules.outcomes import OutcomeClass, classify

LIVE = {"queued", "ringing", "in-progress"}


@pytest.mark.parametrize(
    ("status", "answered_by", "expected"),
    [
        ("initiated", "", ("queued", "")),
        ("ringing", "", ("ringing", "")),
        ("in-progress", "", ("in-progress", "")),
        ("completed", "", ("ended", "call.in-progress.twilio-completed-call")),
        ("completed", "human", ("ended", "call.in-progress.twilio-completed-call")),
        ("completed", "machine_end_beep", ("ended", "voicemail")),
        ("completed", "fax", ("ended", "voicemail")),
        ("busy", "", ("ended", "customer-busy")),
        ("no-answer", "", ("ended", "customer-did-not-answer")),
        ("failed", "", ("ended", "twilio-failed-to-connect-call")),
        ("canceled", "", ("ended", "manually-canceled")),
        ("exploded", "", ("ended", "call.dialdeck.twilio-exploded")),
    ],
)
def test_twilio_statuses_and_answered_by_map_to_our_outcomes(status, answered_by, expected) -> None:
    assert rules.twilio_status(status, answered_by) == expected


@pytest.mark.parametrize(
    ("status", "reason", "outcome"),
    [
        ("ended", "user_hangup", OutcomeClass.ANSWERED),
        ("ended", "agent_hangup", OutcomeClass.ANSWERED),
        ("ended", "voicemail_reached", OutcomeClass.VOICEMAIL),
        ("ended", "dial_busy", OutcomeClass.BUSY),
        ("ended", "dial_no_answer", OutcomeClass.NO_ANSWER),
        ("ended", "dial_failed", OutcomeClass.FAILED),
        ("error", "error_llm_websocket_open", OutcomeClass.FAILED),
        ("ended", "max_duration_reached", OutcomeClass.ANSWERED),
        ("not_connected", "dial_busy", OutcomeClass.BUSY),
        ("not_connected", "dial_no_answer", OutcomeClass.NO_ANSWER),
    ],
)
def test_retell_disconnection_reasons_map_to_our_outcome_classes(status, reason, outcome) -> None:
    ours, ended_reason = rules.retell_status(status, reason)
    assert ours == "ended" and classify(ended_reason) is outcome


@pytest.mark.parametrize(
    ("status", "completed", "answered_by", "ended_by", "outcome"),
    [
        ("completed", True, "human", "USER", OutcomeClass.ANSWERED),
        ("completed", True, "voicemail", "ASSISTANT", OutcomeClass.VOICEMAIL),
        ("completed", True, "no-answer", "", OutcomeClass.NO_ANSWER),
        ("busy", True, "", "", OutcomeClass.BUSY),
        ("failed", True, "", "", OutcomeClass.FAILED),
    ],
)
def test_bland_calls_map_to_our_outcome_classes(status, completed, answered_by, ended_by, outcome) -> None:
    ours, ended_reason = rules.bland_status(
        status, completed=completed, answered_by=answered_by, ended_by=ended_by
    )
    assert ours == "ended" and classify(ended_reason) is outcome


def test_elevenlabs_initiation_failures_and_terminations_map_to_our_outcome_classes() -> None:
    assert classify(rules.elevenlabs_status("failed", failure_reason="busy")[1]) is OutcomeClass.BUSY
    assert (
        classify(rules.elevenlabs_status("failed", failure_reason="no-answer")[1]) is OutcomeClass.NO_ANSWER
    )
    assert classify(rules.elevenlabs_status("failed", failure_reason="unknown")[1]) is OutcomeClass.FAILED
    said = "Call ended by remote party"
    assert classify(rules.elevenlabs_status("done", termination=said)[1]) is OutcomeClass.ANSWERED
    assert rules.elevenlabs_status("done", termination="voicemail detected")[1] == "voicemail"
    assert rules.elevenlabs_status("in-progress") == ("in-progress", "")


words = st.text(max_size=40)


@given(words, words)
def test_twilio_any_input_is_live_without_a_reason_or_ended_with_one(status, answered_by) -> None:
    ours, reason = rules.twilio_status(status, answered_by)
    assert (ours in LIVE and reason == "") or (ours == "ended" and reason)
    if ours == "ended" and rules.twilio_machine(answered_by):
        assert classify(reason) is OutcomeClass.VOICEMAIL


@given(words, words)
def test_retell_any_input_is_live_or_ended_with_a_reason(status, reason) -> None:
    ours, ended_reason = rules.retell_status(status, reason)
    assert (ours in LIVE and ended_reason == "") or (ours == "ended" and ended_reason)


@given(words, st.booleans(), words, words)
def test_bland_any_input_is_live_or_ended_with_a_reason(status, completed, answered_by, ended_by) -> None:
    ours, ended_reason = rules.bland_status(
        status, completed=completed, answered_by=answered_by, ended_by=ended_by
    )
    assert (ours in LIVE and ended_reason == "" and not completed) or (ours == "ended" and ended_reason)


@given(words)
def test_unknown_words_are_kept_readable_and_fail(value) -> None:
    reason = rules.other("retell", value)
    assert reason.startswith("call.dialdeck.retell-") and len(reason) <= 81
    assert classify(reason) is OutcomeClass.FAILED
