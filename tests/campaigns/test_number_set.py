"""The de-duplication of an import (services.customers.NumberSet): exact for every spelling a
customer's number can be stored in, and in a memory that does not grow with the rows (issue 18:
ten million numbers in a Python set took ~700 MB of an import bounded at 300 MB)."""

from __future__ import annotations

import tracemalloc

import pytest

from campaigns import services
from campaigns.models import Customer, CustomerState, DoNotCall
from campaigns.services.customers import NumberSet


def test_each_number_is_new_once() -> None:
    seen = NumberSet()
    assert seen.add("+14155550101") is True
    assert seen.add("+14155550101") is False
    assert "+14155550101" in seen and "+14155550102" not in seen


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("+14155550101", "+014155550101"),  # a leading zero is another dialing string
        ("+3", "+٣"),  # non-ASCII digits are text, not the number 3
        ("+1234567890123456789", "+1234567890123456788"),  # past 64 bits: kept as text
        ("+14155550101", "14155550101"),  # no plus: text
        ("*67+14155550101", "+14155550101"),
    ],
)
def test_spellings_that_are_different_numbers_stay_different(one: str, other: str) -> None:
    seen = NumberSet()
    assert seen.add(one) and seen.add(other)
    assert not seen.add(one) and not seen.add(other)


def test_numbers_read_from_the_database_are_the_same_keys(db, make_campaign) -> None:
    campaign = make_campaign(3)
    numbers = sorted(Customer.objects.filter(campaign=campaign).values_list("number", flat=True))
    found = NumberSet.of(Customer.objects.filter(campaign=campaign))
    assert all(number in found for number in numbers)
    assert not found.add(numbers[0]) and found.add("+14155559999")


def test_a_million_numbers_take_a_few_megabytes() -> None:
    tracemalloc.start()
    try:
        seen = NumberSet()
        for n in range(1_000_000):
            seen.add(f"+1212{2_000_000 + n:07d}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "+12122999999" in seen and "+12123000000" not in seen
    # A set of the same million ints peaks at ~70 MB traced; the bitmap lives outside Python's
    # allocator, so what is traced here is the loop's garbage only.
    assert peak < 5_000_000


def test_an_import_skips_repeats_of_the_file_and_of_the_campaign_and_blocks_do_not_call(
    db, org, make_campaign, owner
) -> None:
    campaign = make_campaign(customers=[services.CustomerInput(number="+14155550101", source="customers.0")])
    DoNotCall.objects.create(organization=org, number="+14155550103", source="manual")
    rows = [
        services.CustomerInput(number="+14155550101", source="line 2"),  # in the campaign already
        services.CustomerInput(number="+14155550102", source="line 3"),
        # line 3, spelled otherwise (read as a dialing string: Vapi's E.164 check off)
        services.CustomerInput(number="+1 (415) 555-0102", number_e164_check_enabled=False, source="line 4"),
        services.CustomerInput(number="+14155550103", source="line 5"),
        services.CustomerInput(number="*67 555", number_e164_check_enabled=False, source="line 6"),
        services.CustomerInput(number="*67 555", number_e164_check_enabled=False, source="line 7"),
    ]
    result = services.customers_add(campaign=campaign, by=owner, rows=rows)
    assert (result.added, result.duplicates, result.do_not_call) == (3, 3, 1)
    states = dict(Customer.objects.filter(campaign=campaign).values_list("number", "state"))
    assert states == {
        "+14155550101": CustomerState.PENDING,
        "+14155550102": CustomerState.PENDING,
        "+14155550103": CustomerState.SKIPPED,
        "*67 555": CustomerState.PENDING,
    }
