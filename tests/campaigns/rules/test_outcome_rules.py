"""campaigns.rules.outcomes with outcome rules, by property and by table: the default rules are
yesterday's retry-by-outcome exactly; the campaign's rules come first, never beat an opt-out and
never retry beyond the budget; callbacks land at lawful instants."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules.engine import ENDED, CampaignPolicy, RetryDelays, Window, is_open
from campaigns.rules.hours import every_day
from campaigns.rules.outcome_plan import (
    ACTIONS,
    OUTCOMES,
    OutcomePlan,
    OutcomeRule,
    When,
    parse_rules,
    rule_problems,
    voicemail_problems,
)
from campaigns.rules.outcomes import CallFacts, OutcomeClass, after_outcome, callback_time, classify
from campaigns.rules.reasons import Reason

T0 = datetime(2026, 1, 14, 18, 0, tzinfo=UTC)
REASONS = [
    "customer-ended-call",
    "assistant-ended-call",
    "voicemail",
    "customer-busy",
    "customer-did-not-answer",
    "customer-opted-out",
    "manually-canceled",
    "call.in-progress.error-sip-outbound-call-failed-to-connect",
    "call.forwarding.operator-busy",
    "pipeline-error-openai-llm-failed",
]
ZONES = ["America/Chicago", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Pacific/Chatham"]


def legacy_after_outcome(*, ended_reason, attempts, policy, now):
    """Yesterday's rules.outcomes.after_outcome, verbatim but for its return (a tuple): the oracle."""
    outcome = classify(ended_reason)
    if outcome is OutcomeClass.ANSWERED:
        return ("completed", None, None, False)
    if outcome is OutcomeClass.OPT_OUT:
        return ("skipped", None, Reason.DO_NOT_CALL, True)
    if outcome is OutcomeClass.VOICEMAIL and not policy.retry_voicemail:
        return ("voicemail", None, None, False)
    if policy.status == ENDED:
        return ("cancelled", None, Reason.CANCELLED, False)
    if attempts >= policy.max_attempts:
        final = "voicemail" if outcome is OutcomeClass.VOICEMAIL else "failed"
        return (final, None, Reason.MAX_ATTEMPTS, False)
    delays = policy.retry_delays
    delay = {
        OutcomeClass.VOICEMAIL: delays.voicemail,
        OutcomeClass.BUSY: delays.busy,
        OutcomeClass.NO_ANSWER: delays.no_answer,
    }.get(outcome, delays.failed)
    return ("pending", now + timedelta(seconds=delay), Reason.RETRY_DELAY, False)


def _tuple(outcome):
    return (outcome.state, outcome.next_attempt_at, outcome.reason, outcome.add_to_do_not_call)


delays = st.builds(RetryDelays, *[st.integers(60, 86_400)] * 4)
policies = st.builds(
    CampaignPolicy,
    status=st.sampled_from(["in-progress", "paused", "ended", "scheduled"]),
    max_attempts=st.integers(1, 20),
    retry_delays=delays,
    retry_voicemail=st.booleans(),
)
reasons = st.one_of(st.sampled_from(REASONS), st.text(max_size=30))
instants = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
# Results that say nothing of opt-outs or callbacks: the defaults must ignore them.
quiet_results = st.one_of(
    st.none(),
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in ("optOut", "callbackAt")),
        st.one_of(st.booleans(), st.integers(), st.text(max_size=5)),
        max_size=4,
    ),
)


@settings(max_examples=400, deadline=None)
@given(reasons, st.integers(1, 25), policies, instants, quiet_results, st.booleans(), st.integers(0, 3))
def test_the_default_rules_are_yesterdays_retry_by_outcome(reason, attempts, policy, now, result, met, extra):
    legacy = legacy_after_outcome(ended_reason=reason, attempts=attempts, policy=policy, now=now)
    assert _tuple(after_outcome(ended_reason=reason, attempts=attempts, policy=policy, now=now)) == legacy
    facts = CallFacts(duration_seconds=30.0, analysis=result, objective_met=met if result else None)
    decided = after_outcome(ended_reason=reason, attempts=attempts, policy=policy, now=now, facts=facts)
    assert _tuple(decided) == legacy


conditions = st.builds(
    When,
    outcome=st.one_of(st.none(), st.sampled_from(OUTCOMES)),
    objective_met=st.one_of(st.none(), st.booleans()),
)
rules = st.lists(
    st.builds(
        OutcomeRule,
        conditions,
        st.sampled_from(["completed", "do-not-call", "retry"]),
        st.one_of(st.none(), st.integers(60, 86_400)),
        st.one_of(st.none(), st.integers(1, 20)),
    ),
    max_size=5,
)


