"""Contacts of a contact list from outside: JSON objects and CSV files.

`check_contact` is the one shape check of a contact (a JSON body, a CSV row, the dashboard's
upload); numbers are put in canonical form by the service (it knows the organization's default
country). `parse_contacts_csv` streams like `parse_customers_csv`: good rows are yielded, every
bad one is collected in `.errors` by line and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import IO, Any

from campaigns import jsonlimits
from campaigns.importers import ZONE_WORDS, CsvSource, check_place, is_time_zone
from campaigns.rules.segments import NAME
from campaigns.services.errors import WORDING, FieldError
from campaigns.services.inputs import ContactInput

MAX_LENGTHS = {"number": 40, "name": 40, "email": 40, "externalId": 40, "consentSource": 100}
CONTACT_KEYS = frozenset(
    {*MAX_LENGTHS, "attributes", "metadata", "consentAt", "timeZone", "region", "postalCode"}
)
METADATA_PREFIX = "metadata."  # CSV columns named metadata.<name> go to the contact's metadata
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_LENGTH = 1000
ATTRIBUTE_NAME_MESSAGE = (
    "is not an attribute name: letters, digits and _, not starting with a digit (at most 64)"
)
# CSV columns that are the contact's own fields (case-insensitive); any other is an attribute.
CONTACT_COLUMNS = {
    key.lower(): key for key in (*MAX_LENGTHS, "consentAt", "timeZone", "region", "postalCode")
}


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def check_contact(values: Any, where: str) -> tuple[ContactInput | None, list[FieldError]]:
    """One contact object: (the contact, []) or (None, every problem named under `where`).

    Keys: number (required), name, email, externalId, consentSource, consentAt (ISO 8601 with a
    UTC offset), timeZone (IANA), region and postalCode (campaigns.places), attributes (a flat
    object of strings and numbers, at most 100, named like identifiers), metadata (any JSON
    object, bounded: kept for reporting, never sent to the agent). Unknown keys are refused;
    JSON null counts as absent.
    """
    if not isinstance(values, Mapping):
        return None, [FieldError(where, WORDING["object"])]
    errors = [FieldError(_join(where, key), WORDING["unknown"]) for key in values if key not in CONTACT_KEYS]
    text: dict[str, str] = {}
    for key in (*MAX_LENGTHS, "consentAt", "timeZone"):
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            errors.append(FieldError(_join(where, key), WORDING["string"]))
        elif key in MAX_LENGTHS and len(value) > MAX_LENGTHS[key]:
            errors.append(
                FieldError(_join(where, key), WORDING["max_length"].format(max_length=MAX_LENGTHS[key]))
            )
        elif jsonlimits.NUL in value:
            errors.append(FieldError(_join(where, key), jsonlimits.NUL_MESSAGE))
        else:
            text[key] = value.strip()
    number = values.get("number")
    if number is None or (isinstance(number, str) and not number.strip()):
        errors.append(FieldError(_join(where, "number"), WORDING["required"]))
    consent_at = None
    if text.get("consentAt"):
        consent_at = _instant(text["consentAt"])
        if consent_at is None:
            errors.append(FieldError(_join(where, "consentAt"), WORDING["datetime"] + " with a UTC offset"))
    if text.get("timeZone") and not is_time_zone(text["timeZone"]):
        errors.append(FieldError(_join(where, "timeZone"), ZONE_WORDS))
    (region, postal_code), wrong = check_place(values, where)
    errors += wrong
    attributes = values.get("attributes")
    if attributes is None:
        attributes = {}
    errors += attribute_errors(attributes, _join(where, "attributes"))
    metadata = values.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        errors.append(FieldError(_join(where, "metadata"), WORDING["object"]))
    else:
        errors += jsonlimits.problems(metadata, _join(where, "metadata"))
    if errors:
        return None, errors
    return ContactInput(
        number=text["number"],
        name=text.get("name", ""),
        email=text.get("email", ""),
        external_id=text.get("externalId", ""),
        attributes=dict(attributes),
        metadata=dict(metadata),
        consent_source=text.get("consentSource", ""),
        consent_at=consent_at,
        time_zone=text.get("timeZone", ""),
        region=region,
        postal_code=postal_code,
        source=where,
    ), []


def attribute_errors(attributes: Any, where: str) -> list[FieldError]:
    """Problems with a contact's attributes: a flat object of strings and numbers."""
    if not isinstance(attributes, Mapping):
        return [FieldError(where, WORDING["object"])]
    if len(attributes) > MAX_ATTRIBUTES:
        return [FieldError(where, f"must have at most {MAX_ATTRIBUTES} attributes")]
    errors = []
    for key, value in attributes.items():
        if not NAME.fullmatch(key):
            errors.append(FieldError(_join(where, key), ATTRIBUTE_NAME_MESSAGE))
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            errors.append(FieldError(_join(where, key), "must be a string or a number"))
        elif isinstance(value, str) and len(value) > MAX_ATTRIBUTE_LENGTH:
            message = WORDING["max_length"].format(max_length=MAX_ATTRIBUTE_LENGTH)
            errors.append(FieldError(_join(where, key), message))
        elif isinstance(value, str) and jsonlimits.NUL in value:
            errors.append(FieldError(_join(where, key), jsonlimits.NUL_MESSAGE))
        elif isinstance(value, int) and not -(2**63) <= value < 2**63:
            errors.append(FieldError(_join(where, key), "must be a 64-bit integer"))
        elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            errors.append(FieldError(_join(where, key), "must be a finite number"))
    return errors


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


