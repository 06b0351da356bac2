"""The pure rules of callbacks from callees (rules.inbound), by table and by property."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules.inbound import (
    DO_NOT_CALL,
    REJECTED,
    ROUTED,
    UNKNOWN_CALLER,
    UNKNOWN_MESSAGE,
    WINDOW,
    Candidate,
    context,
    decide,
    match,
    recognised,
    settings_problems,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def candidate(**fields) -> Candidate:
    values = dict(
        campaign_id="c1",
        customer_id="u1",
        campaign_status="in-progress",
        campaign_ended_at=None,
        last_called_at=NOW - DAY,
        mode="route",
        message="We will call you again soon.",
        route_do_not_call=False,
    )
    return Candidate(**(values | fields))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, True),
        ({"campaign_status": "paused"}, True),
        ({"last_called_at": NOW - WINDOW}, True),
        ({"last_called_at": NOW - WINDOW - timedelta(seconds=1)}, False),
        ({"campaign_status": "ended", "campaign_ended_at": NOW - 3 * DAY}, True),
        ({"campaign_status": "cancelled", "campaign_ended_at": NOW - 29 * DAY}, True),
        ({"campaign_status": "ended", "campaign_ended_at": NOW - 31 * DAY}, False),
        ({"campaign_status": "ended", "campaign_ended_at": None}, False),
        ({"campaign_status": "archived", "campaign_ended_at": NOW - DAY}, False),
        ({"campaign_status": "scheduled"}, False),
    ],
)
def test_which_campaigns_still_answer_for_their_callees(fields, expected) -> None:
    assert recognised(candidate(**fields), NOW) is expected


@pytest.mark.parametrize(
    ("fields", "do_not_call", "action", "reason", "message"),
    [
        ({"mode": "reject"}, False, "reject", REJECTED, "We will call you again soon."),
        ({"mode": "reject", "message": "  "}, False, "reject", REJECTED, ""),
        ({"mode": "reject"}, True, "reject", REJECTED, "We will call you again soon."),
        ({}, False, "route", ROUTED, ""),
        ({}, True, "reject", DO_NOT_CALL, "We will call you again soon."),
        ({"route_do_not_call": True}, True, "route", ROUTED, ""),
    ],
)
def test_the_campaigns_mode_decides_and_a_do_not_call_caller_is_routed_only_if_allowed(
    fields, do_not_call, action, reason, message
) -> None:
    answer = decide(candidate(**fields), do_not_call=do_not_call)
    assert (answer.action, answer.reason, answer.message) == (action, reason, message)
    assert answer.candidate == candidate(**fields)


@pytest.mark.parametrize("do_not_call", [False, True])
def test_an_unknown_caller_gets_the_organizations_default_rejection(do_not_call) -> None:
    answer = decide(None, do_not_call=do_not_call)
    assert (answer.action, answer.reason, answer.message, answer.candidate) == (
        "reject",
        UNKNOWN_CALLER,
        UNKNOWN_MESSAGE,
        None,
    )


def test_the_campaign_that_called_last_wins() -> None:
    older = candidate(campaign_id="old", last_called_at=NOW - 5 * DAY)
    newer = candidate(campaign_id="new", last_called_at=NOW - DAY, mode="reject")
    too_old = candidate(campaign_id="stale", last_called_at=NOW - 40 * DAY)
    assert match([older, newer, too_old], NOW) == newer
    assert match([too_old], NOW) is None
    assert match([], NOW) is None


candidates = st.builds(
    Candidate,
    campaign_id=st.sampled_from(["a", "b", "c", "d"]),
    customer_id=st.just("u"),
    campaign_status=st.sampled_from(["in-progress", "paused", "ended", "cancelled", "scheduled", "archived"]),
    campaign_ended_at=st.none() | st.integers(0, 60).map(lambda d: NOW - d * DAY),
    last_called_at=st.integers(0, 60 * 24).map(lambda h: NOW - timedelta(hours=h)),
    mode=st.sampled_from(["reject", "route"]),
    message=st.text(max_size=5),
    route_do_not_call=st.booleans(),
)


@given(st.lists(candidates, max_size=8, unique_by=lambda c: c.campaign_id), st.randoms())
def test_the_match_is_recognised_the_latest_and_independent_of_order(found, random) -> None:
    chosen = match(found, NOW)
    shuffled = list(found)
    random.shuffle(shuffled)
    assert match(shuffled, NOW) == chosen
    eligible = [c for c in found if recognised(c, NOW)]
    if chosen is None:
        assert eligible == []
    else:
        assert recognised(chosen, NOW)
        assert chosen.last_called_at >= NOW - WINDOW
        assert all(c.last_called_at <= chosen.last_called_at for c in eligible)


@given(candidates, st.booleans())
def test_a_do_not_call_caller_is_never_routed_unless_the_campaign_allows_it(found, do_not_call) -> None:
    answer = decide(found, do_not_call=do_not_call)
    assert answer.routed == (found.mode == "route" and (not do_not_call or found.route_do_not_call))


def test_the_agent_is_told_the_callers_name_variables_and_last_outcome() -> None:
    told = context("Ana", {"plan": "gold", "balance": 12.5, "vip": True, "customerName": "x"}, "voicemail")
    assert told == {
        "plan": "gold",
        "balance": "12.5",
        "vip": "true",
        "customerName": "Ana",
        "lastOutcome": "voicemail",
        "direction": "inbound",
    }
    assert len(context("A", {"long": "x" * 900}, "")["long"]) == 500


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        (
            {"inbound_mode": "route", "inbound_rejection_message": "Bye", "inbound_route_do_not_call": True},
            [],
        ),
        ({"inbound_mode": "forward"}, ["inbound_mode"]),
        ({"inbound_rejection_message": "x" * 501}, ["inbound_rejection_message"]),
        ({"inbound_route_do_not_call": "yes"}, ["inbound_route_do_not_call"]),
    ],
)
def test_settings_problems_name_the_field(values, fields) -> None:
    assert [field for field, _ in settings_problems(values)] == fields
