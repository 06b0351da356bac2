"""The chaos run's REST providers: the tests' fakes of Twilio, Retell, Bland and ElevenLabs
(tests/fakes/twilio_server.py, tests/fakes/voice_ai_servers.py: their endpoints, call records,
callbacks and signatures as each API documents them) under the fault model of bench/chaos_fake.py's
Vapi, so `make chaos CHAOS_ARGS="--provider twilio"` runs the same campaign with the same verdict.

Per call (drawn when the create-call request creates it): the answer after 20-150 ms, ringing after
0.2-0.5 s, answered 0.3-1.5 s later, talk (or ring, when nobody answers) for `talk` seconds, the
report or analysis 0.1-0.8 s after the end; how it goes ("answered", "voicemail", "busy",
"no-answer") drawn by (number, attempt) from the seed. `fail_rate` of create requests are answered
429 or 5xx in the provider's own error shape (the dialer retries them). Callbacks: each posted 1-3
times, each copy late by 0-`jitter` s; `drop_call_rate` of calls get no callback at all and
`drop_message_rate` of the other callbacks are lost (all copies), so the reaper must reconcile
through the provider's GET. A delivery that cannot connect is tried again every 0.5 s for up to
`retry_window` s (as bench/chaos_fake.py documents); one answered with any HTTP status is not.

Each provider's class says, for the checks, what a call record means: its id, whether it has ended,
and the endedReason its final record maps to (campaigns.rules.provider_outcomes, the tables of
docs/providers/*.md).
"""

from __future__ import annotations

import json
import random
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import requests

from campaigns.rules import provider_outcomes as outcomes
from tests.fakes.provider_server import Received
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.voice_ai_servers import FakeBland, FakeElevenLabs, FakeRetell

# How a call goes (weights). Busy and no answer retry; voicemail is final (retryVoicemail off).
PLAYED = [("answered", 55), ("voicemail", 15), ("busy", 15), ("no-answer", 15)]


def played_for(seed: int, number: str, attempt: int) -> str:
    """How `number`'s attempt goes, the same in every run with this seed."""
    rng = random.Random(f"{seed}:{number}:{attempt}")
    return rng.choices([p for p, _ in PLAYED], weights=[w for _, w in PLAYED])[0]


@dataclass
class Sent:
    """One callback post: the provider's call id, the callback's kind, and our answer (or the error)."""

    provider_call_id: str
    kind: str
    answer: int | str