class ContactRows(CsvSource):
    """`parse_contacts_csv`'s result: yields services.ContactInput."""

    def accept_header(self, header: list[str]) -> bool:
        seen: set[str] = set()
        self.columns: list[tuple[int, str, bool]] = []  # (position, key, is a contact field)
        for index, cell in enumerate(header):
            if not cell:
                continue
            known = cell.lower() in CONTACT_COLUMNS
            key = CONTACT_COLUMNS.get(cell.lower(), cell)
            name = cell[len(METADATA_PREFIX) :] if cell.lower().startswith(METADATA_PREFIX) else cell
            if key in seen:
                self.errors.append(FieldError("line 1", f"names the column {cell} twice"))
            elif not known and not NAME.fullmatch(name):
                self.errors.append(FieldError(f"line 1.{cell}", ATTRIBUTE_NAME_MESSAGE))
            seen.add(key)
            self.columns.append((index, key, known))
        if "number" not in seen:
            self.errors.append(FieldError("line 1", "must name a number column"))
        if len(self.columns) > MAX_ATTRIBUTES + len(CONTACT_COLUMNS):
            self.errors.append(FieldError("line 1", f"names more than {MAX_ATTRIBUTES} attribute columns"))
        return not self.errors

    def build(self, record: list[str], line: int) -> ContactInput | None:
        values: dict[str, Any] = {}
        attributes: dict[str, str] = {}
        metadata: dict[str, str] = {}
        width = len(record)
        for index, key, known in self.columns:
            value = record[index].strip() if index < width else ""
            if not value:
                continue
            if known:
                values[key] = value
            elif key.lower().startswith(METADATA_PREFIX):
                metadata[key[len(METADATA_PREFIX) :]] = value
            else:
                attributes[key] = value
        if attributes:
            values["attributes"] = attributes
        if metadata:
            values["metadata"] = metadata
        contact, errors = check_contact(values, f"line {line}")
        self.errors += errors
        return contact


def parse_contacts_csv(fileobj: IO) -> ContactRows:
    """Contacts from a CSV file, streamed: iterate once; read `.errors` after.

    Columns (any order, case-insensitive): number (required), name, email, externalId,
    consentSource, consentAt, timeZone; `metadata.<name>` columns go to the contact's metadata;
    every other column is an attribute of that name (empty cells are left out), so its header
    must be an identifier (`plan`, `state`, `renewal_month`).
    """
    return ContactRows(fileobj)
