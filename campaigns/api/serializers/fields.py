"""The API's request fields. Each checks the JSON type Vapi's NestJS DTOs declare, strictly
(5 is not a string, "5" not a number, "yes" not a boolean), in the words class-validator
answers with (services.errors.WORDING, the one table); drf-spectacular documents it from the
same declaration.

Rules that need more than the body (bounds of the dialing strategy, time zones, phone numbers
of the organization, duplicates) are the services'; a field that documents such a rule says so
(`DocumentedBounds`, `DocumentedChoice`, `DocumentedText`, `Array`, `Object`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty

from campaigns.rules.strategy import HHMM_MESSAGE, HHMM_PATTERN, parse_hhmm
from campaigns.services.errors import WORDING


def as_integer(value: Any) -> int | None:
    """JSON numbers that are whole (5 or 5.0); booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with a UTC offset (Z or ±hh:mm), converted to UTC.

    Raises ValueError with WORDING's "datetime" words, or its "offset" words for a value
    without an offset (a date alone included), which would otherwise be read as UTC by us and
    in some other zone by the client who wrote it. Converting here keeps offsets PostgreSQL
    refuses (beyond ±15:59, which Python accepts) out of queries, and turns a date pushed past
    year 1 or 9999 by its offset into a validation error instead of a server error.
    """
    if not isinstance(value, str) or len(value) < 10:
        raise ValueError(WORDING["datetime"])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(WORDING["datetime"]) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(WORDING["offset"])
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(WORDING["datetime"]) from None


# -- fields -------------------------------------------------------------------------------------


class Text(serializers.CharField):
    """A JSON string, kept as sent (no trimming); "" is empty, and refused unless allow_blank."""

    default_error_messages = {
        "invalid": WORDING["string"],
        "null": WORDING["string"],
        "blank": WORDING["required"],
        "required": WORDING["required"],
        "max_length": WORDING["max_length"],
        "min_length": WORDING["min_length"],
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class Integer(serializers.IntegerField):
    """A whole JSON number (5 or 5.0), within min_value..max_value."""

    default_error_messages = {
        "invalid": WORDING["integer"],
        "null": WORDING["integer"],
        "required": WORDING["required"],
        "max_value": WORDING["max_value"],
        "min_value": WORDING["min_value"],
    }

    def to_internal_value(self, data: Any) -> int:
        number = as_integer(data)
        if number is None:
            self.fail("invalid")
        return number


class DocumentedBounds(Integer):
    """An integer whose bounds are a rule of the services (rules.strategy.BOUNDS): documented
    here, checked there, in the words the dashboard shows too ("must be an integer from 1 to 20")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            v for v in self.validators if not isinstance(v, MinValueValidator | MaxValueValidator)
        ]


class Boolean(serializers.BooleanField):
    """true or false, nothing else."""

    default_error_messages = {
        "invalid": WORDING["boolean"],
        "null": WORDING["boolean"],
        "required": WORDING["required"],
    }

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class Choice(serializers.ChoiceField):
    """One of `choices`, as a string."""

    default_error_messages = {"null": WORDING["string"], "required": WORDING["required"]}

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        self.error_messages["invalid_choice"] = WORDING["choice"].format(choices=", ".join(self.choices))

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str) or data not in self.choices:
            self.fail("invalid_choice")
        return data


class DocumentedText(Text):
    """A string whose value is a rule of the services (a time zone): "" is theirs to refuse too."""

    def run_validation(self, data: Any = empty) -> Any:
        if data == "":
            return data
        return super().run_validation(data)


class DocumentedChoice(Choice):
    """A string whose values are a rule of the services: listed in the document, checked there."""

    default_error_messages = {"invalid": WORDING["string"]}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return data


class TimeOfDay(serializers.RegexField):
    """HH:MM, 24-hour (rules.strategy), read as a time."""

    default_error_messages = {
        "invalid": HHMM_MESSAGE,
        "null": HHMM_MESSAGE,
        "blank": HHMM_MESSAGE,
        "required": WORDING["required"],
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(HHMM_PATTERN, trim_whitespace=False, **kwargs)

    def to_internal_value(self, data: Any) -> time:
        parsed = parse_hhmm(data)
        if parsed is None:
            self.fail("invalid")
        return parsed

    def run_validators(self, value: Any) -> None:
        """The pattern (the document's) was checked by `to_internal_value`, on the text."""


class Instant(serializers.DateTimeField):
    """An ISO 8601 date-time with its UTC offset (`parse_datetime`), read as a UTC datetime."""

    default_error_messages = {
        "invalid": WORDING["datetime"],
        "null": WORDING["datetime"],
        "required": WORDING["required"],
    }

    def to_internal_value(self, value: Any) -> datetime:
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise ValidationError(str(exc), code="invalid") from None


class Array(serializers.ListField):
    """A JSON array whose items are a rule of the services (their shape is documented by
    `child`, a serializer, and checked there): only the type is checked here."""

    default_error_messages = {"not_a_list": WORDING["array"], "null": WORDING["array"]}

    def to_internal_value(self, data: Any) -> list:
        if not isinstance(data, list):
            self.fail("not_a_list")
        return data


class Object(serializers.JSONField):
    """A JSON object whose keys are a rule of the services (documented by `shape`, a
    serializer, or free-form when there is none): only the type is checked here."""

    default_error_messages = {"invalid": WORDING["object"], "null": WORDING["object"]}

    def __init__(self, *, shape: serializers.Serializer | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        extend_schema_field(shape or {"type": "object", "additionalProperties": {}})(self)

    def to_internal_value(self, data: Any) -> dict:
        if not isinstance(data, Mapping):
            self.fail("invalid")
        return dict(data)


# class-validator's @IsNumber() words (not in services.errors.WORDING, which no service needs yet).
NUMBER_WORDING = "must be a number conforming to the specified constraints"


class Number(serializers.FloatField):
    """A JSON number, whole or not (Vapi's `number`: timeouts and delays in seconds), within
    min_value..max_value; kept as sent (5 stays 5, 2.5 stays 2.5). Booleans are not numbers."""

    default_error_messages = {
        "invalid": NUMBER_WORDING,
        "null": NUMBER_WORDING,
        "required": WORDING["required"],
        "max_value": WORDING["max_value"],
        "min_value": WORDING["min_value"],
    }

    def to_internal_value(self, data: Any) -> int | float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return data


def inline_enum(values: Any, description: str) -> dict[str, Any]:
    """An enum the document shows in place (wrapped in allOf, which drf-spectacular's enum hook
    leaves alone, and kept wrapped by its sibling description): extracted, it would be named
    after its field ("status"), a name several different sets of values share."""
    return {"allOf": [{"type": "string", "enum": list(values)}], "description": description}


class InlineChoice(serializers.ChoiceField):
    """An output ChoiceField whose enum the document shows in place (`inline_enum`)."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, **kwargs)
        extend_schema_field(inline_enum(self.choices, str(self.help_text or "One of these.")))(self)