class ChaosRest(ABC):
    """The fault model, mixed in before one of the tests' REST fakes (tests.fakes.provider_server)."""

    kind = ""
    webhook_attributes: tuple[str, ...] = ()  # where the user pastes our webhook URL in the console

    def __init__(
        self,
        *,
        seed: int,
        talk: tuple[float, float] = (1.0, 6.0),
        jitter: float = 1.0,
        drop_call_rate: float = 0.02,
        drop_message_rate: float = 0.02,
        fail_rate: float = 0.01,
        retry_window: float = 20.0,
    ) -> None:
        super().__init__()
        self.seed, self.talk_range, self.jitter = seed, talk, jitter
        self.drop_call_rate, self.drop_message_rate = drop_call_rate, drop_message_rate
        self.fail_rate, self.retry_window = fail_rate, retry_window
        self.outcome = self._outcome
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._create_lock = threading.Lock()  # one create at a time: the per-call knobs are its own
        self._attempts: Counter = Counter()  # creates per number
        self.ours: dict[str, str | None] = {}  # provider id -> our call id
        self.started: dict[str, float] = {}  # provider id -> epoch created
        self.ended: dict[str, float] = {}  # provider id -> epoch its record first read as ended
        self._open: set[str] = set()
        self.silenced: set[str] = set()  # provider ids of calls whose callbacks are all dropped
        self.dropped: list[tuple[str, str]] = []  # (provider id, kind) lost callbacks
        self._lost: dict[tuple[str, str], bool] = {}
        self.retries = 0
        self.gave_up: list[Sent] = []
        self.resets = 0

    # -- what each provider's class says ----------------------------------------------------------

    @abstractmethod
    def number_of(self, body: dict) -> str: ...

    @abstractmethod
    def created_id(self, answer: Any) -> str: ...

    @abstractmethod
    def callback_call_id(self, data: bytes) -> str: ...

    @abstractmethod
    def is_ended(self, call: dict) -> bool: ...

    @abstractmethod
    def ended_reason(self, call: dict) -> str:
        """The endedReason the provider's final record of `call` means (docs/providers/<kind>.md)."""
        ...

    def accepted_reasons(self, call: dict) -> set[str]:
        """Our outcomes that reflect the provider's final record of `call`: its endedReason."""
        return {self.ended_reason(call)}

    def point_webhooks(self, url: str) -> None:
        """What the user pastes in the provider's console (Twilio and Bland take it on each call)."""
        for attribute in self.webhook_attributes:
            setattr(self, attribute, url)

    # -- randomness -------------------------------------------------------------------------------

    def _draw(self, low: float, high: float) -> float:
        with self._rng_lock:
            return self._rng.uniform(low, high)

    def _chance(self, rate: float) -> bool:
        with self._rng_lock:
            return self._rng.random() < rate

    def _outcome(self, body: dict) -> str:
        number = self.number_of(body)
        self._attempts[number] += 1  # under the create lock
        return played_for(self.seed, number, self._attempts[number])

    # -- the API, with latency and refusals -------------------------------------------------------

    def __enter__(self):
        super().__enter__()

        def handle_error(request, client_address) -> None:  # a SIGKILLed worker resets its connections
            with self._lock:
                self.resets += 1

        self._server.handle_error = handle_error
        return self

    def handle(self, handler) -> None:
        if handler.command == "POST":
            time.sleep(self._draw(0.02, 0.15))
            if self._chance(self.fail_rate) and self._creating(handler.path):
                with self._rng_lock:
                    status = self._rng.choice((429, 500, 503))
                self.fail_next(1, status=status)
        super().handle(handler)

    def _creating(self, path: str) -> bool:
        import re

        return bool(re.fullmatch(self.create_path, path.split("?", 1)[0]))

    def route(self, request: Received):
        if not (request.method == "POST" and self._creating(request.path)):
            return super().route(request)
        with self._create_lock:
            self.ring, self.answer = self._draw(0.2, 0.5), self._draw(0.3, 1.5)
            self.talk, self.report = self._draw(*self.talk_range), self._draw(0.1, 0.8)
            with self._rng_lock:
                self.deliveries = self._rng.randint(1, 3)
            silenced = self._chance(self.drop_call_rate)
            placed = len(self.placed)
            status, answer, headers = super().route(request)
            if 200 <= status < 300:
                pid = self.created_id(answer)
                with self._lock:
                    self.ours[pid] = self.placed[placed] if len(self.placed) > placed else None
                    self.started[pid] = request.at
                    self._open.add(pid)
                    if silenced:
                        self.silenced.add(pid)
            return status, answer, headers

    # -- the clock: late callbacks, and when each call ended --------------------------------------

    def at(self, delay: float, run, *, post: bool = False) -> None:
        if post:
            return super().at(delay + self._draw(0.0, self.jitter), run, post=True)

        def changed() -> None:
            run()
            now = time.time()
            with self._lock:
                for pid in [p for p in self._open if self.is_ended(self.calls[p])]:
                    self.ended[pid] = now
                    self._open.discard(pid)

        super().at(delay, changed)

    # -- delivery, with loss and retries on connection failures -----------------------------------

    def _post(self, url: str, kind: str, data: bytes, headers: dict, first_try: float | None = None) -> None:
        pid = self.callback_call_id(data)
        key = (pid, kind)
        with self._lock:
            lost = pid in self.silenced or self._lost.setdefault(key, self._chance(self.drop_message_rate))
            if lost and pid not in self.silenced and key not in self.dropped:
                self.dropped.append(key)
        if lost:
            return
        first_try = first_try or time.monotonic()
        try:
            got: int | str = requests.post(url, data=data, headers=headers, timeout=10).status_code
        except requests.ConnectionError as exc:
            got = type(exc).__name__
            if time.monotonic() - first_try < self.retry_window:
                with self._lock:
                    self.retries += 1
                self.at(0.5, lambda: self._post(url, kind, data, headers, first_try), post=True)
            else:
                with self._lock:
                    self.gave_up.append(Sent(pid, kind, got))
        except requests.RequestException as exc:
            got = type(exc).__name__
        with self._lock:
            self.webhooks.append(Sent(pid, kind, got))

    # -- what happened, as the checks read it (bench/chaos_checks.py) -----------------------------

    def posts_to_create_calls(self) -> list[Received]:
        return self.creates()

    def live_now(self) -> int:
        with self._lock:
            return len(self._open)

    def delivery_answers(self) -> Counter:
        with self._lock:
            return Counter(str(d.answer) for d in self.webhooks)

    def provider_view(self) -> list[dict]:
        """Each call the provider made: {id, ours, number, ended, ended_reason, accepted, start, end}."""
        with self._lock:
            calls = {pid: dict(call) for pid, call in self.calls.items()}
            started, ended, ours = dict(self.started), dict(self.ended), dict(self.ours)
        return [
            {
                "id": pid,
                "ours": ours.get(pid),
                "number": self.number_of_call(call),
                "ended": self.is_ended(call),
                "ended_reason": self.ended_reason(call) if self.is_ended(call) else None,
                "accepted": self.accepted_reasons(call) if self.is_ended(call) else set(),
                "start": started.get(pid, 0.0),
                "end": ended.get(pid, float("inf")),
            }
            for pid, call in calls.items()
        ]

    @abstractmethod
    def number_of_call(self, call: dict) -> str: ...


