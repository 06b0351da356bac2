"""When a campaign pauses itself because its provider misbehaves (a broken credential, an outage):
the provider's error rate over the campaign's last calls, or a run of failures in a row, crosses
the campaign's threshold. Pure: the endedReasons of the latest ended calls in, a reason out.

A provider failure is a call whose endedReason is of the FAILED class (rules.outcomes.classify:
the provider refused or dropped it, a pipeline or configuration fault, anything unknown); calls
nobody answered, busy lines, machines, opt-outs and answered calls are the callees', not the
provider's. The rate needs a full window: a campaign's first few calls never pause it on a rate.

The latest calls are read in the order they were placed, and a call placed among them that is
still in flight (None) is no failure: it breaks a run and counts as a success in the rate. Read
by placement with in-flight calls skipped, the latest ended calls over-represent those that end
fastest, and a provider's refusal ends in a second where an answered call takes minutes: at the
start of a burst of 100 calls, the first to end are the failures and the busy lines, and five
failures "in a row" would pause a healthy campaign.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.rules.outcomes import OutcomeClass, classify

DEFAULTS = {"window": 20, "error_rate": 50, "consecutive": 5}
BOUNDS = {"window": (5, 500), "error_rate": (1, 100), "consecutive": (2, 500)}


@dataclass(frozen=True)
class AutoPause:
    enabled: bool = True
    window: int = DEFAULTS["window"]  # ended calls the rate is read over
    error_rate: int = DEFAULTS["error_rate"]  # percent of those that failed at the provider
    consecutive: int = DEFAULTS["consecutive"]  # failures in a row

    @property
    def looks_at(self) -> int:
        """How many of the latest ended calls a decision reads."""
        return max(self.window, self.consecutive)


def is_provider_failure(ended_reason: str) -> bool:
    return classify(ended_reason) is OutcomeClass.FAILED


def pause_reason(latest: Sequence[str | None], plan: AutoPause) -> str | None:
    """Why the campaign should pause now, in words for people, or None.

    `latest`: the endedReasons of the campaign's latest calls in the order they were placed,
    newest first, from its newest ended call (at least `plan.looks_at` ended ones when it has
    that many); None for a call among them still in flight."""
    if not plan.enabled or not latest:
        return None
    failed = [reason is not None and is_provider_failure(reason) for reason in latest]
    run = next((i for i, f in enumerate(failed) if not f), len(failed))
    last = next((reason for reason in latest if reason is not None), "")
    if run >= plan.consecutive:
        return f"{run} calls in a row failed at the provider (last: {last})"[:200]
    window = failed[: plan.window]
    if len(window) >= plan.window and sum(window) * 100 >= plan.error_rate * plan.window:
        rate = round(sum(window) * 100 / plan.window)
        return (
            f"{sum(window)} of the last {plan.window} calls failed at the provider "
            f"({rate}%, at least {plan.error_rate}% pauses; last: {last})"
        )[:200]
    return None


def settings_problems(values: dict[str, object]) -> list[tuple[str, str]]:
    """(field, why) for each automatic-pause setting out of bounds (model field names)."""
    problems = []
    if "auto_pause_enabled" in values and not isinstance(values["auto_pause_enabled"], bool):
        problems.append(("auto_pause_enabled", "must be a boolean value"))
    for key, (low, high) in BOUNDS.items():
        field = "auto_pause_" + key
        if field not in values:
            continue
        value = values[field]
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            problems.append((field, f"must be an integer from {low} to {high}"))
    return problems
