"""A campaign's outcome plan: its ordered outcome rules, the opt-out and callback settings, and
how each is read from what is stored (snake_case JSON) with every problem named by its path.

A rule is `when` (all of its conditions hold; none: any call) and `then` (an action):

    {"when": {"objective_met": true}, "then": "completed"}
    {"when": {"field": "callbackAt", "present": true}, "then": "callback"}
    {"when": {"field": "optOut", "equals": true}, "then": "do-not-call"}
    {"when": {"outcome": "voicemail"}, "then": "retry", "retry_in_seconds": 14400, "max_attempts": 2}

Conditions: `outcome` (an outcome class, rules.outcomes.OutcomeClass), `ended_reason` (exact),
`objective_met` (true/false), `field` with `equals` (any JSON value) or `present` (true/false).
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from campaigns.rules.analysis import FIELD_MESSAGE, MISSING, OBJECTIVE_FIELD, field_schema, is_field
from campaigns.rules.strategy import BOUNDS, MAX_RETRY_DELAY

ACTIONS = ("completed", "callback", "do-not-call", "retry")
OUTCOMES = ("answered", "voicemail", "busy", "no_answer", "failed", "opt_out", "cancelled")
CONDITIONS = ("outcome", "ended_reason", "objective_met", "field", "equals", "present")
RULE_KEYS = ("when", "then", "retry_in_seconds", "max_attempts")
MAX_RULES = 50
RETRY_BOUNDS = (60, MAX_RETRY_DELAY)
# hangUpIsOptOut: a hang-up within this many seconds of the answer counts as an opt-out.
HANG_UP_BOUNDS = (1, 60)
HANG_UP_SECONDS = 5
CALLBACK_FIELD = "callbackAt"
# A structured result with this field true is an opt-out, before any rule is looked at.
OPT_OUT_FIELD = "optOut"
MAX_CALLBACKS = 2
CALLBACK_BOUNDS = (0, 10)
# A campaign's voicemail plan (what to do on a machine) and what follows it, as a rule's action.
VOICEMAIL_ACTIONS = ("hang-up", "leave-message")
VOICEMAIL_THEN = {"done": "completed", "retry": "retry"}
VOICEMAIL_KEYS = ("action", "message", "recording_url", "then")
MESSAGE_LENGTH = 1000
# How far ahead a callback may be asked for; later ones are not scheduled (the rules go on).
CALLBACK_HORIZON_DAYS = 60


@dataclass(frozen=True)
class When:
    outcome: str | None = None
    ended_reason: str | None = None
    objective_met: bool | None = None
    field: str | None = None
    equals: Any = MISSING
    present: bool | None = None


@dataclass(frozen=True)
class OutcomeRule:
    when: When
    then: str  # one of ACTIONS
    retry_in_seconds: int | None = None  # retry: None = the campaign's delay for the outcome
    max_attempts: int | None = None  # retry: attempts after which this rule stops retrying


@dataclass(frozen=True)
class OutcomePlan:
    """What decides a customer's fate once a call ended, besides the campaign's retry policy."""

    rules: tuple[OutcomeRule, ...] = ()
    hang_up_is_opt_out: bool = False
    hang_up_seconds: int = HANG_UP_SECONDS
    callback_field: str = CALLBACK_FIELD
    max_callbacks: int = MAX_CALLBACKS
    objective_field: str = OBJECTIVE_FIELD


def _int_within(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def rule_problems(raw: object, schema: Mapping | None = None) -> list[tuple[str, str]]:
    """Every problem of stored outcome rules, as (path, message) with paths like `2.when.field`.

    With a schema, a `field` must be one it names.
    """
    if not isinstance(raw, list):
        return [("", "must be a list of rules")]
    if len(raw) > MAX_RULES:
        return [("", f"must hold at most {MAX_RULES} rules")]
    problems: list[tuple[str, str]] = []
    for i, rule in enumerate(raw):
        problems += [(f"{i}{'.' if where else ''}{where}", why) for where, why in _one_rule(rule, schema)]
    return problems


def _one_rule(rule: object, schema: Mapping | None) -> list[tuple[str, str]]:
    if not isinstance(rule, Mapping):
        return [("", "must be an object with when and then")]
    problems = [(key, "is not a rule setting") for key in rule if key not in RULE_KEYS]
    then = rule.get("then")
    if then not in ACTIONS:
        problems.append(("then", f"must be one of {', '.join(ACTIONS)}"))
    when = rule.get("when", {})
    if not isinstance(when, Mapping):
        return [*problems, ("when", "must be an object of conditions")]
    problems += [(f"when.{key}", "is not a condition") for key in when if key not in CONDITIONS]
    if "outcome" in when and when["outcome"] not in OUTCOMES:
        problems.append(("when.outcome", f"must be one of {', '.join(OUTCOMES)}"))
    reason = when.get("ended_reason")
    if "ended_reason" in when and not (isinstance(reason, str) and 0 < len(reason) <= 200):
        problems.append(("when.ended_reason", "must be an endedReason (text, at most 200 characters)"))
    if "objective_met" in when and not isinstance(when["objective_met"], bool):
        problems.append(("when.objective_met", "must be true or false"))
    if "present" in when and not isinstance(when["present"], bool):
        problems.append(("when.present", "must be true or false"))
    if ("equals" in when or "present" in when) and "field" not in when:
        problems.append(("when.field", "is required with equals or present"))
    if "equals" in when and "present" in when:
        problems.append(("when.present", "must not be set together with equals"))
    if "field" in when:
        field = when["field"]
        if not is_field(field):
            problems.append(("when.field", FIELD_MESSAGE))
        elif "equals" not in when and "present" not in when:
            problems.append(("when.field", "needs equals or present"))
        elif schema is not None and field_schema(schema, field) is None:
            problems.append(("when.field", "is not a property of the analysis schema"))
    for key, (low, high) in (("retry_in_seconds", RETRY_BOUNDS), ("max_attempts", BOUNDS["max_attempts"])):
        if key in rule and rule[key] is not None:
            if then != "retry":
                problems.append((key, "applies only to then: retry"))
            elif not _int_within(rule[key], low, high):
                problems.append((key, f"must be an integer from {low} to {high}"))
    return problems


def parse_rules(raw: list | None) -> tuple[OutcomeRule, ...]:
    """Stored rules (already checked by rule_problems) as values."""
    rules = []
    for rule in raw or []:
        when = dict(rule.get("when") or {})
        rules.append(
            OutcomeRule(
                when=When(**when),
                then=rule["then"],
                retry_in_seconds=rule.get("retry_in_seconds"),
                max_attempts=rule.get("max_attempts"),
            )
        )
    return tuple(rules)


def voicemail_problems(plan: object) -> list[tuple[str, str]]:
    """Every problem of a stored voicemail plan, as (key, message)."""
    if not isinstance(plan, Mapping):
        return [("", "must be an object with action and then")]
    problems = [(key, "is not a voicemail setting") for key in plan if key not in VOICEMAIL_KEYS]
    action, message, url = plan.get("action"), plan.get("message"), plan.get("recording_url")
    if action not in VOICEMAIL_ACTIONS:
        problems.append(("action", f"must be one of {', '.join(VOICEMAIL_ACTIONS)}"))
    then = plan.get("then")
    if not (isinstance(then, str) and then in VOICEMAIL_THEN):  # a list or object is no key of it
        problems.append(("then", f"must be one of {', '.join(VOICEMAIL_THEN)}"))
    for key, value in (("message", message), ("recording_url", url)):
        if value is not None and not (isinstance(value, str) and 0 < len(value.strip()) <= MESSAGE_LENGTH):
            problems.append((key, f"must be text of 1 to {MESSAGE_LENGTH} characters"))
    if isinstance(url, str) and not url.startswith(("https://", "http://")):
        problems.append(("recording_url", "must be an http(s) URL"))
    if action == "leave-message" and bool(message) == bool(url):
        problems.append(("message", "leave-message needs exactly one of message or recording_url"))
    if action == "hang-up" and (message or url):
        problems.append(("action", "hang-up leaves no message: remove message and recording_url"))
    return problems
