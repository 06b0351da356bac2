"""What each provider's own words for a call's state mean in ours (Vapi's statuses and endedReasons).

Pure tables and functions: a provider module (dialer.providers.*) reads its callback, asks here
what it means, and builds a CallEvent. `outcomes.classify` then turns the endedReason into an
outcome class (answered, voicemail, busy, no answer, failed, cancelled) as for any provider.

Values a provider may add later, or that no table names, keep the provider's own word in a
`call.dialdeck.<provider>-<value>` endedReason: classified FAILED (retried by policy), and visible
to the user as the provider said it. README.md (docs/providers/*.md) shows each table.
"""

from __future__ import annotations

import re

# Our call statuses (campaigns.models.CallStatus; repeated here because rules import no models).
QUEUED, RINGING, IN_PROGRESS, ENDED = "queued", "ringing", "in-progress", "ended"
VOICEMAIL = "voicemail"

# -- Twilio Programmable Voice ------------------------------------------------------------------
# CallStatus values (Call resource, "Call Status values"), and StatusCallbackEvent's "answered"
# which is posted with CallStatus=in-progress.
TWILIO_LIVE = {"queued": QUEUED, "initiated": QUEUED, "ringing": RINGING, "in-progress": IN_PROGRESS}
TWILIO_ENDED = {
    # Twilio does not say who hung up: the Vapi reason for a Twilio call completed normally.
    "completed": "call.in-progress.twilio-completed-call",
    "busy": "customer-busy",
    "no-answer": "customer-did-not-answer",
    "failed": "twilio-failed-to-connect-call",
    "canceled": "manually-canceled",
}
# AnsweredBy values (Answering Machine Detection): a machine or a fax is our voicemail.
TWILIO_MACHINE = {"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"}
TWILIO_PERSON = {"human", "unknown"}

# -- Retell AI ----------------------------------------------------------------------------------
RETELL_LIVE = {"registered": QUEUED, "ongoing": IN_PROGRESS}  # "not_connected", "ended", "error": over
RETELL_ENDED = {
    "user_hangup": "customer-ended-call",
    "agent_hangup": "assistant-ended-call",
    "call_transfer": "assistant-forwarded-call",
    "transfer_bridged": "assistant-forwarded-call",
    "voicemail_reached": VOICEMAIL,
    "inactivity": "silence-timed-out",
    "max_duration_reached": "exceeded-max-duration",
    "dial_busy": "customer-busy",
    "user_declined": "customer-busy",
    "dial_no_answer": "customer-did-not-answer",
    "concurrency_limit_reached": "call.start.error-subscription-concurrency-limit-reached",
}

# -- Bland AI -----------------------------------------------------------------------------------
# `status` of a call (GET /v1/calls/{id}, webhook), with `answered_by` and `call_ended_by`.
BLAND_LIVE = {"queued": QUEUED, "new": QUEUED, "started": IN_PROGRESS, "in-progress": IN_PROGRESS}
BLAND_ENDED = {
    "busy": "customer-busy",
    "no-answer": "customer-did-not-answer",
    "failed": "call.dialdeck.bland-failed",
    "canceled": "manually-canceled",
}
BLAND_ENDED_BY = {"USER": "customer-ended-call", "ASSISTANT": "assistant-ended-call"}

# -- ElevenLabs Agents --------------------------------------------------------------------------
# Conversation `status`, and the post-call webhook's `call_initiation_failure` reasons.
ELEVENLABS_LIVE = {"initiated": QUEUED, "in-progress": IN_PROGRESS, "processing": IN_PROGRESS}
ELEVENLABS_FAILURE = {"busy": "customer-busy", "no-answer": "customer-did-not-answer"}

_WORD = re.compile(r"[^a-z0-9_.-]+")


def other(provider: str, value: str) -> str:
    """The endedReason keeping a provider's word no table names: FAILED, and readable."""
    word = _WORD.sub("-", value.strip().lower())[:60] or "unknown"
    return f"call.dialdeck.{provider}-{word}"


def twilio_status(call_status: str, answered_by: str = "") -> tuple[str, str]:
    """(our status, endedReason) for a Twilio CallStatus and, if machine detection ran, its
    AnsweredBy. A call that ended after a machine or fax answered is voicemail, whatever Twilio's
    final status; an unknown status is ended with the provider's word (never left live)."""
    if call_status in TWILIO_LIVE:
        return TWILIO_LIVE[call_status], ""
    if answered_by in TWILIO_MACHINE:
        return ENDED, VOICEMAIL
    return ENDED, TWILIO_ENDED.get(call_status) or other("twilio", call_status)


def twilio_machine(answered_by: str) -> bool:
    """Whether an AnsweredBy value means nobody (a machine or a fax) took the call."""
    return answered_by in TWILIO_MACHINE


def retell_status(call_status: str, disconnection_reason: str = "") -> tuple[str, str]:
    """(our status, endedReason) for a Retell call_status and disconnection_reason."""
    if call_status in RETELL_LIVE:
        return RETELL_LIVE[call_status], ""
    reason = disconnection_reason or call_status
    return ENDED, RETELL_ENDED.get(reason) or other("retell", reason)


def bland_status(
    status: str, *, completed: bool, answered_by: str = "", ended_by: str = ""
) -> tuple[str, str]:
    """(our status, endedReason) for a Bland call: `status`, `completed`, `answered_by`
    (voicemail when answering-machine detection says so) and `call_ended_by`."""
    if not completed and status in BLAND_LIVE:
        return BLAND_LIVE[status], ""
    if answered_by == "voicemail":
        return ENDED, VOICEMAIL
    if answered_by == "no-answer" or status in BLAND_ENDED:
        return ENDED, BLAND_ENDED.get(status, "customer-did-not-answer")
    if status == "completed" or completed:
        return ENDED, BLAND_ENDED_BY.get(ended_by, "call.in-progress.twilio-completed-call")
    return ENDED, other("bland", status)


def elevenlabs_status(status: str, *, failure_reason: str = "", termination: str = "") -> tuple[str, str]:
    """(our status, endedReason) for an ElevenLabs conversation `status` ("done", "failed", ...)
    or a call initiation failure's reason ("busy", "no-answer", "unknown")."""
    if failure_reason:
        return ENDED, ELEVENLABS_FAILURE.get(failure_reason) or other("elevenlabs", failure_reason)
    if status in ELEVENLABS_LIVE:
        return ELEVENLABS_LIVE[status], ""
    if status == "done":
        said = termination.lower()
        if "voicemail" in said:
            return ENDED, VOICEMAIL
        if "max duration" in said or "maximum duration" in said:
            return ENDED, "exceeded-max-duration"
        if "client" in said or "user" in said or "remote party" in said:
            return ENDED, "customer-ended-call"
        return ENDED, "assistant-ended-call"
    return ENDED, other("elevenlabs", status)
