"""campaigns.phone: strict E.164, and cached answers that equal phonenumbers' own."""

from __future__ import annotations

import random
import re
import zoneinfo

import phonenumbers
import pytest
from phonenumbers import PhoneNumberType
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

from campaigns import phone
from campaigns.phone import InvalidNumber, time_zones_for, to_e164


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+13125550142", "+13125550142"),
        ("  +33612345678\n", "+33612345678"),  # surrounding blanks are trimmed
        ("+447911123456", "+447911123456"),
        ("+18005550100", "+18005550100"),
    ],
)
def test_it_accepts_e164_numbers(raw, expected):
    assert to_e164(raw, strict=True) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("3125550142", "must start with + and a country code"),
        ("+1 312 555 0142", "must start with + and a country code"),
        ("+1-312-555-0142", "must start with + and a country code"),
        ("+0123456789", "must start with + and a country code"),
        ("+1312555014212345", "must start with + and a country code"),  # 16 digits
        ("+١٣١٢٥٥٥٠١٤٢", "must start with + and a country code"),  # Arabic-Indic digits
        ("", "must start with + and a country code"),
        ("+999123456789", "not a valid phone number for any country"),
        ("+1312555", "too short"),
        ("+13125550", "is a local number; include the area code"),
        ("+33612345678901", "too long"),
    ],
)
def test_it_refuses_anything_else_with_a_reason_people_can_read(raw, message):
    with pytest.raises(InvalidNumber, match=re.escape(message)) as caught:
        to_e164(raw, strict=True)
    assert isinstance(caught.value, ValueError)
    assert message in caught.value.reason


def test_fictional_555_numbers_and_unassigned_ones_of_a_possible_length_are_accepted():
    assert to_e164("+12015550123", strict=True) == "+12015550123"
    assert to_e164("+13121234567", strict=True) == "+13121234567"  # exchange 123 is not assigned


@pytest.mark.parametrize(
    ("number", "zones"),
    [
        ("+13125550142", ("America/Chicago",)),
        ("+12125550100", ("America/New_York",)),
        ("+33612345678", ("Europe/Paris",)),
        ("+12085550100", ("America/Boise", "America/Los_Angeles")),  # Idaho: two zones
        ("+16055550100", ("America/Denver", "America/North_Dakota/Center")),
        ("+13121234567", ()),  # not an assigned number: phonenumbers says Etc/Unknown
    ],
)
def test_it_gives_the_time_zones_of_a_number(number, zones):
    assert time_zones_for(number) == zones


def test_every_zone_phonenumbers_can_name_is_known_to_zoneinfo():
    named = {zone for zones in TIMEZONE_DATA.values() for zone in zones} - {UNKNOWN_TIMEZONE}
    assert named - zoneinfo.available_timezones() == set()


def test_a_toll_free_number_belongs_to_every_north_american_zone():
    zones = time_zones_for("+18005550100")
    assert len(zones) == 42 and "Pacific/Guam" in zones and UNKNOWN_TIMEZONE not in zones


@pytest.mark.parametrize("number", ["3125550142", "+", "+1", "+999123456", "+1 312"])
def test_the_zone_lookup_refuses_what_is_not_e164(number):
    with pytest.raises(InvalidNumber):
        time_zones_for(number)


def _examples() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(PhoneNumberType.VOICEMAIL + 1):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return sorted(set(numbers))


EXAMPLES = _examples()


def _expected(number: str) -> tuple[str, ...]:
    zones = time_zones_for_number(phonenumbers.parse(number))
    return tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)


def test_cached_answers_equal_phonenumbers_for_an_example_of_every_type_in_every_region():
    assert len(EXAMPLES) > 900
    for number in EXAMPLES:
        assert time_zones_for(number) == _expected(number), number


def test_cached_answers_equal_phonenumbers_when_only_the_digits_past_the_key_differ():
    # Every example again, with its tail (the part outside the cache key) replaced.
    generator = random.Random(20260114)
    checked = 0
    for example in EXAMPLES:
        key, _ = phone._key(example)
        for _ in range(3):
            tail = "".join(generator.choice("0123456789") for _ in range(len(example) - 1 - len(key)))
            number = f"+{key}{tail}"
            try:
                normalized = to_e164(number, strict=True)
            except InvalidNumber:
                continue
            if normalized != number:  # phonenumbers rewrote it; the contract is canonical input
                continue
            checked += 1
            assert time_zones_for(number) == _expected(number), number
    assert checked > 1000


@pytest.mark.parametrize(
    ("pattern", "depth"),
    [
        (r"[2-9]\d{9}", 1),
        (r"8(?:00|33|44)[2-9]\d{6}", 4),
        (r"\d{7}", 0),
        (r"[0-9]{5}", 0),
        (r"1?2[3-5]\d{2}", 3),  # the optional 1 moves the class to position 3
        (r"(?:12|3)\d{2,3}4", 6),  # the final 4 can sit as deep as position 6
        (r"1*2", 15),  # unbounded: assume every digit matters
        (r"[^1]2", 15),
        (r"(12)", 15),  # capturing groups are not in the subset phonenumbers uses
    ],
)
def test_the_cache_key_depth_reads_phonenumbers_patterns(pattern, depth):
    assert phone._pattern_depth(pattern) == depth


def test_the_cache_key_for_north_america_is_area_code_exchange_and_one_more_digit():
    assert phone._key_length(1) == 8


def test_every_country_has_a_key_between_its_code_and_a_whole_number():
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
        assert len(str(code)) <= phone._key_length(code) <= 15