@settings(max_examples=400, deadline=None)
@given(reasons, st.integers(1, 25), policies, instants, rules, st.integers(0, 3), st.booleans())
def test_no_rule_retries_beyond_the_budget_or_in_an_ended_campaign(
    reason, attempts, policy, now, some_rules, callbacks, met
):
    facts = CallFacts(analysis={"objectiveMet": met}, objective_met=met, callbacks=callbacks)
    plan = OutcomePlan(rules=tuple(some_rules))
    outcome = after_outcome(
        ended_reason=reason, attempts=attempts, policy=policy, now=now, facts=facts, plan=plan
    )
    if outcome.state == "pending":
        assert policy.status != ENDED
        assert attempts < policy.max_attempts + callbacks
        assert outcome.next_attempt_at > now
    first = next((r for r in some_rules if _holds(r.when, reason, met)), None)
    if first is not None and first.then == "completed":
        assert outcome.state == ("voicemail" if classify(reason) is OutcomeClass.VOICEMAIL else "completed")
    if first is not None and first.then == "do-not-call":
        assert outcome.add_to_do_not_call and outcome.state == "skipped"


def _holds(when, reason, met):
    return (when.outcome is None or classify(reason) == when.outcome) and (
        when.objective_met is None or when.objective_met is met
    )


@settings(max_examples=200, deadline=None)
@given(reasons, st.integers(1, 25), policies, instants, rules)
def test_an_opt_out_in_the_result_wins_over_every_rule(reason, attempts, policy, now, some_rules):
    facts = CallFacts(analysis={"optOut": True})
    plan = OutcomePlan(rules=tuple(some_rules))
    outcome = after_outcome(
        ended_reason=reason, attempts=attempts, policy=policy, now=now, facts=facts, plan=plan
    )
    assert (outcome.state, outcome.reason, outcome.add_to_do_not_call) == (
        "skipped",
        Reason.DO_NOT_CALL,
        True,
    )


CALLBACK = OutcomePlan(rules=(OutcomeRule(When(field="callbackAt", present=True), "callback"),))
weekday_hours = (*(Window(d, time(9), time(17)) for d in range(5)),)


@settings(max_examples=300, deadline=None)
@given(
    instants,
    st.integers(-48, 24 * 20),
    st.sampled_from(ZONES),
    st.booleans(),
    st.sampled_from(["UTC", "America/Chicago", "Europe/Paris"]),
)
def test_a_callback_lands_at_a_lawful_instant_not_before_it_was_asked(
    now, hours, zone, offset, campaign_zone
):
    asked = now + timedelta(hours=hours)
    text = asked.isoformat() if offset else asked.astimezone(ZoneInfo(zone)).replace(tzinfo=None).isoformat()
    policy = CampaignPolicy(status="in-progress", time_zone=campaign_zone, calling_hours=weekday_hours)
    facts = CallFacts(analysis={"callbackAt": text}, time_zones=(zone,))
    outcome = after_outcome(
        ended_reason="customer-ended-call", attempts=1, policy=policy, now=now, facts=facts, plan=CALLBACK
    )
    if outcome.callback:
        at = outcome.next_attempt_at
        assert at >= max(now, asked.replace(microsecond=0) - timedelta(seconds=1))
        assert is_open(weekday_hours, campaign_zone, at)
        assert is_open(every_day(policy.recipient_start, policy.recipient_end), zone, at)
        assert (outcome.state, outcome.reason) == ("pending", Reason.CALLBACK)
    else:  # nothing to honour: too far ahead, or no lawful quarter-hour in 8 days (brute force)
        assert outcome.state == "completed"
        if hours <= 24 * 60:
            start = max(now, asked)
            local = every_day(policy.recipient_start, policy.recipient_end)
            for step in range(0, 8 * 24 * 4):
                at = start + timedelta(minutes=15 * step)
                assert not (is_open(weekday_hours, campaign_zone, at) and is_open(local, zone, at))


def test_a_callback_without_an_offset_is_in_the_callees_own_zone():
    asked = callback_time("2026-01-15T10:00", ("America/Chicago",), "UTC")
    assert asked == datetime(2026, 1, 15, 16, 0, tzinfo=UTC)
    assert callback_time("2026-01-15T10:00+01:00", ("America/Chicago",), "UTC") == datetime(
        2026, 1, 15, 9, 0, tzinfo=UTC
    )
    assert callback_time("next thursday", (), "UTC") is None
    assert callback_time(1736935200, (), "UTC") is None


def test_callbacks_are_capped_and_then_the_rules_go_on():
    facts = CallFacts(
        analysis={"callbackAt": "2026-01-15T10:00"}, callbacks=2, time_zones=("America/Chicago",)
    )
    policy = CampaignPolicy(status="in-progress")
    plan = replace(CALLBACK, max_callbacks=2)
    outcome = after_outcome(
        ended_reason="customer-ended-call", attempts=1, policy=policy, now=T0, facts=facts, plan=plan
    )
    assert (outcome.state, outcome.callback) == ("completed", False)
    granted = after_outcome(
        ended_reason="customer-ended-call",
        attempts=1,
        policy=policy,
        now=T0,
        facts=replace(facts, callbacks=1),
        plan=plan,
    )
    assert granted.callback and granted.next_attempt_at == datetime(2026, 1, 15, 16, 0, tzinfo=UTC)


