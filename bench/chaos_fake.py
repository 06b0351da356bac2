"""The chaos run's Vapi: tests/fakes/vapi_server.FakeVapi with realistic, seeded randomness.

Per call (drawn when POST /call creates it): POST answered after 20-150 ms, ringing after
0.2-0.5 s, answered 0.3-1.5 s later, talk (or ring, when nobody answers) for `talk` seconds,
an end-of-call report 0.1-0.8 s after the end, an endedReason from OUTCOMES by (number, attempt).
Webhooks: each message posted 1-3 times, each copy late by 0-`jitter` s (so copies and adjacent
messages arrive out of order, but never before the event happened: the provider's concurrency
stays what ours says); `drop_call_rate` of calls get no webhook at all and `drop_message_rate` of
the other messages are lost (all copies), so the reaper has to ask GET /call/{id}.

Delivery retries (our choice, documented): real Vapi does not redeliver by default. This fake
retries a delivery that fails to connect or loses its connection (refused, reset) every 0.5 s for
up to `retry_window` seconds, so the web server's restart costs no event. A delivery answered with
any HTTP status is never retried: a 5xx from us is an event lost until the reaper asks.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from datetime import datetime
from typing import Any

import requests

from tests.fakes.vapi_server import Delivery, FakeVapi

# endedReason mix of a call (weights). Busy and no answer retry; voicemail is final (retryVoicemail off).
OUTCOMES = [
    ("customer-ended-call", 50),
    ("assistant-ended-call", 5),
    ("voicemail", 15),
    ("customer-busy", 15),
    ("customer-did-not-answer", 15),
]


def outcome_for(seed: int, number: str, attempt: int) -> str:
    """The endedReason of `number`'s attempt, the same in every run with this seed."""
    rng = random.Random(f"{seed}:{number}:{attempt}")
    return rng.choices([r for r, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]


class ChaosVapi(FakeVapi):
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
        super().__init__(api_key="chaos-vapi-key", concurrency_limit=10_000)
        self.seed, self.talk_range, self.jitter = seed, talk, jitter
        self.drop_call_rate, self.drop_message_rate, self.retry_window = (
            drop_call_rate,
            drop_message_rate,
            retry_window,
        )
        self.fail_rate = fail_rate
        self.ended_reason = self._outcome
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.silenced: set[str] = set()  # provider ids of calls whose webhooks are all dropped
        self.dropped: list[tuple[str, str, str]] = []  # (provider id, type, status) lost messages
        self._lost: dict[tuple[str, str, str], bool] = {}
        self.retries = 0  # deliveries tried again after a connection failure
        self.gave_up: list[Delivery] = []  # deliveries still failing after retry_window

    def _draw(self, low: float, high: float) -> float:
        with self._rng_lock:
            return self._rng.uniform(low, high)

    def _chance(self, rate: float) -> bool:
        with self._rng_lock:
            return self._rng.random() < rate

    def _outcome(self, body: dict) -> str:
        metadata = body.get("assistantOverrides", {}).get("metadata", {})
        return outcome_for(self.seed, body["customer"].get("number", ""), int(metadata.get("attempt", 1)))

    def __enter__(self) -> ChaosVapi:
        super().__enter__()
        # A SIGKILLed worker resets its keep-alive connections: count them instead of printing tracebacks.
        self.resets = 0

        def handle_error(request, client_address) -> None:
            with self._lock:
                self.resets += 1

        self._server.handle_error = handle_error
        return self

    # -- the API, with latency -----------------------------------------------------------------

    def handle(self, handler) -> None:
        if handler.command == "POST":
            time.sleep(self._draw(0.02, 0.15))
        super().handle(handler)

    def _play(self, call: dict, body: dict, target: str) -> None:
        # Called by _create with the fake's lock held, so these per-call knobs are never mixed up.
        self.ring, self.answer = self._draw(0.2, 0.5), self._draw(0.3, 1.5)
        self.talk, self.report = self._draw(*self.talk_range), self._draw(0.1, 0.8)
        with self._rng_lock:
            self.deliveries = self._rng.randint(1, 3)
        self.drop_webhooks = self._chance(self.drop_call_rate)
        if self.drop_webhooks:
            self.silenced.add(call["id"])
        super()._play(call, body, target)

    def _at(self, delay: float, run, *, post: bool = False) -> None:
        super()._at(delay + (self._draw(0.0, self.jitter) if post else 0.0), run, post=post)

    # -- delivery, with message loss and retries on connection failures -----------------------

    def _post(self, server: dict, payload: dict, first_try: float | None = None) -> None:
        message = payload["message"]
        key = (message["call"]["id"], message["type"], message.get("status", "ended"))
        with self._lock:
            lost = self._lost.setdefault(key, self._chance(self.drop_message_rate))
            if lost and key not in self.dropped:
                self.dropped.append(key)
        if lost:
            return
        first_try = first_try or time.monotonic()
        try:
            answer = requests.post(
                server["url"], json=payload, headers=server.get("headers") or {}, timeout=10
            )
            got: int | str = answer.status_code
        except requests.ConnectionError as exc:
            got = type(exc).__name__
            if time.monotonic() - first_try < self.retry_window:
                with self._lock:
                    self.retries += 1
                self._at(0.5, lambda: self._post(server, payload, first_try), post=True)
            else:
                with self._lock:
                    self.gave_up.append(Delivery(key[0], key[1], key[2], got))
        except requests.RequestException as exc:
            got = type(exc).__name__
        with self._lock:
            self.webhooks.append(Delivery(key[0], key[1], key[2], got))

    # -- what happened -------------------------------------------------------------------------

    def snapshot_calls(self) -> list[dict]:
        with self._lock:
            return [dict(c) for c in self.calls.values()]

    def live_now(self) -> int:
        with self._lock:
            return sum(c["status"] != "ended" for c in self.calls.values())

    def delivery_answers(self) -> Counter:
        with self._lock:
            return Counter(str(d.answer) for d in self.webhooks)

    def provider_view(self) -> list[dict]:
        """Each call the provider made: {id, ours, number, ended, ended_reason, accepted, start, end} (as
        bench/chaos_providers.ChaosRest.provider_view)."""
        return [
            {
                "id": call["id"],
                "ours": call.get("assistantOverrides", {}).get("metadata", {}).get("callId"),
                "number": call.get("customer", {}).get("number", "?"),
                "ended": call["status"] == "ended",
                "ended_reason": call.get("endedReason"),
                "accepted": {call.get("endedReason")},
                "start": _epoch(call["createdAt"]),
                "end": _epoch(call["endedAt"]) if call.get("endedAt") else float("inf"),
            }
            for call in self.snapshot_calls()
        ]


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def provider_intervals(calls: list[dict]) -> list[tuple[float, float, dict]]:
    """(created, ended, call) for each call of a fake's provider_view(); a live call ends at +infinity."""
    return [(c["start"], c["end"], c) for c in calls]


def max_overlap(intervals: list[tuple[float, float, Any]]) -> int:
    """The largest number of intervals open at one instant (an end before a start at a tie)."""
    edges = sorted([(s, 1) for s, _, _ in intervals] + [(e, -1) for _, e, _ in intervals])
    best = live = 0
    for _, step in edges:
        live += step
        best = max(best, live)
    return best


def people_rung_twice_at_once(intervals: list[tuple[float, float, dict]]) -> list[str]:
    """Numbers with two provider calls overlapping in time."""
    by_number: dict[str, list[tuple[float, float]]] = {}
    for start, end, call in intervals:
        by_number.setdefault(call["number"], []).append((start, end))
    twice = []
    for number, spans in by_number.items():
        spans.sort()
        if any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)):
            twice.append(number)
    return twice
