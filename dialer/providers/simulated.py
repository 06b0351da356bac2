"""The simulated provider: no network, outcomes drawn from a configurable mix, deterministic per seed.

It schedules its own callbacks as `SimulatedEvent` rows, which the beat-driven
sweep delivers through `record_call_event` exactly like webhooks. Every duration
is multiplied by SIMULATED_TIME_SCALE (0.02 turns a 60 s call into 1.2 s).

Account settings (all optional):
    {"seed": 1,
     "mix": {"answered": 55, "noAnswer": 15, "busy": 10, "voicemail": 12, "failed": 5, "optOut": 3},
     "ringSeconds": [3, 20], "talkSeconds": [20, 120],
     "analysisMix": {"objectiveMet": 50, "objectiveNotMet": 30, "callback": 12, "optOut": 8},
     "callbacks": 0, "transcripts": false}

`callbacks` (percent, default 0): a callee whose call went unanswered (no answer, busy, a
machine) calls the caller ID back a minute later (`simulated_callback`), answered like any
inbound call by services.inbound_call_receive; one routed to the agent talks, then hangs up.

`transcripts` (default false): an answered call streams its live transcript, a line at a time
while it is under way (SCRIPT), as Vapi's final `transcript` messages do.

A call answered in a campaign with an analysis schema ends with a structured result that
follows the schema (simulated.structured_result), its objective field, `callbackAt` (the
campaign's callback field) and `optOut` set as the drawn analysis outcome says.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from campaigns import clock, services
from campaigns.models import Call, ProviderAccount, TranscriptRole
from campaigns.models.telephony import SIMULATED_MIX as DEFAULT_MIX
from campaigns.rules.analysis import OBJECTIVE_FIELD
from campaigns.rules.outcome_plan import CALLBACK_FIELD
from campaigns.services.inputs import TRANSCRIPT, CallEvent
from dialer.models import SimulatedEvent
from dialer.providers.base import Provider

# The marker event of a simulated callback (simulated_callback), and how long after the call.
CALLBACK = "simulated-callback"
CALLBACK_AFTER = 60.0
ENDED_REASONS = {
    "answered": "customer-ended-call",
    "noAnswer": "customer-did-not-answer",
    "busy": "customer-busy",
    "voicemail": "voicemail",
    "failed": "call.in-progress.error-sip-outbound-call-failed-to-connect",
    "optOut": "customer-opted-out",
}


class SimulatedProvider(Provider):
    def _plan(self, call: Call) -> list[tuple[float, CallEvent]]:
        """(seconds after placing, event) for one call, the same for the same seed, customer and attempt."""
        config = self.account.settings or {}
        rng = random.Random(f"{config.get('seed', 1)}:{call.customer_id}:{call.attempt}")
        mix = config.get("mix") or DEFAULT_MIX
        outcome = rng.choices(list(mix), weights=list(mix.values()))[0]
        ring_low, ring_high = config.get("ringSeconds", [3, 20])
        talk_low, talk_high = config.get("talkSeconds", [20, 120])
        ring = min(rng.uniform(ring_low, ring_high), call.campaign.max_ring_seconds)
        reason = ENDED_REASONS[outcome]
        ringing = (0.5, CallEvent(kind="status-update", status="ringing", call_id=str(call.pk)))
        # Drawn apart, so the outcomes, durations and results of a seed stay what they were.
        again = random.Random(f"{config.get('seed', 1)}:{call.customer_id}:{call.attempt}:callback")
        calls_back = again.uniform(0, 100) < float(config.get("callbacks") or 0)
        callback = CallEvent(kind=CALLBACK, status="ringing", call_id=str(call.pk))
        if outcome in ("noAnswer", "busy", "failed"):
            end_at = call.campaign.max_ring_seconds if outcome == "noAnswer" else rng.uniform(1, 4)
            plan = [ringing, (end_at, self._ended(call, reason, None))]
            return plan + (
                [(end_at + CALLBACK_AFTER, callback)] if calls_back and outcome != "failed" else []
            )
        talk = rng.uniform(5, 25) if outcome == "voicemail" else rng.uniform(talk_low, talk_high)
        machine = voicemail_left(call) if outcome == "voicemail" else None
        if machine is not None:  # the campaign's voicemail plan: hang up at once, or say the message
            talk = rng.uniform(1, 3) if machine == "" else rng.uniform(8, 30)
        talk = min(talk, call.campaign.max_duration_seconds)
        answered = CallEvent(kind="status-update", status="in-progress", call_id=str(call.pk))
        cost = Decimal(str(round(0.05 + talk / 60 * 0.09, 4)))
        report = CallEvent(
            kind="end-of-call-report",
            status="ended",
            call_id=str(call.pk),
            ended_reason=reason,
            cost=cost,
            cost_unit="USD",
            summary=_summary(outcome, talk, machine),
            transcript=f"AI: {machine}\n" if machine else "AI: Hello!\nUser: Hi.\n",
            analysis={
                "summary": f"Simulated {outcome}.",
                "successEvaluation": str(outcome == "answered").lower(),
                **({"voicemailMessageLeft": bool(machine)} if machine is not None else {}),
            },
            structured_data=structured_result(call, rng, config) if outcome == "answered" else None,
        )
        plan = [
            ringing,
            (ring, answered),
            *(_lines(call, ring, talk, outcome, machine) if config.get("transcripts") else []),
            (ring + talk, self._ended(call, reason, cost)),
            (ring + talk + 1, report),
        ]
        return plan + (
            [(ring + talk + CALLBACK_AFTER, callback)] if calls_back and outcome == "voicemail" else []
        )

    @staticmethod
    def _ended(call: Call, reason: str, cost: Decimal | None) -> CallEvent:
        return CallEvent(
            kind="status-update",
            status="ended",
            call_id=str(call.pk),
            ended_reason=reason,
            cost=cost,
            cost_unit="USD",
        )

    def place_call(self, call: Call) -> str:
        provider_call_id = f"sim-{uuid.uuid4()}"
        now = timezone.now()
        scale = settings.SIMULATED_TIME_SCALE
        events = []
        for seconds, event in self._plan(call):
            event = CallEvent(**{**event.__dict__, "provider_call_id": provider_call_id})
            due = now + timedelta(seconds=seconds * scale)
            stamped = CallEvent(**{**event.__dict__, "at": due})
            if stamped.status == "in-progress":
                stamped = CallEvent(**{**stamped.__dict__, "started_at": due})
            events.append(SimulatedEvent(account=self.account, due_at=due, payload=stamped.to_json()))
        self.record("request", f"simulated call placed ({len(events)} events scheduled)")
        SimulatedEvent.objects.bulk_create(events)
        return provider_call_id

    def fetch_status(self, call: Call) -> list[CallEvent]:
        """Whatever is still scheduled for this call, delivered now (a callee's callback stays
        scheduled: it is a call of its own)."""
        pending = SimulatedEvent.objects.filter(account=self.account, payload__call_id=str(call.pk))
        pending = pending.exclude(payload__kind=CALLBACK)
        events = [CallEvent.from_json(e.payload) for e in pending]
        pending.delete()
        return events


# What the simulated agent and callee say, streamed line by line while the call is under way.
SCRIPT = [
    (TranscriptRole.ASSISTANT, "Hello, this is the {campaign} team calling. Is now a good time?"),
    (TranscriptRole.USER, "Yes, go ahead."),
    (TranscriptRole.ASSISTANT, "Thank you. I am calling about your account; it takes a minute."),
    (TranscriptRole.USER, "Sure, what do you need?"),
    (TranscriptRole.ASSISTANT, "Just to confirm your details are still right. Are they?"),
    (TranscriptRole.USER, "They are, thanks."),
]


def _lines(
    call: Call, ring: float, talk: float, outcome: str, machine: str | None
) -> list[tuple[float, CallEvent]]:
    """The live transcript of an answered call (account setting `transcripts`), its lines spread
    evenly over the talk; a machine hears the campaign's voicemail message, if it has one."""
    if outcome == "answered":
        said = [(role, text.format(campaign=call.campaign.name)) for role, text in SCRIPT]
    else:  # the voicemail message as the campaign wrote it (braces and all)
        said = [(TranscriptRole.ASSISTANT, machine)] if machine else []
    step = talk / (len(said) + 1)
    return [
        (
            ring + step * (i + 1),
            CallEvent(
                kind=TRANSCRIPT,
                status="",
                call_id=str(call.pk),
                role=role,
                transcript=text,
            ),
        )
        for i, (role, text) in enumerate(said)
    ]


