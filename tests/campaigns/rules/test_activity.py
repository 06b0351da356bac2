"""What a campaign does at one instant: one code, the first that holds, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.rules.activity import ActivityFacts, activity
from campaigns.rules.engine import Action, Decision, Reason

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(minutes=5)
DIAL = Decision(Action.DIAL)
BASE = {"status": "in-progress", "gate": DIAL, "calls_live": 0, "due_now": True, "next_due_at": None,
        "room": 2, "limit": "campaign_lines"}  # fmt: skip


@pytest.mark.parametrize(
    ("facts", "code", "until"),
    [
        ({}, "dialing", None),
        ({"status": "ended"}, "ended", None),
        ({"status": "ended", "calls_live": 2}, "finishing", None),
        ({"status": "cancelled"}, "ended", None),
        (
            {"status": "scheduled", "gate": Decision(Action.WAIT, Reason.CAMPAIGN_NOT_RUNNING)},
            "not_started",
            None,
        ),
        (
            {"status": "paused", "gate": Decision(Action.WAIT, Reason.CAMPAIGN_PAUSED)},
            "campaign_paused",
            None,
        ),
        (
            {"status": "paused", "gate": Decision(Action.WAIT, Reason.ORGANIZATION_PAUSED)},
            "organization_paused",
            None,
        ),
        ({"gate": Decision(Action.WAIT, Reason.OUTSIDE_CALLING_HOURS, SOON)}, "outside_calling_hours", SOON),
        # Nobody due: not "every line is in use", even when no line is free.
        ({"due_now": False, "next_due_at": SOON, "room": 0}, "nobody_due", SOON),
        ({"due_now": False}, "nobody_due", None),
        ({"room": 0, "limit": "campaign_lines", "calls_live": 2}, "all_lines_busy", None),
        ({"room": 0, "limit": "organization_lines"}, "organization_lines_busy", None),
        ({"room": 0, "limit": "pacing", "limit_until": SOON}, "pacing", SOON),
    ],
)
def test_the_first_thing_that_holds_names_what_the_campaign_does(facts, code, until) -> None:
    doing = activity(ActivityFacts(**{**BASE, **facts}))
    assert (doing.code, doing.until, doing.dialing) == (code, until, code == "dialing")
