"""Where a callee lives (campaigns.places): regions and postal codes in their one canonical form,
and the zones they are in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns import places


@pytest.mark.parametrize(
    ("region", "postal_code", "expected"),
    [
        ("us-tx ", "", ("US-TX", "")),
        ("FR", "75001", ("FR", "75001")),  # outside the US a postal code is kept as given
        ("GB", "SW1A 1AA", ("GB", "SW1A 1AA")),
        ("", "77429", ("US-TX", "77429")),  # a ZIP fills in its state
        ("", "77429-1234", ("US-TX", "77429-1234")),
        ("US", "33101", ("US-FL", "33101")),  # the country, made precise by the ZIP
        ("US-FL", "33101", ("US-FL", "33101")),
        ("", "00601", ("US-PR", "00601")),
    ],
)
def test_a_place_is_read_into_its_canonical_form(region, postal_code, expected) -> None:
    assert places.place(region, postal_code) == expected


@pytest.mark.parametrize(
    ("region", "postal_code", "field", "reason"),
    [
        ("XX", "", "region", "'XX' must be an ISO 3166 country or subdivision code, e.g. US-CA or FR"),
        ("US-ZZ", "", "region", "'US-ZZ' must be an ISO 3166 country or subdivision code, e.g. US-CA or FR"),
        ("California", "", "region", "must be an ISO 3166 country or subdivision code, e.g. US-CA or FR"),
        ("US-CA", "77429", "postalCode", "77429 is in US-TX, not US-CA"),
        ("", "00000", "postalCode", "00000 is not a US ZIP code in use"),
        ("", "SW1A 1AA", "postalCode", "must be a US ZIP code (12345 or 12345-6789), or come with a region"),
        (
            "FR",
            "75001\x00",
            "postalCode",
            "must be letters, digits, spaces and dashes, at most 16 characters",
        ),
        ("FR", "7" * 17, "postalCode", "must be letters, digits, spaces and dashes, at most 16 characters"),
        ("FR", "<script>", "postalCode", "must be letters, digits, spaces and dashes, at most 16 characters"),
    ],
)
def test_a_place_that_names_nowhere_is_refused_naming_the_field(region, postal_code, field, reason) -> None:
    with pytest.raises(places.InvalidPlace) as refused:
        places.place(region, postal_code)
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_a_place_is_in_the_zones_people_there_keep() -> None:
    assert places.zones_for("US-TX", "77429") == ("America/Chicago",)  # Cypress, near Houston
    assert places.zones_for("US-TX", "79901") == ("America/Denver",)  # El Paso
    assert places.zones_for("US-FL") == ("America/Chicago", "America/New_York")  # the panhandle too
    assert places.zones_for("US-CA") == ("America/Los_Angeles",)
    assert places.zones_for("FR", "75001") == ("Europe/Paris",)  # the region says where
    assert places.zones_for("DE-BY") == ("Europe/Berlin", "Europe/Busingen")  # the country's zones
    assert "America/Toronto" in places.zones_for("CA-ON")
    assert places.zones_for("") == ()


def test_a_place_is_matched_by_its_region_and_its_country() -> None:
    assert places.regions_of("US-FL") == ("US", "US-FL")
    assert places.regions_of("FR") == ("FR",)
    assert places.regions_of("") == ()


@given(st.text(max_size=12), st.text(max_size=20))
def test_whatever_is_given_is_either_a_place_or_refused_by_field(region, postal_code) -> None:
    try:
        canonical = places.place(region, postal_code)
    except places.InvalidPlace as refused:
        assert refused.field in {"region", "postalCode"} and refused.reason
        return
    assert places.place(*canonical) == canonical  # canonical is a fixed point
    assert len(canonical[0]) <= 10 and len(canonical[1]) <= 16