def simulated_callback(account: ProviderAccount, event: CallEvent) -> Call | None:
    """The callee of `event`'s call calls its caller ID back: answered as services.inbound_call_receive
    decides; a call routed to the agent is in progress at once and ends 20 to 90 (scaled) seconds
    later, by the same sweep. Returns the inbound call stored, or None."""
    call = Call.objects.filter(pk=event.call_id, provider_account=account).select_related(
        "customer", "phone_number"
    )
    call = call.first()
    if call is None or not call.customer.number:
        return None
    result = services.inbound_call_receive(
        account=account,
        caller=call.customer.number,
        called=call.phone_number.number,
        provider_call_id=f"sim-in-{call.pk}",
    )
    inbound = result.call
    if inbound is None or not result.answer.routed or inbound.status == "ended":
        return inbound
    now, scale = clock.now(), settings.SIMULATED_TIME_SCALE
    talk = random.Random(str(inbound.pk)).uniform(20, 90)
    ids = {"call_id": str(inbound.pk), "provider_call_id": inbound.provider_call_id}
    answered = CallEvent(kind="status-update", status="in-progress", at=now, started_at=now, **ids)
    end = now + timedelta(seconds=talk * scale)
    ended = CallEvent(
        kind="end-of-call-report",
        status="ended",
        ended_reason="customer-ended-call",
        at=end,
        ended_at=end,
        summary="Simulated callback: the callee called back and spoke with the agent.",
        **ids,
    )
    SimulatedEvent.objects.bulk_create(
        [SimulatedEvent(account=account, due_at=e.at, payload=e.to_json()) for e in (answered, ended)]
    )
    return inbound


