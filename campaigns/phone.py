"""Phone numbers: the one normaliser (`to_e164`), and facts about canonical numbers.

Every number that enters Dialdeck (API, CSV, dashboard, do-not-call, caller IDs) goes
through `to_e164`, built on phonenumbers: parse, then `format_number(E164)`. What is
stored, compared, de-duplicated and zoned is that canonical form, so `+49030123456`,
`+49 (0)30 123456`, `0049 30 123456` and, for an organization in Germany, `030 123456`
are one number, `+4930123456`, on the do-not-call list and in every time-zone lookup.

Pure functions over phonenumbers' metadata; no Django, no I/O.

`time_zones_for`, and the possibility check inside `to_e164`, are asked about every customer
of an import, so they are cached. phonenumbers' answers depend on more than the time-zone
prefix (the number's type and region come from per-country regular expressions over
the whole national number), so the cache key is computed, not guessed: for each
country code, `_key_length` reads the metadata patterns and finds the deepest digit
any of them can tell apart; beyond it every pattern only says "any digit". Two
canonical numbers with the same country code, the same digits up to that depth and
the same length therefore get the same answers. The key is only valid for canonical
numbers (a trunk prefix such as the 0 of `+49030...` changes what phonenumbers reads),
which is why the lookups refuse anything `to_e164` would change; the tests check the
cached answers against phonenumbers' own on every region's examples and on a large
random sample of canonical numbers.

`to_e164` itself is cheap for the common case: a `+<digits>` number is canonical as
written unless its national part starts with something the country's
`national_prefix_for_parsing` pattern matches (phonenumbers strips a national prefix
only then), so only those few go through a full parse.

Measured with phonenumbers 9.0.43 on one core: 1,000,000 random US numbers over 15
area codes take 2.9 s through `time_zones_for` (~340,000 numbers/s) against 74 s
for `parse` + `time_zones_for_number` on each number.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, ValidationResult
from phonenumbers.phonemetadata import PhoneNumberDesc
from phonenumbers.timezone import UNKNOWN_TIMEZONE, time_zones_for_number
from phonenumbers.tzdata import TIMEZONE_DATA

# [0-9], not \d: \d also matches other scripts' digits.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# What people put between digits: blanks, dashes, dots, slashes, parentheses ("+49 (0)30 ...").
_SEPARATORS = re.compile(r"[\s\-./()\u00a0\u2010-\u2015]+")
_MAX_DIGITS = 15

_IMPOSSIBLE = {
    ValidationResult.INVALID_COUNTRY_CODE: "not a valid phone number for any country",
    ValidationResult.TOO_SHORT: "too short for its country code",
    ValidationResult.TOO_LONG: "too long for its country code",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits for its country code",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is a local number; include the area code",
}
STRICT_MESSAGE = "must start with + and a country code, then digits only"


class InvalidNumber(ValueError):
    """A number that is not a possible phone number; `reason` is for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def to_e164(raw: str, *, region: str | None = None, strict: bool = False) -> str:
    """The canonical E.164 form (`+` and digits) of a number as a person or a program wrote it.

    strict: only `+<country code><digits>` (Vapi's E.164 check), surrounding blanks
    removed; a national trunk prefix is still dropped (`+49030...` is `+4930...`).
    Otherwise also spaces, dashes, dots, slashes and parentheses, a leading `00`, and,
    with `region` (ISO 3166 alpha-2, e.g. "US"), national numbers and that region's
    international prefix (`(415) 555-0100`, `011 44 ...`).

    Accepts only numbers whose length is possible for their country (phonenumbers'
    `is_possible_number`, not `is_valid_number`, which rejects fictional test numbers).
    Raises InvalidNumber with a reason people can read.
    """
    text = raw.strip()
    if not strict:
        text = _SEPARATORS.sub("", text)
        if text.startswith("00") and not region:
            text = "+" + text[2:]
    if _E164.fullmatch(text):
        return _canonical_international(text)
    if strict or text.startswith("+") or not text.isdigit() or not text.isascii():
        raise InvalidNumber(STRICT_MESSAGE)
    if not region:
        raise InvalidNumber("must start with + and a country code (no default country is set)")
    return _parsed(text, region)