def test_a_callback_at_night_moves_to_the_callees_morning():
    facts = CallFacts(analysis={"callbackAt": "2026-01-15T06:30"}, time_zones=("America/Chicago",))
    outcome = after_outcome(
        ended_reason="customer-ended-call",
        attempts=3,
        policy=CampaignPolicy(status="in-progress", max_attempts=3),
        now=T0,
        facts=facts,
        plan=CALLBACK,
    )
    assert outcome.next_attempt_at == datetime(2026, 1, 15, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
    assert outcome.callback and "moved to lawful hours" in outcome.detail


@pytest.mark.parametrize(
    ("reason", "duration", "enabled", "state"),
    [
        ("customer-ended-call", 3.0, True, "skipped"),
        ("customer-ended-call", 5.0, True, "skipped"),
        ("customer-ended-call", 5.5, True, "completed"),
        ("customer-ended-call", 3.0, False, "completed"),
        ("assistant-ended-call", 3.0, True, "completed"),
        ("customer-ended-call", None, True, "completed"),
    ],
)
def test_a_quick_hang_up_is_an_opt_out_only_when_the_campaign_says_so(reason, duration, enabled, state):
    plan = OutcomePlan(hang_up_is_opt_out=enabled, hang_up_seconds=5)
    outcome = after_outcome(
        ended_reason=reason,
        attempts=1,
        policy=CampaignPolicy(status="in-progress"),
        now=T0,
        facts=CallFacts(duration_seconds=duration),
        plan=plan,
    )
    assert outcome.state == state
    assert outcome.add_to_do_not_call is (state == "skipped")


def test_a_retry_rule_takes_its_own_delay_and_limit():
    rule = OutcomeRule(When(outcome="voicemail"), "retry", retry_in_seconds=14_400, max_attempts=2)
    policy = CampaignPolicy(status="in-progress", max_attempts=5)
    plan = OutcomePlan(rules=(rule,))
    first = after_outcome(ended_reason="voicemail", attempts=1, policy=policy, now=T0, plan=plan)
    assert (first.state, first.next_attempt_at) == ("pending", T0 + timedelta(hours=4))
    assert first.detail == "rule 1: retry in 14400 s"
    second = after_outcome(ended_reason="voicemail", attempts=2, policy=policy, now=T0, plan=plan)
    assert (second.state, second.reason) == ("voicemail", Reason.MAX_ATTEMPTS)


def test_a_field_condition_compares_as_json():
    plan = OutcomePlan(rules=(OutcomeRule(When(field="booked", equals=True), "completed"),))
    policy = CampaignPolicy(status="in-progress", max_attempts=3)

    def state(value):
        facts = CallFacts(analysis={"booked": value})
        return after_outcome(
            ended_reason="customer-busy", attempts=1, policy=policy, now=T0, facts=facts, plan=plan
        )

    assert state(True).state == "completed"
    assert state(1).state == "pending"  # 1 is not true
    assert state("true").state == "pending"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("nope", ("", "must be a list of rules")),
        ([{"then": "explode"}], ("0.then", "must be one of completed, callback, do-not-call, retry")),
        ([{"when": {"outcome": "maybe"}, "then": "completed"}], ("0.when.outcome", None)),
        (
            [{"when": {"equals": 1}, "then": "completed"}],
            ("0.when.field", "is required with equals or present"),
        ),
        ([{"when": {"field": "a b", "present": True}, "then": "completed"}], ("0.when.field", None)),
        ([{"when": {"field": "a"}, "then": "completed"}], ("0.when.field", "needs equals or present")),
        ([{"when": {}, "then": "completed", "retry_in_seconds": 60}], ("0.retry_in_seconds", None)),
        ([{"when": {}, "then": "retry", "retry_in_seconds": 5}], ("0.retry_in_seconds", None)),
        ([{"when": {}, "then": "retry", "max_attempts": 0}], ("0.max_attempts", None)),
        ([{"when": {"field": "x", "present": True}, "then": "completed"}], ("0.when.field", None)),
        ([{"when": {}, "then": "retry", "colour": "red"}], ("0.colour", "is not a rule setting")),
    ],
)
def test_bad_rules_are_named_by_path(raw, problem):
    schema = {"type": "object", "properties": {"booked": {"type": "boolean"}}}
    found = rule_problems(raw, schema)
    assert problem[0] in [where for where, _ in found]
    if problem[1]:
        assert problem in found


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: st.lists(c) | st.dictionaries(st.text(max_size=8), c),
        max_leaves=12,
    )
)
def test_rule_checking_never_raises_and_what_it_accepts_parses(raw):
    if not rule_problems(raw):
        parse_rules(raw)
    voicemail_problems(raw)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "when": st.fixed_dictionaries({"outcome": st.sampled_from(OUTCOMES)}),
                "then": st.sampled_from(ACTIONS),
            }
        ),
        max_size=5,
    )
)
def test_well_formed_rules_are_accepted(raw):
    assert rule_problems(raw) == []
    assert len(parse_rules(raw)) == len(raw)