class ChaosTwilio(ChaosRest, FakeTwilio):
    kind = "twilio"

    def number_of(self, body: dict) -> str:
        return body.get("To", "")

    def number_of_call(self, call: dict) -> str:
        return call.get("to", "")

    def created_id(self, answer: Any) -> str:
        return answer["sid"]

    def callback_call_id(self, data: bytes) -> str:
        return parse_qs(data.decode())["CallSid"][0]

    def is_ended(self, call: dict) -> bool:
        return call["status"] in outcomes.TWILIO_ENDED

    def ended_reason(self, call: dict) -> str:
        return outcomes.twilio_status(call["status"], call.get("answered_by") or "")[1]


class ChaosRetell(ChaosRest, FakeRetell):
    kind = "retell"
    webhook_attributes = ("agent_webhook_url",)

    def number_of(self, body: dict) -> str:
        return body.get("to_number", "")

    def number_of_call(self, call: dict) -> str:
        return call.get("to_number", "")

    def created_id(self, answer: Any) -> str:
        return answer["call_id"]

    def callback_call_id(self, data: bytes) -> str:
        return json.loads(data)["call"]["call_id"]

    def is_ended(self, call: dict) -> bool:
        return call["call_status"] not in outcomes.RETELL_LIVE

    def ended_reason(self, call: dict) -> str:
        return outcomes.retell_status(call["call_status"], call.get("disconnection_reason") or "")[1]


class ChaosBland(ChaosRest, FakeBland):
    kind = "bland"

    def number_of(self, body: dict) -> str:
        return body.get("phone_number", "")

    def number_of_call(self, call: dict) -> str:
        return call.get("to", "")

    def created_id(self, answer: Any) -> str:
        return answer["call_id"]

    def callback_call_id(self, data: bytes) -> str:
        return json.loads(data)["call_id"]

    def is_ended(self, call: dict) -> bool:
        return bool(call.get("completed"))

    def ended_reason(self, call: dict) -> str:
        return outcomes.bland_status(
            call["status"],
            completed=True,
            answered_by=call.get("answered_by") or "",
            ended_by=call.get("call_ended_by") or "",
        )[1]


class ChaosElevenLabs(ChaosRest, FakeElevenLabs):
    kind = "elevenlabs"
    webhook_attributes = ("workspace_webhook_url",)

    def number_of(self, body: dict) -> str:
        return body.get("to_number", "")

    def number_of_call(self, call: dict) -> str:
        return self._numbers.get(call["conversation_id"], "")

    def route(self, request: Received):
        status, answer, headers = super().route(request)
        creating = request.method == "POST" and self._creating(request.path)
        if creating and 200 <= status < 300:
            self._numbers[answer["conversation_id"]] = json.loads(request.raw).get("to_number", "")
        return status, answer, headers

    def __init__(self, **chaos: Any) -> None:
        super().__init__(**chaos)
        self._numbers: dict[str, str] = {}

    def created_id(self, answer: Any) -> str:
        return answer["conversation_id"]

    def callback_call_id(self, data: bytes) -> str:
        return json.loads(data)["data"]["conversation_id"]

    def is_ended(self, call: dict) -> bool:
        return call["status"] in ("done", "failed")

    def ended_reason(self, call: dict) -> str:
        # A failed initiation's reason (busy, no answer) is in its callback only (kept per call
        # by _play): the conversation's record says "failed", no more.
        if call["status"] == "failed":
            return outcomes.ELEVENLABS_FAILURE.get(self._failures.get(call["conversation_id"], ""), "")
        return outcomes.elevenlabs_status(
            call["status"], termination=(call.get("metadata") or {}).get("termination_reason", "")
        )[1]

    def accepted_reasons(self, call: dict) -> set[str]:
        """With its callback lost, a failed initiation can only be reconciled as the record says."""
        found = super().accepted_reasons(call)
        if call["status"] == "failed":
            found.add(outcomes.elevenlabs_status("failed")[1])
        return found

    def _play(self, conversation_id: str, outcome: str) -> None:
        if not hasattr(self, "_failures"):
            self._failures: dict[str, str] = {}
        if outcome in ("busy", "no-answer"):
            self._failures[conversation_id] = outcome
        super()._play(conversation_id, outcome)


PROVIDERS: dict[str, type[ChaosRest]] = {
    c.kind: c for c in (ChaosTwilio, ChaosRetell, ChaosBland, ChaosElevenLabs)
}
