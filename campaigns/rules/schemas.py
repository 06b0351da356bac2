"""Typed customer data: JSON Schemas (draft 2020-12) that a list's or a campaign's rows must meet.

`schema_problems` says why a schema cannot be used (not a valid draft 2020-12 schema, too big,
or referring to anything outside itself: nothing is ever fetched). `Checker` validates one row
at a time and names each failure by its path inside the row and the validator's reason, so an
import can report "line 7.attributes.plan: 'gold' is not one of ['basic', 'premium']".
Pure: plain values in, plain values out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable

MAX_SCHEMA_BYTES = 64 * 1024
MAX_ERRORS_PER_ROW = 10


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("$ref", "$dynamicRef") and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def schema_problems(schema: Any) -> list[str]:
    """Why `schema` cannot be used ([] when it can): an object, at most 64 KiB as JSON, a valid
    draft 2020-12 schema, with `$ref`s only inside itself ("#/$defs/..."), describing an object."""
    if not isinstance(schema, Mapping):
        return ["must be an object (a JSON Schema)"]
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        return [f"must be at most {MAX_SCHEMA_BYTES // 1024} KiB as JSON"]
    outside = sorted({ref for ref in _refs(schema) if not ref.startswith("#")})
    if outside:
        return [f"may only refer to its own definitions (#/...), not {', '.join(outside)}"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(p) for p in error.absolute_path)
        return [
            f"is not a valid JSON Schema (draft 2020-12){f' at {where}' if where else ''}: {error.message}"
        ]
    if schema.get("type", "object") != "object":
        return ["must describe an object (type: object)"]
    return []


class Checker:
    """Validates rows against one schema `schema_problems` accepted."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        # An empty registry: a reference that is not inside the schema cannot be resolved, and
        # nothing is ever retrieved.
        self.validator = Draft202012Validator(schema, registry=Registry())

    def errors(self, instance: Any) -> list[tuple[str, str]]:
        """(path inside the row, reason) for each failure, at most MAX_ERRORS_PER_ROW."""
        found: list[tuple[str, str]] = []
        try:
            for error in self.validator.iter_errors(instance):
                found.append((".".join(str(p) for p in error.absolute_path), error.message))
                if len(found) >= MAX_ERRORS_PER_ROW:
                    break
        except Unresolvable as error:
            found.append(("", f"the schema refers to what cannot be resolved ({error})"))
        return found

    def fields(self) -> list[str]:
        """The properties the schema names, in its order (what a CSV preview shows as columns)."""
        properties = self.validator.schema.get("properties", {})
        return list(properties) if isinstance(properties, Mapping) else []


def fields_of(schema: Mapping[str, Any] | None) -> list[str]:
    """The properties a schema names, in order; [] without one."""
    return Checker(schema).fields() if schema else []
