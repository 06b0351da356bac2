"""A campaign's analysis schema (the structured result its voice agent extracts from each call) and
the results themselves: is the schema a JSON Schema (2020-12) we can use, does a result follow it,
and did the call meet the campaign's objective. Pure: plain values in and out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

# The boolean property of a result that says whether the objective was met, unless the campaign
# names another one.
OBJECTIVE_FIELD = "objectiveMet"
# A field a rule or the objective may name: a property, or a property of an object property
# ("appointment.booked"), at most MAX_DEPTH deep.
FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}(\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,3}$"
_FIELD = re.compile(FIELD_PATTERN)
FIELD_MESSAGE = "must be a property name, or names joined by dots (at most 4), of letters, digits and _"
OBJECTIVE_LENGTH = 4000
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING"})()


def schema_problems(schema: object) -> list[tuple[str, str]]:
    """Why `schema` cannot be a campaign's analysis schema, as (path within it, message); [] if it can.

    It must be a JSON Schema (draft 2020-12) describing an object: `{"type": "object", ...}`.
    """
    if not isinstance(schema, Mapping):
        return [("", "must be a JSON Schema object")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = ".".join(str(part) for part in error.absolute_path)
        return [(where, f"is not a valid JSON Schema (2020-12): {error.message[:200]}")]
    if schema.get("type") != "object":
        return [("type", 'must be "object": the result of a call is an object of named fields')]
    return []


def is_field(name: object) -> bool:
    return isinstance(name, str) and bool(_FIELD.fullmatch(name))


def field_schema(schema: Mapping | None, path: str) -> Mapping | None:
    """The subschema that describes `path` in `schema`, or None when the schema does not name it."""
    node: Any = schema
    for part in path.split("."):
        properties = node.get("properties") if isinstance(node, Mapping) else None
        if not isinstance(properties, Mapping) or not isinstance(properties.get(part), Mapping):
            return None
        node = properties[part]
    return node


def lookup(result: Mapping | None, path: str) -> Any:
    """The value at `path` ("a.b") in a result, or MISSING."""
    node: Any = result
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


@dataclass(frozen=True)
class Checked:
    """A call's structured result once checked against the campaign's schema."""

    data: dict | None  # as received (None: the call produced none)
    valid: bool | None  # None when there was nothing to check
    error: str = ""  # why it is not valid: the first problem, with where
    objective_met: bool | None = None  # only for a valid result that says so


def check_result(data: object, schema: Mapping | None, *, objective_field: str = OBJECTIVE_FIELD) -> Checked:
    """Check a call's structured result. No schema: any object is accepted as is.

    `objective_met` is the result's `objective_field` when the result is valid and that field is
    a boolean; None otherwise (not said, or not trusted).
    """
    if data is None:
        return Checked(None, None)
    if not isinstance(data, dict):
        return Checked(None, False, "the structured result is not an object")
    if schema is not None:
        error = next(iter(sorted(Draft202012Validator(schema).iter_errors(data), key=_where)), None)
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path) or "(the result)"
            return Checked(data, False, f"{where}: {error.message}"[:300])
    met = lookup(data, objective_field)
    return Checked(data, True, "", met if isinstance(met, bool) else None)


def _where(error: Any) -> tuple[str, ...]:
    return tuple(str(part) for part in error.absolute_path)


def distribution_fields(schema: Mapping | None) -> list[tuple[str, tuple[Any, ...]]]:
    """The top-level fields of a schema whose values can be counted: booleans (True, False) and
    enums (their values), as (name, possible values) by name (PostgreSQL's jsonb keeps no order
    of keys, so the schema's own order cannot be relied on)."""
    found: list[tuple[str, tuple[Any, ...]]] = []
    properties = (schema or {}).get("properties") or {}
    for name, sub in sorted(properties.items()):
        if not isinstance(sub, Mapping):
            continue
        if isinstance(sub.get("enum"), list):
            found.append((name, tuple(v for v in sub["enum"] if isinstance(v, str | int | float | bool))))
        elif sub.get("type") == "boolean":
            found.append((name, (True, False)))
    return found
