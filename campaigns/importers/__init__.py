"""Customers and do-not-call numbers from outside: JSON objects and CSV files.

`check_customer` holds Vapi's CreateCustomerDTO rules (one place, so a JSON body,
a CSV upload and the dashboard's paste box refuse the same rows the same way).
`parse_customers_csv` and `parse_numbers_csv` stream a file: they read one
record at a time, yield the good rows and collect every bad one in `.errors`
(field names like ``line 7.number``), so services can insert in chunks and
still report every problem before committing anything.
"""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import chain
from typing import IO, Any

from campaigns import jsonlimits, phone, places
from campaigns.services import CustomerInput, FieldError
from campaigns.services.errors import WORDING

# Vapi's rules (CreateCustomerDTO): E.164 when the check is on, else alphanumerics for SIP trunks.
E164 = re.compile(r"\+[0-9]{1,15}")
NON_E164 = re.compile(r"\+?[a-zA-Z0-9]+")
NUMBER_LENGTH = (3, 40)
MAX_LENGTHS = {"name": 40, "email": 40, "externalId": 40, "extension": 10, "sipUri": 255}
CUSTOMER_KEYS = frozenset(
    {"number", "numberE164CheckEnabled", "sipUri", "extension", "name", "email", "externalId"}
    | {"assistantOverrides", "timeZone", "metadata"}  # ours: the callee's IANA zone; data kept with us
    | {"region", "postalCode"}  # ours: where the callee lives (campaigns.places)
)
METADATA_PREFIX = "metadata."  # CSV columns named metadata.<name> go to the customer's metadata
E164_MESSAGE = "must be a valid phone number in E.164 format"
ZONE_WORDS = "is not an IANA time zone (e.g. America/Chicago)"


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_time_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this system knows ("America/Chicago", "UTC")."""
    return name in _zones()


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def check_place(values: Mapping, where: str) -> tuple[tuple[str, str], list[FieldError]]:
    """A customer's or contact's `region` and `postalCode`: their canonical form (the region filled
    in from a US ZIP) or the problems, each named by its field (campaigns.places). Read here so a
    body's every problem, shape and place, comes back in one answer; the service's gate
    (services.customers.place_errors) holds the same rule for inputs built any other way."""
    given = {key: values.get(key) for key in ("region", "postalCode")}
    errors = [
        FieldError(_join(where, key), WORDING["string"])
        for key, value in given.items()
        if value is not None and not isinstance(value, str)
    ]
    if errors:
        return ("", ""), errors
    try:
        return places.place(given["region"] or "", given["postalCode"] or ""), []
    except places.InvalidPlace as error:
        return ("", ""), [FieldError(_join(where, error.field), error.reason)]


def check_customer(values: Any, where: str) -> tuple[CustomerInput | None, list[FieldError]]:
    """One customer object checked against Vapi's CreateCustomerDTO: the one customer check of
    JSON bodies (campaigns.api), CSV rows and the dashboard's paste box.

    Returns (the customer, []) or (None, every problem), each named by its path
    under `where` (``customers.3.number``, ``line 7.number``). Unknown keys are
    refused; `assistantOverrides` is opaque (passed through to the provider) but
    must be an object. JSON null counts as absent.
    """
    if not isinstance(values, Mapping):
        return None, [FieldError(where, WORDING["object"])]
    errors = [FieldError(_join(where, key), WORDING["unknown"]) for key in values if key not in CUSTOMER_KEYS]
    text: dict[str, str] = {}
    for key in ("number", *MAX_LENGTHS):
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(FieldError(_join(where, key), WORDING["string"]))
        elif key in MAX_LENGTHS and len(value) > MAX_LENGTHS[key]:
            errors.append(
                FieldError(_join(where, key), WORDING["max_length"].format(max_length=MAX_LENGTHS[key]))
            )
        else:
            text[key] = value
    check = values.get("numberE164CheckEnabled")
    if check is None:
        check = True
    elif not isinstance(check, bool):
        errors.append(FieldError(_join(where, "numberE164CheckEnabled"), WORDING["boolean"]))
        check = True
    number = text.get("number")
    if number is not None:
        errors += _number_errors(number, check, _join(where, "number"))
    elif values.get("number") is None and not text.get("sipUri"):
        errors.append(FieldError(_join(where, "number"), "is required when sipUri is not provided"))
    zone = values.get("timeZone")
    if zone is not None and not (isinstance(zone, str) and is_time_zone(zone)):
        errors.append(FieldError(_join(where, "timeZone"), ZONE_WORDS))
    (region, postal_code), wrong = check_place(values, where)
    errors += wrong
    overrides = values.get("assistantOverrides")
    if overrides is not None and not isinstance(overrides, Mapping):
        errors.append(FieldError(_join(where, "assistantOverrides"), WORDING["object"]))
    elif overrides is not None:  # stored and sent on as is: depth, size and numbers bounded
        errors += jsonlimits.problems(overrides, _join(where, "assistantOverrides"))
    metadata = values.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        errors.append(FieldError(_join(where, "metadata"), WORDING["object"]))
    elif metadata is not None:
        errors += jsonlimits.problems(metadata, _join(where, "metadata"))
    if errors:
        return None, errors
    return CustomerInput(
        number=text.get("number", ""),
        sip_uri=text.get("sipUri", ""),
        extension=text.get("extension", ""),
        name=text.get("name", ""),
        email=text.get("email", ""),
        external_id=text.get("externalId", ""),
        number_e164_check_enabled=check,
        assistant_overrides=dict(overrides) if overrides is not None else None,
        time_zone=zone or "",
        region=region,
        postal_code=postal_code,
        metadata=dict(metadata) if metadata else None,
        source=where,
    ), []


def _number_errors(number: str, e164_check: bool, field: str) -> list[FieldError]:
    low, high = NUMBER_LENGTH
    if len(number) < low:
        return [FieldError(field, WORDING["min_length"].format(min_length=low))]
    if len(number) > high:
        return [FieldError(field, WORDING["max_length"].format(max_length=high))]
    if e164_check and not E164.fullmatch(number):
        return [FieldError(field, E164_MESSAGE)]
    if not e164_check and not NON_E164.fullmatch(number):
        return [FieldError(field, f"must match /^{NON_E164.pattern}$/ regular expression")]
    return []


# CSV ------------------------------------------------------------------------------------------

# Known columns, matched case-insensitively; every other column is a template variable.
CUSTOMER_COLUMNS = {
    key.lower(): key
    for key in (
        "number",
        "name",
        "email",
        "externalId",
        "extension",
        "sipUri",
        "numberE164CheckEnabled",
        "timeZone",
        "region",
        "postalCode",
    )
}
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class CsvSource(ABC):
    """Iterate once over a CSV file's records; problems land in `errors` as they are met.

    Handles UTF-8 with or without a BOM, `,` or `;` (sniffed from the header line),
    quoted fields spanning lines, and blank lines. An empty file or one with only a
    header is itself an error. Each record is named by the line it starts on.
    """

    def __init__(self, fileobj: IO) -> None:
        self.fileobj = fileobj
        self.errors: list[FieldError] = []
        self.rows = 0
        self.started = False

    def __iter__(self) -> Iterator[Any]:
        if self.started:
            raise RuntimeError("a CSV source is read once; parse the file again to re-read it")
        self.started = True
        text = _text(self.fileobj)
        try:
            header_line = text.readline()
            if not header_line.strip():
                self.errors.append(FieldError("file", "is empty: the first line must name the columns"))
                return
            delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
            reader = csv.reader(chain([header_line], text), delimiter=delimiter, strict=True)
            header = [cell.strip() for cell in next(reader)]
            # PostgreSQL's text cannot hold NUL: refused here, named by line and column. A header
            # holding one is most often UTF-16 text (which decodes as UTF-8 with a NUL per letter).
            if any(jsonlimits.NUL in cell for cell in header):
                self.errors.append(
                    FieldError("file", "contains NUL characters: it is not UTF-8 text; save it as CSV UTF-8")
                )
                return
            if not self.accept_header(header):
                return
            line = reader.line_num + 1
            # What a record's JSON could weigh besides its cells (see below), computed once.
            fixed = sum(map(len, header)) + 64 * len(header)
            for record in reader:
                start, line = line, reader.line_num + 1
                joined = "".join(record)
                if not joined.strip():  # a blank line, or cells of blanks only
                    continue
                self.rows += 1
                if len(record) > len(header):
                    self.errors.append(
                        FieldError(
                            f"line {start}",
                            f"has {len(record)} values but the header names {len(header)} columns",
                        )
                    )
                    continue
                if jsonlimits.NUL in joined:
                    self.errors += [
                        FieldError(f"line {start}.{header[i] or f'column {i + 1}'}", jsonlimits.NUL_MESSAGE)
                        for i, cell in enumerate(record)
                        if jsonlimits.NUL in cell
                    ]
                    continue
                item = self.build(record, start)
                # Extra columns become assistantOverrides, stored and sent on: bounded like JSON ones.
                # They are flat text (NUL refused above), so only their size can break a limit, and a
                # record whose JSON could not reach MAX_BYTES (each character at most 6 bytes,
                # escaped; each column at most 64 more with its name) is not walked at all.
                overrides = getattr(item, "assistant_overrides", None)
                if overrides is not None and 6 * len(joined) + fixed > jsonlimits.MAX_BYTES:
                    problems = jsonlimits.problems(overrides, f"line {start}.assistantOverrides")
                    if problems:
                        self.errors += problems
                        continue
                if item is not None:
                    yield item
        except UnicodeDecodeError:
            self.errors.append(FieldError("file", "is not UTF-8 text; save it as CSV UTF-8"))
            return
        except csv.Error as exc:
            self.errors.append(FieldError(f"line {reader.line_num}", f"is not valid CSV ({exc})"))
            return
        if self.rows == 0:
            self.errors.append(FieldError("file", "has a header line but no rows"))

    @abstractmethod
    def accept_header(self, header: list[str]) -> bool:
        """Check the header line; store what `build` needs; False (with errors) to stop."""

    @abstractmethod
    def build(self, record: list[str], line: int) -> Any:
        """One record (its cells, in header order) starting on `line`; None when it is refused."""


def _text(fileobj: IO) -> IO[str]:
    """A text stream over `fileobj`, decoding UTF-8 (BOM dropped) without reading it all."""
    if isinstance(fileobj, io.TextIOBase):
        return fileobj
    raw = getattr(fileobj, "file", fileobj)  # Django's UploadedFile wraps the real file
    if hasattr(raw, "seek"):
        raw.seek(0)
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


class CustomerRows(CsvSource):
    """`parse_customers_csv`'s result: yields services.CustomerInput."""

    def accept_header(self, header: list[str]) -> bool:
        seen: set[str] = set()
        self.columns: list[tuple[int, str, bool]] = []  # (position, key, is a known column)
        for index, cell in enumerate(header):
            key = CUSTOMER_COLUMNS.get(cell.lower(), cell)
            if not cell:
                continue
            if key in seen:
                self.errors.append(FieldError("line 1", f"names the column {cell} twice"))
            seen.add(key)
            self.columns.append((index, key, cell.lower() in CUSTOMER_COLUMNS))
        if not {"number", "sipUri"} & seen:
            self.errors.append(FieldError("line 1", "must name a number or a sipUri column"))
        return not self.errors

    def build(self, record: list[str], line: int) -> CustomerInput | None:
        values: dict[str, Any] = {}
        variables: dict[str, str] = {}
        metadata: dict[str, str] = {}
        width = len(record)
        for index, key, known in self.columns:
            value = record[index].strip() if index < width else ""
            if not value:
                continue
            if known:
                values[key] = value
            elif key.startswith(METADATA_PREFIX) and len(key) > len(METADATA_PREFIX):
                metadata[key[len(METADATA_PREFIX) :]] = value
            else:
                variables[key] = value
        if metadata:
            values["metadata"] = metadata
        where = f"line {line}"
        if _plain(values):  # the common case, checked without building error paths
            return CustomerInput(
                number=values["number"],
                name=values.get("name", ""),
                email=values.get("email", ""),
                external_id=values.get("externalId", ""),
                extension=values.get("extension", ""),
                assistant_overrides={"variableValues": variables} if variables else None,
                source=where,
            )
        flag = values.get("numberE164CheckEnabled")
        if flag is not None:
            if flag.lower() not in _BOOLEANS:
                self.errors.append(FieldError(f"{where}.numberE164CheckEnabled", "must be true or false"))
                return None
            values["numberE164CheckEnabled"] = _BOOLEANS[flag.lower()]
        if variables:
            values["assistantOverrides"] = {"variableValues": variables}
        customer, errors = check_customer(values, where)
        self.errors += errors
        return customer