def canonical_or_none(raw: str, *, region: str | None = None) -> str | None:
    """The canonical form of a number typed with Vapi's E.164 check turned off, if it has one.

    Such numbers may be written without `+` (`14155551240`): read as a national number
    of `region` when one is set and that gives a possible number, else as the digits
    of an international number. None when neither reading gives a possible number
    (a SIP trunk's own dialing string, a short code): such a number has no known zone.
    """
    for candidate, where in ((raw, region), ("+" + raw.strip().lstrip("+"), None)):
        try:
            return to_e164(candidate, region=where)
        except InvalidNumber:
            continue
    return None


def customer_number(raw: str, *, e164_check: bool, region: str | None = None) -> str | None:
    """The canonical form stored for a customer's number, or None when it has none.

    With Vapi's E.164 check on, only `+<digits>` is read (`to_e164(strict=True)`; None for an
    impossible number, which is stored as skipped). With it off, `canonical_or_none`.
    """
    if not e164_check:
        return canonical_or_none(raw, region=region)
    try:
        return to_e164(raw, strict=True)
    except InvalidNumber:
        return None


def customer_facts(
    raw: str, *, e164_check: bool, region: str | None = None
) -> tuple[str | None, tuple[str, ...]]:
    """`customer_number` and the time zones of what it returns, in one pass: what an import asks
    of every row. A `+<digits>` number that no national prefix could change (nearly all of them)
    costs two cached lookups; anything else goes the long way."""
    text = raw.strip()
    if e164_check and _E164.fullmatch(text):
        code_length, key_length = _lengths(text[1:4])
        if code_length and len(text) - 1 > code_length:
            pattern = _national_prefix(int(text[1 : 1 + code_length]))
            if pattern is None or not pattern.match(text, 1 + code_length):
                key = (text[1 : 1 + key_length], len(text) - 1)
                return (text, _time_zones(*key)) if _possible(*key) else (None, ())
    canonical = customer_number(raw, e164_check=e164_check, region=region)
    return canonical, (time_zones_for(canonical) if canonical else ())


def _canonical_international(text: str) -> str:
    """`+<digits>` as phonenumbers formats it: as written, unless a national prefix is dropped."""
    code_length, _ = _lengths(text[1:4])
    if not code_length or len(text) - 1 <= code_length:
        raise InvalidNumber("not a valid phone number for any country")
    pattern = _national_prefix(int(text[1 : 1 + code_length]))
    if pattern is not None and pattern.match(text, 1 + code_length):
        # phonenumbers' E.164 is not always a fixed point of its own parse (a Brazilian
        # +55 0 85 ... loses its 0 on the first pass and a carrier prefix on the second): read
        # it again until it no longer changes, so that the canonical form is canonical.
        for _ in range(3):
            again = _parsed(text, None)
            if again == text:
                break
            text = again
        return text
    if not _possible(*_key(text)):
        _parsed(text, None)  # raises with phonenumbers' own reason
    return text