def voicemail_left(call: Call) -> str | None:
    """What the agent leaves on a machine under the campaign's voicemail plan: its message (or
    the recording's URL), "" when the plan hangs up, None without a plan."""
    plan = call.campaign.voicemail_plan
    if not isinstance(plan, dict):
        return None
    if plan.get("action") != "leave-message":
        return ""
    return plan.get("message") or f"[recording {plan.get('recording_url', '')}]"


def _summary(outcome: str, talk: float, machine: str | None) -> str:
    if machine:
        return f"Simulated call: voicemail, left a message after {talk:.0f}s."
    if machine == "":
        return f"Simulated call: voicemail, hung up on the machine after {talk:.0f}s."
    return f"Simulated call: {outcome} after {talk:.0f}s."


ANALYSIS_MIX = {"objectiveMet": 50, "objectiveNotMet": 30, "callback": 12, "optOut": 8}


def structured_result(call: Call, rng: random.Random, config: dict) -> dict | None:
    """A result that follows the campaign's analysis schema (None without one): each property
    drawn from its type or enum, then the drawn analysis outcome (config "analysisMix") written
    over it: the objective field, a callback the next day at 10:00 callee-local, or optOut."""
    campaign = call.campaign
    schema = campaign.analysis_schema
    if not isinstance(schema, dict):
        return None
    result = {name: _value(sub, rng) for name, sub in (schema.get("properties") or {}).items()}
    mix = config.get("analysisMix") or ANALYSIS_MIX
    drawn = rng.choices(list(mix), weights=list(mix.values()))[0]
    properties = schema.get("properties") or {}
    objective = campaign.objective_field or OBJECTIVE_FIELD
    if objective in properties:
        result[objective] = drawn == "objectiveMet"
    if drawn == "callback":
        tomorrow = (timezone.now() + timedelta(days=1)).date()
        result[campaign.callback_field or CALLBACK_FIELD] = f"{tomorrow.isoformat()}T10:00:00"
    if "optOut" in properties:
        result["optOut"] = drawn == "optOut"
    return result


def _value(schema: object, rng: random.Random) -> object:
    if not isinstance(schema, dict):
        return None
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return rng.choice(schema["enum"])
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    if kind == "integer" or kind == "number":
        return rng.randint(int(schema.get("minimum", 0)), int(schema.get("maximum", 10)))
    if kind == "object":
        return {k: _value(v, rng) for k, v in (schema.get("properties") or {}).items()}
    return {"boolean": rng.random() < 0.5, "array": [], "null": None}.get(str(kind), "simulated")