_PLAIN_KEYS = frozenset({"number", "name", "email", "externalId", "extension"})


def _plain(values: dict[str, str]) -> bool:
    """A row with an E.164 number and short optional fields: what check_customer would accept as is."""
    number = values.get("number")
    if number is None or not values.keys() <= _PLAIN_KEYS or not 3 <= len(number) <= 40:
        return False
    for key, value in values.items():
        if key != "number" and len(value) > MAX_LENGTHS[key]:
            return False
    return E164.fullmatch(number) is not None


def parse_customers_csv(fileobj: IO) -> CustomerRows:
    """Customers from a CSV file, streamed: iterate once; read `.errors` after.

    Columns (any order, case-insensitive): number, name, email, externalId,
    extension, sipUri, numberE164CheckEnabled, timeZone, region, postalCode; ``metadata.<name>``
    columns go to the customer's metadata (kept with us, never sent to the
    agent). Any other column becomes ``assistantOverrides.variableValues[<column>]``
    for that row (empty cells are left out). Rows are checked like JSON customers (`check_customer`).
    """
    return CustomerRows(fileobj)


class NumberRows(CsvSource):
    """`parse_numbers_csv`'s result: yields (canonical E.164 number, note) pairs."""

    def __init__(self, fileobj: IO, *, region: str | None = None) -> None:
        super().__init__(fileobj)
        self.region = region

    def accept_header(self, header: list[str]) -> bool:
        lowered = [cell.lower() for cell in header]
        if "number" in lowered:
            self.number_column = lowered.index("number")
            self.note_column = lowered.index("note") if "note" in lowered else None
            return True
        self.errors.append(FieldError("line 1", "must name a number column (and optionally note)"))
        return False

    def build(self, record: list[str], line: int) -> tuple[str, str] | None:
        where = f"line {line}"
        raw = record[self.number_column].strip() if self.number_column < len(record) else ""
        note = ""
        if self.note_column is not None and self.note_column < len(record):
            note = record[self.note_column].strip()
        if not raw:
            self.errors.append(FieldError(f"{where}.number", "is required"))
            return None
        try:
            return phone.to_e164(raw, region=self.region), note
        except phone.InvalidNumber as exc:
            self.errors.append(FieldError(f"{where}.number", f"{raw!r} {exc}"))
            return None


def parse_numbers_csv(fileobj: IO, *, region: str | None = None) -> NumberRows:
    """Do-not-call numbers from a CSV file with a `number` column and an optional `note`.

    Numbers are put in canonical form by the one normaliser (`phone.to_e164`: spaces, dashes,
    parentheses, a leading 00, and national numbers of `region`, the organization's default
    country); streamed like `parse_customers_csv`, with every bad line in `.errors`.
    """
    return NumberRows(fileobj, region=region)
