"""The caller-ID choice: local presence first, load spread, caps held, rested and disabled numbers
never used, the same number across retries, split groups stable and in proportion."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules.caller_ids import (
    HEALTH_WINDOW,
    REST_BELOW,
    Callee,
    CallerId,
    Choice,
    Mode,
    Pool,
    answer_rate,
    assign,
    available,
    choose,
    group_of,
    should_rest,
)

SF = CallerId("sf", "acct-a", "US", "US-CA", "415")
LA = CallerId("la", "acct-a", "US", "US-CA", "213")
NY = CallerId("ny", "acct-b", "US", "US-NY", "212")
TORONTO = CallerId("to", "acct-b", "CA", "CA-ON", "416")
POOL = Pool(numbers=(NY, SF, LA, TORONTO), default="ny")


def callee(i: int = 0, country: str = "US", region: str = "US-CA", area: str = "415", kept=None) -> Callee:
    return Callee(id=f"c{i}", country=country, region=region, area_code=area, kept=kept)


def test_it_matches_the_area_code_then_the_region_then_the_country_then_the_default() -> None:
    assert choose(POOL, callee(area="415"), {}, {}) == Choice("sf", "area code 415")
    assert choose(POOL, callee(area="619"), {}, {}).caller_id in ("sf", "la")
    assert choose(POOL, callee(area="619"), {}, {}).reason == "region US-CA"
    texas = choose(POOL, callee(region="US-TX", area="512"), {}, {})
    assert texas.caller_id in ("sf", "la", "ny") and texas.reason == "country US"
    assert choose(POOL, callee(country="FR", region="", area=""), {}, {}) == Choice("ny", "default")


def test_a_local_number_at_its_cap_gives_way_to_the_region() -> None:
    capped = Pool(
        numbers=(NY, CallerId("sf", "acct-a", "US", "US-CA", "415", max_concurrent=1), LA), default="ny"
    )
    assert choose(capped, callee(), {"sf": 1}, {}).caller_id == "la"


def test_the_default_disabled_leaves_any_usable_number_of_the_pool() -> None:
    pool = Pool(numbers=(CallerId("ny", "a", "US", "US-NY", "212", disabled=True), TORONTO), default="ny")
    choice = choose(pool, callee(country="FR", region="", area=""), {}, {})
    assert choice.caller_id == "to" and choice.reason == "pool"


def test_nobody_usable_means_waiting_with_what_stands_in_the_way() -> None:
    pool = Pool(
        numbers=(
            CallerId("a", "p", "US", "US-CA", "415", disabled=True),
            CallerId("b", "p", "US", "US-CA", "415", rested=True),
            CallerId("c", "p", "US", "US-CA", "415", max_daily=2),
        ),
        default="a",
    )
    choice = choose(pool, callee(), {}, {"c": 2})
    assert choice.caller_id is None
    assert choice.reason == "no caller ID of the pool is usable: 1 disabled, 1 rested, 1 at their caps"


def test_a_retry_keeps_its_caller_id_unless_it_was_disabled_or_rested() -> None:
    assert choose(POOL, callee(kept="ny"), {}, {}) == Choice("ny", "same as the last call")
    rested = Pool(numbers=(CallerId("ny", "b", "US", "US-NY", "212", rested=True), SF), default="ny")
    assert choose(rested, callee(kept="ny"), {}, {}).caller_id == "sf"


def test_a_retry_waits_for_its_caller_id_at_a_cap_rather_than_see_another() -> None:
    pool = Pool(numbers=(CallerId("ny", "b", "US", "US-NY", "212", max_concurrent=1), SF), default="ny")
    assert choose(pool, callee(kept="ny"), {"ny": 1}, {}).caller_id is None


# -- properties -----------------------------------------------------------------------------------

AREAS = ("415", "213", "212", "512")
REGIONS = {"415": "US-CA", "213": "US-CA", "212": "US-NY", "512": "US-TX"}


@st.composite
def pools(draw) -> Pool:
    count = draw(st.integers(1, 6))
    numbers = []
    for i in range(count):
        area = draw(st.sampled_from(AREAS))
        numbers.append(
            CallerId(
                id=f"n{i}",
                provider=draw(st.sampled_from(("a", "b"))),
                country="US",
                region=REGIONS[area],
                area_code=area,
                disabled=draw(st.booleans()),
                rested=draw(st.booleans()),
                max_concurrent=draw(st.none() | st.integers(1, 4)),
                max_daily=draw(st.none() | st.integers(1, 6)),
            )
        )
    return Pool(numbers=tuple(numbers), default="n0")


@st.composite
def callees(draw, n: int = 30) -> list[Callee]:
    out = []
    for i in range(draw(st.integers(0, n))):
        area = draw(st.sampled_from(AREAS))
        kept = draw(st.none() | st.sampled_from(("n0", "n1", "n2", "n9")))
        out.append(Callee(id=f"c{i}", country="US", region=REGIONS[area], area_code=area, kept=kept))
    return out


@settings(max_examples=300, deadline=None)
@given(pools(), callees(), st.dictionaries(st.sampled_from(["n0", "n1", "n2"]), st.integers(0, 3)))
def test_no_choice_uses_a_disabled_rested_or_capped_number(pool, people, live) -> None:
    choices = assign(pool, people, live, {})
    used = Counter(c.caller_id for c in choices if c.caller_id)
    for number in pool.numbers:
        if number.disabled or number.rested:
            assert used[number.id] == 0
        if number.max_concurrent is not None and used[number.id]:
            assert live.get(number.id, 0) + used[number.id] <= number.max_concurrent
        if number.max_daily is not None:
            assert used[number.id] <= number.max_daily


@settings(max_examples=300, deadline=None)
@given(pools(), callees())
def test_a_customer_waits_only_when_no_number_it_could_have_is_usable(pool, people) -> None:
    live: Counter = Counter()
    for person, choice in zip(people, assign(pool, people, {}, {}), strict=True):
        kept = next((n for n in pool.numbers if n.id == person.kept), None)
        if choice.caller_id is None:
            if kept is not None and not (kept.disabled or kept.rested):
                assert not available(kept, live[kept.id], live[kept.id])
            else:
                assert not any(available(n, live[n.id], live[n.id]) for n in pool.numbers)
        else:
            live[choice.caller_id] += 1


@settings(max_examples=300, deadline=None)
@given(pools(), callees())
def test_a_local_number_is_chosen_whenever_one_is_usable(pool, people) -> None:
    live: Counter = Counter()
    for person, choice in zip(people, assign(pool, people, {}, {}), strict=True):
        local = [
            n
            for n in pool.numbers
            if n.area_code == person.area_code and available(n, live[n.id], live[n.id])
        ]
        if choice.caller_id is not None and choice.reason != "same as the last call" and local:
            assert choice.caller_id in {n.id for n in local}
            assert choice.reason == f"area code {person.area_code}"
        if choice.caller_id:
            live[choice.caller_id] += 1


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 5), st.integers(1, 200))
def test_load_spreads_evenly_over_matching_numbers(count, calls) -> None:
    pool = Pool(
        numbers=tuple(CallerId(f"n{i}", "a", "US", "US-CA", "415") for i in range(count)), default="n0"
    )
    people = [Callee(id=f"c{i}", country="US", region="US-CA", area_code="415") for i in range(calls)]
    used = Counter(c.caller_id for c in assign(pool, people, {}, {}))
    assert max(used.values()) - min(used.get(n.id, 0) for n in pool.numbers) <= 1


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=36), st.lists(st.integers(0, 100), min_size=1, max_size=4))
def test_a_customer_always_lands_in_the_same_split_group(customer_id, weights) -> None:
    pairs = [(f"p{i}", w) for i, w in enumerate(weights)]
    group = group_of(customer_id, pairs)
    assert group == group_of(customer_id, pairs)
    assert 0 <= group < len(pairs)
    if sum(weights):
        assert weights[group] > 0


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9))
def test_split_groups_follow_the_weights(a, b) -> None:
    pairs = [("p-a", a), ("p-b", b)]
    groups = Counter(group_of(f"customer-{i}", pairs) for i in range(4000))
    assert abs(groups[0] / 4000 - a / (a + b)) < 0.04


def test_split_mode_keeps_a_group_on_its_provider_and_says_which() -> None:
    pool = Pool(
        numbers=(NY, SF, LA, TORONTO), default="ny", mode=Mode.SPLIT, weights=(("acct-b", 1), ("acct-a", 1))
    )
    for i in range(50):
        person = callee(i)
        choice = choose(pool, person, {}, {})
        provider = {n.id: n.provider for n in pool.numbers}[choice.caller_id]
        group = group_of(person.id, pool.weights)
        assert provider == pool.weights[group][0]
        assert choice.reason.startswith(f"split {'AB'[group]} · ")
        if provider == "acct-a":
            assert choice.reason == "split B · area code 415"


# -- rest ---------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=120))
def test_a_number_rests_exactly_when_its_last_calls_collapsed(answered) -> None:
    recent = answered[:HEALTH_WINDOW]
    expected = len(answered) >= HEALTH_WINDOW and sum(recent) / len(recent) < REST_BELOW
    assert should_rest(answered) == expected


def test_too_few_calls_never_rest_a_number() -> None:
    assert not should_rest([False] * (HEALTH_WINDOW - 1))
    assert should_rest([False] * HEALTH_WINDOW)
    assert answer_rate([]) is None
    assert answer_rate([True, False, True, False]) == 0.5
