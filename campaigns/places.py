"""Where a callee lives, as they or their CRM wrote it: the one normaliser of our `region` and
`postalCode`, and the time zones a place is in.

A customer's or contact's place wins over the zones of their number (a mobile number says where
it was bought, not where its owner sleeps). What a place says, from the most precise:

- a US ZIP code (`77429`, `77429-1234`): the zone of that ZIP and the state it is in, from the
  `zipcodes` package's data (USPS ZIPs with their tz database zone). A ZIP that contradicts a
  given region (`77429` with `US-CA`) is refused, not guessed between.
- a region (ISO 3166: a country `FR`, or a subdivision `US-CA`, `DE-BY`, checked against
  `pycountry`): a US state's zones are those of its ZIP codes (`US-FL` is New York and Chicago);
  any other region has its country's zones (the tz database's zone.tab, from the `tzdata`
  package), which is exact for a country with one zone and, for one with several, leaves the
  campaign's policy for ambiguous callees to decide (wait for every zone, or use the campaign's).

A postal code outside the US is kept as given and says nothing of the zone (the region does).
Pure functions over the packages' data, loaded once; no Django, no I/O beyond that.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache
from importlib import resources
from zoneinfo import available_timezones

import pycountry
import zipcodes

REGION_WORDS = "must be an ISO 3166 country or subdivision code, e.g. US-CA or FR"
_REGION = re.compile(r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
_ZIP = re.compile(r"([0-9]{5})(-[0-9]{4})?")
MAX_POSTAL_CODE = 16
_POSTAL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9 \-]{0,14}[A-Za-z0-9])?")  # "SW1A 1AA", "75001"


class InvalidPlace(ValueError):
    """A region or postal code that names no place; `field` is `region` or `postalCode`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field} {reason}")
        self.field = field
        self.reason = reason


def normalise_region(raw: str) -> str:
    """`us-ca ` -> `US-CA`; raises InvalidPlace unless it is a known country or subdivision."""
    code = raw.strip().upper()
    if not _REGION.fullmatch(code):
        raise InvalidPlace("region", REGION_WORDS)
    known = pycountry.subdivisions.get(code=code) if "-" in code else pycountry.countries.get(alpha_2=code)
    if known is None:
        raise InvalidPlace("region", f"{code!r} {REGION_WORDS}")
    return code


def place(region: str = "", postal_code: str = "") -> tuple[str, str]:
    """The canonical (region, postal code) of what was given, the region filled in from a US ZIP.
    Raises InvalidPlace naming the field at fault."""
    region = normalise_region(region) if region.strip() else ""
    postal = postal_code.strip()
    if not postal:
        return region, ""
    if not _POSTAL.fullmatch(postal):
        raise InvalidPlace(
            "postalCode", f"must be letters, digits, spaces and dashes, at most {MAX_POSTAL_CODE} characters"
        )
    if region and region.split("-")[0] != "US":
        return region, postal  # kept as given: the region says where
    match = _ZIP.fullmatch(postal)
    if match is None:
        raise InvalidPlace("postalCode", "must be a US ZIP code (12345 or 12345-6789), or come with a region")
    found = _zip(match.group(1))
    if found is None:
        raise InvalidPlace("postalCode", f"{match.group(1)} is not a US ZIP code in use")
    zip_region = found[0]
    if region and region != "US" and region != zip_region:
        raise InvalidPlace("postalCode", f"{match.group(1)} is in {zip_region}, not {region}")
    return zip_region, postal


def zones_for(region: str, postal_code: str = "") -> tuple[str, ...]:
    """The zones of a canonical place (as `place` returns it); () when it says nothing."""
    match = _ZIP.fullmatch(postal_code) if region.split("-")[0] == "US" or not region else None
    if match and (found := _zip(match.group(1))):
        return (found[1],)
    if not region:
        return ()
    if region.startswith("US-") and (state := _us_state_zones(region)):
        return state
    return _country_zones().get(region.split("-")[0], ())


def regions_of(region: str) -> tuple[str, ...]:
    """A place's region and its country, as the region rules match them: `US-FL` -> (`US`, `US-FL`)."""
    if not region:
        return ()
    country = region.split("-")[0]
    return (country, region) if country != region else (country,)


@cache
def _zip(code: str) -> tuple[str, str] | None:
    """A five-digit ZIP's (region, zone), None unless it is in use and its zone is one the tz
    database knows (one lookup in the package's compiled index, remembered)."""
    found = zipcodes.matching(code)
    if not found or found[0].get("timezone") not in _zone_names():
        return None
    return _zip_region(found[0]["state"]), found[0]["timezone"]


def _zip_region(state: str) -> str:
    """A ZIP's state as a region: a US subdivision (US-TX, US-PR), else the country it is (FM, PW),
    else the US (the military's AA/AE/AP)."""
    if pycountry.subdivisions.get(code=f"US-{state}") is not None:
        return f"US-{state}"
    return state if pycountry.countries.get(alpha_2=state) is not None else "US"


@cache
def _us_state_zones(region: str) -> tuple[str, ...]:
    """A US state's zones: those of its ZIP codes (one scan of the state, remembered)."""
    rows = zipcodes.filter_by(state=region.removeprefix("US-"))
    return tuple(sorted({r["timezone"] for r in rows if r.get("timezone") in _zone_names()}))


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _country_zones() -> dict[str, tuple[str, ...]]:
    """Country -> its zones, from the tz database's zone.tab (the `tzdata` package)."""
    text = resources.files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    zones = _zone_names()
    found: dict[str, list[str]] = defaultdict(list)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *_ = line.split("\t")
            if zone in zones:
                found[country].append(zone)
    return {country: tuple(sorted(z)) for country, z in found.items()}
