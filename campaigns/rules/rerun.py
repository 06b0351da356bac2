"""Who a re-run calls again: the groups a finished campaign's customers fall in, from where each
one stands (state, the last call's endedReason, the objective). Pure: plain values in, names out.

- `not-answered`: the last call rang out, was busy or reached a machine (nobody spoke);
- `failed`: the attempts ran out on errors, or the last call failed (provider, number, network);
- `objective-not-met`: a person answered and the valid result says the objective was not met.

A customer on the do-not-call list, skipped or cancelled before any call, and anyone who opted
out is in no group: a re-run never calls them (the last gate would refuse them anyway).
"""

from __future__ import annotations

from collections.abc import Iterable

from campaigns.rules.outcomes import OutcomeClass, classify

NOT_ANSWERED = "not-answered"
FAILED = "failed"
OBJECTIVE_NOT_MET = "objective-not-met"
GROUPS = (NOT_ANSWERED, FAILED, OBJECTIVE_NOT_MET)
LABELS = {
    NOT_ANSWERED: "Did not answer (no answer, busy, voicemail)",
    FAILED: "Failed (the call could not be made)",
    OBJECTIVE_NOT_MET: "Answered, objective not met",
}

# Customer states after which a re-run may call again: the campaign is done with them.
_DONE = ("completed", "voicemail", "failed")
_UNANSWERED = (OutcomeClass.NO_ANSWER, OutcomeClass.BUSY, OutcomeClass.VOICEMAIL)


def group_of(state: str, last_outcome: str, objective_met: bool | None) -> str | None:
    """The group of a customer (its stored state, the endedReason of its last call, and what its
    latest valid result said of the objective), or None: not to be called again."""
    if state not in _DONE or not last_outcome:
        return None
    outcome = classify(last_outcome)
    if outcome in _UNANSWERED:
        return NOT_ANSWERED
    if outcome is OutcomeClass.FAILED:
        return FAILED
    if outcome is OutcomeClass.ANSWERED and objective_met is False:
        return OBJECTIVE_NOT_MET
    return None


def who_problems(who: object) -> list[str]:
    """Why `who` (what a re-run asks for) is refused: empty when it is a non-empty list of
    distinct groups."""
    if not isinstance(who, list | tuple) or not who:
        return [f"must be a non-empty array of {', '.join(GROUPS)}"]
    problems = [f"{i}: must be one of {', '.join(GROUPS)}" for i, g in enumerate(who) if g not in GROUPS]
    if not problems and len(set(who)) != len(who):
        problems.append("must not name a group twice")
    return problems


def chosen(
    pairs: Iterable[tuple[str, str, bool | None]], who: Iterable[str]
) -> set[tuple[str, str, bool | None]]:
    """Of the distinct (state, last_outcome, objective_met) `pairs` a campaign's customers have,
    those in one of the groups `who` names (the selector turns them into one query)."""
    wanted = set(who)
    return {p for p in pairs if group_of(*p) in wanted}
