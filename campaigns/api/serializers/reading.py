"""Reading JSON request bodies the way Vapi's NestJS DTOs do.

Every problem is collected (not just the first) as a FieldError named by its
camelCase path (``customers.3.number``), and unknown keys are refused with
Vapi's own wording: ``property retryPlan should not exist``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, time
from typing import Any

from campaigns.services import FieldError

_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


INVALID_DATETIME = "must be a valid ISO 8601 date string"
NAIVE_DATETIME = "must include a UTC offset (Z or ±hh:mm), e.g. 2026-12-01T14:00:00Z"


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with a UTC offset (Z or ±hh:mm), converted to UTC.

    Raises ValueError whose message completes the field's name: INVALID_DATETIME, or
    NAIVE_DATETIME for a value without an offset (a date alone included), which would
    otherwise be read as UTC by us and in some other zone by the client who wrote it.
    Converting here keeps offsets PostgreSQL refuses (beyond ±15:59, which Python accepts)
    out of queries, and turns a date pushed past year 1 or 9999 by its offset into a
    validation error instead of a server error.
    """
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(INVALID_DATETIME)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(INVALID_DATETIME) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(NAIVE_DATETIME)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(INVALID_DATETIME) from None


def parse_hhmm(value: Any) -> time | None:
    if isinstance(value, str) and _HHMM.fullmatch(value):
        return time(int(value[:2]), int(value[3:]))
    return None


class Reader:
    """One JSON object of a request body at `path`; problems go to the shared `errors` list.

    JSON null counts as absent for optional keys, as with class-validator's @IsOptional.
    """

    def __init__(self, data: Any, path: str, errors: list[FieldError], allowed: Collection[str]) -> None:
        self.path = path
        self.errors = errors
        self.ok = isinstance(data, Mapping)
        self.data: Mapping[str, Any] = data if self.ok else {}
        if not self.ok:
            errors.append(FieldError(path, "must be an object") if path else _body_error())
        for key in self.data:
            if key not in allowed:
                errors.append(FieldError("", f"property {join(path, key)} should not exist"))

    def name(self, key: str) -> str:
        return join(self.path, key)

    def present(self, key: str) -> bool:
        return self.data.get(key) is not None

    def fail(self, key: str, message: str) -> None:
        self.errors.append(FieldError(self.name(key), message))

    def string(self, key: str, *, required: bool = False, max_length: int | None = None) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "should not be empty")
            return None
        if not isinstance(value, str):
            self.fail(key, "must be a string")
            return None
        if value == "":
            self.fail(key, "should not be empty")
            return None
        if max_length is not None and len(value) > max_length:
            self.fail(key, f"must be shorter than or equal to {max_length} characters")
            return None
        return value

    def integer(self, key: str, *, low: int, high: int) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        number = as_integer(value)
        if number is None:
            self.fail(key, "must be an integer number")
        elif number < low:
            self.fail(key, f"must not be less than {low}")
        elif number > high:
            self.fail(key, f"must not be greater than {high}")
        else:
            return number
        return None

    def array(
        self, key: str, *, required: bool = False, low: int = 0, high: int | None = None
    ) -> list | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "should not be empty")
            return None
        if not isinstance(value, list):
            self.fail(key, "must be an array")
            return None
        if len(value) < low:
            self.fail(key, f"must contain at least {low} elements")
            return None
        if high is not None and len(value) > high:
            self.fail(key, f"must contain no more than {high} elements")
            return None
        return value

    def datetime(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.fail(key, "should not be empty")
            return None
        try:
            return parse_datetime(value)
        except ValueError as exc:
            self.fail(key, str(exc))
            return None

    def choice(self, key: str, options: Collection[str]) -> str | None:
        value = self.data.get(key)
        if value is None:
            return None
        if value not in options:
            self.fail(key, f"must be one of the following values: {', '.join(options)}")
            return None
        return value


def as_integer(value: Any) -> int | None:
    """JSON numbers that are whole (5 or 5.0); booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _body_error() -> FieldError:
    return FieldError("", "request body must be a JSON object")