def _parsed(text: str, region: str | None) -> str:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise InvalidNumber(
            "not a valid phone number for any country" if text.startswith("+") else STRICT_MESSAGE
        ) from error
    result = phonenumbers.is_possible_number_with_reason(number)
    if result != ValidationResult.IS_POSSIBLE:
        raise InvalidNumber(_IMPOSSIBLE.get(result, "not a possible phone number"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def _national_prefix(code: int) -> re.Pattern[str] | None:
    """The national prefix pattern phonenumbers' parse uses for `+<code>` numbers (its main region)."""
    region = phonenumbers.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    pattern = metadata.national_prefix_for_parsing if metadata is not None else None
    return re.compile(pattern) if pattern else None


def time_zones_for(number: str) -> tuple[str, ...]:
    """IANA zones phonenumbers gives for an E.164 number; () when it knows none.

    Same answer as `time_zones_for_number`, without its `Etc/Unknown` marker.
    Several zones mean the person may be in any of them. Raises InvalidNumber
    when `number` is not canonical E.164; pass what `to_e164` returned.
    """
    return _time_zones(*_canonical_key(number))


# Each cache is keyed by (leading digits, digit count): any completion of the
# prefix to that length has the same answer (see the module docstring), so the
# answer is computed on the completion with zeros.
_CACHE_SIZE = 1 << 17


@lru_cache(maxsize=_CACHE_SIZE)
def _time_zones(prefix: str, length: int) -> tuple[str, ...]:
    zones = time_zones_for_number(_number(prefix.ljust(length, "0")))
    return tuple(zone for zone in zones if zone != UNKNOWN_TIMEZONE)


@lru_cache(maxsize=_CACHE_SIZE)
def _possible(prefix: str, length: int) -> bool:
    result = phonenumbers.is_possible_number_with_reason(_number(prefix.ljust(length, "0")))
    return result == ValidationResult.IS_POSSIBLE


def _canonical_key(number: str) -> tuple[str, int]:
    """The cache key of a canonical number; InvalidNumber for one `to_e164` would rewrite."""
    key = _key(number)
    code = _country_code(number[1:])
    pattern = _national_prefix(code)
    if pattern is not None and pattern.match(number, 1 + len(str(code))) and _rewritten(number) != number:
        raise InvalidNumber(f"not in canonical form; normalise it first ({_rewritten(number)})")
    return key


@lru_cache(maxsize=4096)
def _rewritten(number: str) -> str:
    try:
        return _parsed(number, None)
    except InvalidNumber:
        return number


def _key(number: str) -> tuple[str, int]:
    if not _E164.fullmatch(number):
        raise InvalidNumber("must start with + and a country code, then digits only")
    code_length, key_length = _lengths(number[1:4])
    if not code_length or len(number) - 1 <= code_length:
        raise InvalidNumber("not a valid phone number for any country")
    return number[1 : 1 + key_length], len(number) - 1


@cache
def _lengths(lead: str) -> tuple[int, int]:
    """(country code length, key length) for the first three digits; (0, 0) if no country."""
    for size in range(1, len(lead) + 1):
        code = int(lead[:size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return size, _key_length(code)
    return 0, 0


def _country_code(digits: str) -> int:
    code_length, _ = _lengths(digits[:3])
    if not code_length or len(digits) <= code_length:
        raise InvalidNumber("not a valid phone number for any country")
    return int(digits[:code_length])


def _number(digits: str) -> PhoneNumber:
    """The PhoneNumber whose E.164 digits are `digits`, built as phonenumbers.parse
    builds it but without parse's national-prefix stripping, which looks at the
    whole number and would defeat the key."""
    code = _country_code(digits)
    national = digits[len(str(code)) :]
    number = PhoneNumber(country_code=code, national_number=int(national))
    if len(national) > 1 and national[0] == "0":
        number.italian_leading_zero = True
        # phonenumbers never counts the last digit as a leading zero.
        zeros = min(len(national) - len(national.lstrip("0")), len(national) - 1)
        if zeros != 1:
            number.number_of_leading_zeros = zeros
    return number


@cache
def _key_length(code: int) -> int:
    """How many leading E.164 digits decide every answer for this country code."""
    cc = str(code)
    deepest = max((len(prefix) for prefix in TIMEZONE_DATA if prefix.startswith(cc)), default=0)
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
        if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
            metadata = PhoneMetadata.metadata_for_nongeo_region(code)
        else:
            metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is None:
            continue
        patterns = [metadata.leading_digits] + [
            desc.national_number_pattern
            for desc in vars(metadata).values()
            if isinstance(desc, PhoneNumberDesc)
        ]
        for pattern in filter(None, patterns):
            deepest = max(deepest, len(cc) + _pattern_depth(pattern))
    return min(max(deepest, len(cc)), _MAX_DIGITS)


def _pattern_depth(pattern: str) -> int:
    """Deepest position (1-based) at which `pattern` can require a particular digit.

    Understands the subset phonenumbers uses: digits, `\\d`, `[...]`, `(?:...)`,
    `|`, `?`, `{n}` and `{n,m}`. Anything else counts as depending on every digit.
    """
    tokens = re.findall(r"\\d|\[[0-9-]+\]|\(\?:|\{[0-9]+(?:,[0-9]+)?\}|.", pattern)
    try:
        _, depth, rest = _alternation(tokens, frozenset({0}))
    except (IndexError, ValueError):
        return _MAX_DIGITS
    return _MAX_DIGITS if rest else depth


# A tiny recursive-descent walk over the pattern that tracks the set of
# positions each piece can start at, instead of the strings it can match.


def _alternation(tokens: list[str], starts: frozenset[int]) -> tuple[frozenset[int], int, list[str]]:
    """Walk `a|b|...`; return (end positions, depth, unread tokens)."""
    ends: set[int] = set()
    depth = 0
    while True:
        branch_ends, branch_depth, tokens = _sequence(tokens, starts)
        ends |= branch_ends
        depth = max(depth, branch_depth)
        if not tokens or tokens[0] != "|":
            return frozenset(ends), depth, tokens
        tokens = tokens[1:]


def _sequence(tokens: list[str], starts: frozenset[int]) -> tuple[frozenset[int], int, list[str]]:
    depth = 0
    while tokens and tokens[0] not in ("|", ")"):
        atom, tokens = _atom(tokens, starts)
        low, high, tokens = _quantifier(tokens)
        reached = set(starts) if low == 0 else set()
        for count in range(1, high + 1):
            starts, atom_depth = _advance(atom, starts)
            depth = max(depth, atom_depth)
            if count >= low:
                reached |= starts
        starts = frozenset(reached)
    return starts, depth, tokens


def _atom(tokens: list[str], starts: frozenset[int]) -> tuple[list[str] | bool, list[str]]:
    """A group's tokens, or for one digit whether it is selective (not `\\d`)."""
    head, tokens = tokens[0], tokens[1:]
    if head == "(?:":
        _, _, after = _alternation(tokens, starts)
        if after[0] != ")":
            raise ValueError("unclosed group")
        return tokens[: len(tokens) - len(after)], after[1:]
    if head in ("\\d", "[0-9]"):
        return False, tokens
    if head.isdigit() or head.startswith("["):
        return True, tokens
    raise ValueError(head)


def _quantifier(tokens: list[str]) -> tuple[int, int, list[str]]:
    if tokens and tokens[0] == "?":
        return 0, 1, tokens[1:]
    if tokens and tokens[0].startswith("{") and len(tokens[0]) > 2:
        low, _, high = tokens[0][1:-1].partition(",")
        return int(low), int(high or low), tokens[1:]
    return 1, 1, tokens


def _advance(atom: list[str] | bool, starts: frozenset[int]) -> tuple[frozenset[int], int]:
    if isinstance(atom, list):
        ends, depth, _ = _alternation(atom, starts)
        return ends, depth
    return frozenset(at + 1 for at in starts), (max(starts) + 1 if atom else 0)


# -- regions -------------------------------------------------------------------------------------

# phonenumbers' English geocoder names a North American number's state or province, alone
# ("Florida") or after a city ("San Francisco, CA"); region rules name them ISO 3166-2 style.
_SUBDIVISIONS = {
    "US": {
        "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
        "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
        "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS",
        "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA",
        "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
        "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM",
        "New York": "NY", "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
        "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
        "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
        "Virginia": "VA", "Washington": "WA", "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
        "Washington D.C.": "DC",
    },
    "CA": {
        "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
        "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
        "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
        "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
    },
}  # fmt: skip


def regions_for(number: str) -> tuple[str, ...]:
    """Where a canonical E.164 number is: its country ("DE") and, for US and Canadian numbers,
    its state or province ("US", "US-FL"); () when phonenumbers cannot tell. Derived from the
    prefix (area code and exchange), cached."""
    return _regions(number[:8]) if number[:1] == "+" else ()


def load_region_data() -> None:
    """Load what regions_for reads (phonenumbers' geocoder, ~0.7 s) now rather than at its first
    use. A Celery worker does it before it forks its processes (config.celery), so they share it
    and none pays it in the middle of a dispatch or a gate."""
    regions_for("+12125550100")


@lru_cache(maxsize=_CACHE_SIZE)
def _regions(prefix: str) -> tuple[str, ...]:
    try:
        parsed = phonenumbers.parse(prefix.ljust(12, "0"), None)
    except phonenumbers.NumberParseException:
        return ()
    country = phonenumbers.region_code_for_number(parsed) or phonenumbers.region_code_for_country_code(
        parsed.country_code
    )
    if not country or country in ("ZZ", "001"):
        return ()
    names = _SUBDIVISIONS.get(country)
    if names is None:
        return (country,)
    # Imported here: the geocoder's data takes 0.7 s to load, and every process (each worker a
    # supervisor restarts, each management command) would pay it before doing anything.
    from phonenumbers import geocoder

    place = geocoder.description_for_number(parsed, "en")
    code = names.get(place) or (place.rpartition(", ")[2] if ", " in place else "")
    return (country, f"{country}-{code}") if code in names.values() else (country,)


def area_code_for(number: str) -> str:
    """The area code of a canonical E.164 number, without its country code ("415" for
    +14155550100, "20" for +442079460000); "" when the number has none (most mobile ranges
    outside North America) or phonenumbers cannot tell. What local presence matches on, together
    with the country (regions_for)."""
    if number[:1] != "+":
        return ""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ""
    length = phonenumbers.length_of_geographical_area_code(parsed)
    return phonenumbers.national_significant_number(parsed)[:length] if length else ""
