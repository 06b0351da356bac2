"""One canonical form of every number (campaigns.phone), whatever the spelling, and zone answers
that agree with phonenumbers' own time-zone mapper."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number

from campaigns import phone, services
from campaigns.models import Customer

# Regions whose numbers people write with a national trunk prefix, and others.
REGIONS = ["US", "GB", "DE", "FR", "IT", "AU", "JP", "BR", "IN", "MX", "ES", "NL", "ZA", "AR", "RU", "AS"]


def _examples() -> list[tuple[str, phonenumbers.PhoneNumber]]:
    found = []
    for region in REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                found.append((region, number))
    return found


EXAMPLES = _examples()


def spellings(region: str, number: phonenumbers.PhoneNumber) -> list[tuple[str, str | None]]:
    """(text, default region or None) pairs that all mean `number`."""
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    digits = e164[1:]
    code = str(number.country_code)
    # Spelled nationally in the number's own country: a number parsed in GB from "00 32 ..." is
    # Belgian, and its national form "010 ..." means another number in GB (found by hypothesis).
    region = phonenumbers.region_code_for_number(number) or region
    out = [
        (e164, None),
        (international, None),  # spaces
        (international.replace(" ", "-"), None),  # dashes
        ("00" + digits, None),  # the 00 international prefix
        ("00 " + international[1:], None),
        (national, region),  # national format, in that country
    ]
    trunk = phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix
    if trunk and not number.italian_leading_zero and phonenumbers.is_valid_number(number):
        out.append((f"+{code}{trunk}{digits[len(code) :]}", None))  # +49 0 30 ...: a trunk prefix kept
        out.append((f"+{code} ({trunk}){digits[len(code) :]}", None))
    return out


@pytest.mark.parametrize(
    ("region", "number"), EXAMPLES, ids=[f"{r}-{n.national_number}" for r, n in EXAMPLES]
)
def test_every_spelling_of_a_number_normalises_to_one_canonical_form(region, number) -> None:
    canonical = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    for text, where in spellings(region, number):
        assert phone.to_e164(text, region=where) == canonical, text
    assert phone.to_e164(canonical, strict=True) == canonical
    zones = phone.time_zones_for(canonical)
    expected = tuple(z for z in time_zones_for_number(number) if z != UNKNOWN_TIMEZONE)
    assert zones == expected


@given(data=st.data())
@settings(max_examples=200, deadline=None)
def test_spellings_agree_for_random_possible_numbers(data) -> None:
    """Property: any two spellings of one number give one canonical form, one set of zones."""
    region = data.draw(st.sampled_from(REGIONS))
    code = phonenumbers.country_code_for_region(region)
    national = data.draw(st.text("0123456789", min_size=6, max_size=12))
    try:
        number = phonenumbers.parse(national, region)
    except phonenumbers.NumberParseException:
        return
    if not phonenumbers.is_valid_number(number):
        return  # a number people could really write down in several ways
    canonical = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        # Valid but only dialable locally (US 310-0000: no area code): refused in every spelling,
        # never stored in a form the dialer cannot call from elsewhere.
        for text, where in spellings(region, number):
            with pytest.raises(phone.InvalidNumber):
                phone.to_e164(text, region=where)
        return
    answers = set()
    for text, where in spellings(region, number):
        try:
            answers.add(phone.to_e164(text, region=where))
        except phone.InvalidNumber:
            continue  # a spelling phonenumbers itself cannot read back (e.g. a made-up trunk form)
    assert answers == {canonical}, (code, national)
    assert phone.time_zones_for(canonical) == tuple(
        z for z in time_zones_for_number(number) if z != UNKNOWN_TIMEZONE
    )


def test_the_cached_zone_lookup_agrees_with_phonenumbers_on_a_large_random_sample() -> None:
    """100,000 random canonical numbers over every country code: the cached answers (keyed by a
    prefix computed from the metadata, campaigns.phone) equal phonenumbers' own, every one."""
    rng = random.Random(20261202)
    codes = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    checked = 0
    while checked < 100_000:
        code = rng.choice(codes + [1] * (len(codes) // 4))
        digits = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(3, 12)))
        try:
            number = phonenumbers.parse(f"+{code}{digits}"[:16])
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
            continue
        # Our canonical form: phonenumbers' E.164, read again until it no longer changes (for a
        # few numbers, e.g. +55 0 85..., one pass is not a fixed point; campaigns.phone).
        canonical = phone.to_e164(phonenumbers.format_number(number, PhoneNumberFormat.E164))
        number = phonenumbers.parse(canonical)
        assert phonenumbers.format_number(number, PhoneNumberFormat.E164) == canonical
        expected = tuple(z for z in time_zones_for_number(number) if z != UNKNOWN_TIMEZONE)
        assert phone.time_zones_for(canonical) == expected, canonical
        assert phone.to_e164(canonical) == canonical  # accepted again, unchanged
        checked += 1


def test_a_number_with_a_trunk_prefix_is_refused_by_the_zone_lookup_until_normalised() -> None:
    with pytest.raises(phone.InvalidNumber, match="canonical"):
        phone.time_zones_for("+49030123456789")
    assert phone.time_zones_for(phone.to_e164("+49030123456789")) == ("Europe/Berlin",)


def test_american_samoa_numbers_have_their_zone() -> None:
    assert phone.time_zones_for("+16846331234") == ("Pacific/Pago_Pago",)


@pytest.mark.django_db
def test_do_not_call_membership_is_the_same_in_every_spelling(make_campaign, org, owner) -> None:
    org.default_region = "GB"
    org.save()
    services.dnc_add(organization=org, by=owner, numbers=[("020 7946 0104", "")])
    one = services.CustomerInput(number="+4402079460104", source="customers.0")  # its trunk 0 kept
    other = services.CustomerInput(
        number="442079460104", number_e164_check_enabled=False, source="customers.1"
    )
    with pytest.raises(services.ValidationFailed, match="customers.1.number duplicates customers.0"):
        make_campaign(customers=[one, other])  # two spellings, one person: refused as a duplicate
    campaign = make_campaign(customers=[one])
    added = services.customers_add(campaign=campaign, by=owner, rows=[other])
    assert (added.added, added.duplicates) == (0, 1)
    assert list(Customer.objects.values_list("number", "number_submitted", "state", "reason")) == [
        ("+442079460104", "+4402079460104", "skipped", "do_not_call")
    ]


def test_a_number_dialed_abroad_from_a_national_default_keeps_its_own_country() -> None:
    """Found by the property above: "00 32 ..." typed with the default region GB is Belgian, in
    every spelling of it, never the GB number its Belgian national digits would make."""
    number = phonenumbers.parse("003210000000", "GB")
    assert {phone.to_e164(text, region=where) for text, where in spellings("GB", number)} == {"+3210000000"}
