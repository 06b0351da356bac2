"""Query strings of the list endpoints, one serializer each: its fields check the parameters and
document them (`extend_schema(parameters=[...])`). Unknown parameters are ignored; a parameter
given twice is read at its last value (unless it is a list, such as the contacts' status); every
problem is reported, in the order of the fields. Vapi's page-number pagination: `page` (from 1)
and `limit` (0..1000, default 100), integers that may be written as floats (2.0)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.serializers import as_serializer_error

from campaigns.api.serializers.fields import Choice, Instant, Integer, Text
from campaigns.api.serializers.request import Problems
from campaigns.models import CallStatus, CampaignStatus, CustomerState
from campaigns.rules import contacts
from campaigns.selectors.customers import OBJECTIVE_FILTERS
from campaigns.services.errors import WORDING

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far past any real list, and inside the 64-bit integers JSON and the database hold.
MAX_PAGE = 2**31 - 1
SORT_ORDERS = ("ASC", "DESC")
SORT_BY = ("createdAt", "duration", "cost")
DEFAULT_CONTACTS = 50
# A decimal number's text, as int() read integers before (sign, leading zeros and surrounding
# spaces allowed) and as JSON writes floats; not NaN, Infinity, hex or underscores.
NUMBER = re.compile(r"\s*[+-]?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?\s*")
# Beyond every bound of every query integer: larger values are refused as "greater than" without
# being converted (an exponent of a billion digits would take a long time to become an int).
HUGE = Decimal(2**63)
# Campaign list bounds: query suffix, ORM lookup, and how it reads.
TIME_BOUNDS = (("Gt", "gt", ">"), ("Lt", "lt", "<"), ("Ge", "gte", ">="), ("Le", "lte", "<="))
TIME_FIELDS = (("createdAt", "created_at"), ("updatedAt", "updated_at"))


class QueryInteger(Integer):
    """An integer written in a query string, as a JSON number may write it: `2`, `2.0` or `2e0`
    (Vapi's schema types `page` and `limit` as numbers, and some clients print every number as a
    float). A fraction (`2.5`), `NaN`, `Infinity` or anything else is not an integer."""

    def to_internal_value(self, data: Any) -> int:
        if not isinstance(data, str) or not NUMBER.fullmatch(data):
            self.fail("invalid")
        value = Decimal(data.strip())
        if value != value.to_integral_value():
            self.fail("invalid")
        return int(max(-HUGE, min(HUGE, value)))


class QueryChoice(Choice):
    """One of `choices`; "" is not one of them."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, allow_blank=True, **kwargs)  # allow_blank: no minLength documented


class QueryBoolean(Choice):
    """true or false, as a query string writes them (any case)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(("true", "false"), **kwargs)
        self.error_messages["invalid_choice"] = WORDING["boolean"]

    def to_internal_value(self, data: Any) -> bool:
        return super().to_internal_value(data.lower() if isinstance(data, str) else data) == "true"


class QueryBooleanSchema(OpenApiSerializerFieldExtension):
    target_class = QueryBoolean

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "boolean"}


class QueryChoices(serializers.ListField):
    """A parameter given once or repeated (?status=a&status=b), each value one of `choices`."""

    repeated = True

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(child=QueryChoice(choices), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        values = []
        for value in data:
            values.append(self.child.run_validation(value))  # refused: named by the parameter
        return list(dict.fromkeys(values))


class QueryChoiceSchema(OpenApiSerializerFieldExtension):
    """A query parameter's choices as the document lists them: sorted, with no per-value list."""

    target_class = QueryChoice

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        return {"type": "string", "enum": sorted(self.target.choices, key=str)}


class QuerySerializer(serializers.Serializer):
    """A request's query string; `validated_data` holds every field, at its `fallbacks` value
    (None when there is none) when the parameter is absent."""

    fallbacks: ClassVar[dict[str, Any]] = {"page": 1, "limit": DEFAULT_LIMIT}

    def run_validation(self, data: Any = empty) -> dict[str, Any]:
        try:
            return self.to_internal_value(data)
        except ValidationError as exc:
            raise ValidationError(detail=as_serializer_error(exc)) from None

    def to_internal_value(self, params: Any) -> dict[str, Any]:
        problems = Problems()
        values = {}
        for name, field in self.fields.items():
            values[name] = self.fallbacks.get(name)
            # A repeated parameter (?status=a&status=b) is read whole by a field that takes lists.
            raw = (params.getlist(name) or None) if getattr(field, "repeated", False) else params.get(name)
            if raw is None:
                continue
            try:
                values[name] = field.run_validation(raw)
            except ValidationError as exc:
                problems.set(name, exc.detail)
        problems.raise_any()
        return values


def read_query(serializer: type[QuerySerializer], params: Any) -> dict[str, Any]:
    """The query string read by `serializer`; raises ValidationError naming every bad parameter."""
    query = serializer(data=params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def _page() -> dict[str, serializers.Field]:
    return {
        "page": QueryInteger(
            required=False, min_value=1, max_value=MAX_PAGE, help_text="Page number, from 1. Defaults to 1."
        ),
        "limit": QueryInteger(
            required=False,
            min_value=0,
            max_value=MAX_LIMIT,
            help_text=f"Items per page, 0 to {MAX_LIMIT}. Defaults to {DEFAULT_LIMIT}.",
        ),
    }


class PageQuery(QuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return _page()


def _bounds() -> dict[str, serializers.Field]:
    return {
        f"{name}{suffix}": Instant(
            required=False, help_text=f"{name} {op} this instant (with its offset: Z or ±hh:mm)."
        )
        for name, _ in TIME_FIELDS
        for suffix, _, op in TIME_BOUNDS
    }


class CampaignListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "sortOrder": "DESC", "sortBy": "createdAt"}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            **_bounds(),
            "id": Text(required=False, allow_blank=True, help_text="Only the campaign with this id."),
            "status": QueryChoice(
                CampaignStatus.values,
                required=False,
                help_text="in-progress includes paused campaigns (they read in-progress); `paused` "
                "(Dialdeck's) only those. Archived campaigns are listed only with status=archived.",
            ),
            "sortOrder": QueryChoice(SORT_ORDERS, required=False, help_text="Defaults to DESC."),
            "sortBy": QueryChoice(
                SORT_BY,
                required=False,
                help_text="createdAt (default), cost (the sum of its calls' costs) or duration (of "
                "its calls' talk time); ties by createdAt.",
            ),
        }


class CampaignV2ListQuery(CampaignListQuery):
    fallbacks = {**CampaignListQuery.fallbacks, "includeCounters": False}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {**super().get_fields(), "includeCounters": counters_parameter()}


def counters_parameter() -> QueryBoolean:
    return QueryBoolean(
        required=False, help_text="Add contactCounters and callMetrics to each campaign. Defaults to false."
    )


class CampaignSummaryQuery(QuerySerializer):
    fallbacks = {"includeCounters": False}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"includeCounters": counters_parameter()}


class ContactListQuery(QuerySerializer):
    fallbacks = {"page": 1, "limit": DEFAULT_CONTACTS, "sortBy": "position", "status": []}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "status": QueryChoices(
                contacts.STATUSES, required=False, help_text="Repeat to list contacts in any of several."
            ),
            **_page(),
            "limit": QueryInteger(
                required=False,
                min_value=1,
                max_value=MAX_LIMIT,
                help_text=f"1 to {MAX_LIMIT}. Defaults to {DEFAULT_CONTACTS}.",
            ),
            "sortBy": QueryChoice(
                ("position", "status"),
                required=False,
                help_text="position (default): upload order, which is dial order; status: in the order "
                "of the status list (pending, dispatched, completed, failed, skipped, predial-failed).",
            ),
        }


class PhoneNumberListQuery(QuerySerializer):
    """Vapi's GET /phone-number: a limit and time bounds (a caller ID is never updated: updatedAt
    is createdAt)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {"limit": _page()["limit"], **_bounds()}


class PhoneNumberPageQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "sortOrder": "DESC", "search": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            "search": Text(
                required=False, allow_blank=True, max_length=100, help_text="Part of the number or name."
            ),
            **_page(),
            "sortOrder": QueryChoice(SORT_ORDERS, required=False, help_text="By createdAt; default DESC."),
            "sortBy": QueryChoice(
                SORT_BY, required=False, help_text="Caller IDs have no cost or duration: by createdAt."
            ),
            **_bounds(),
        }


class CustomerListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "reason": "", "objective": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            "state": QueryChoice(CustomerState.values, required=False),
            "reason": Text(
                required=False, allow_blank=True, help_text="e.g. do_not_call, outside_calling_hours."
            ),
            "objective": QueryChoice(
                OBJECTIVE_FILTERS,
                required=False,
                help_text="What the latest structured result said of the objective (unknown: nothing).",
            ),
        }


class CallListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "sortOrder": "DESC", "endedReason": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            "status": QueryChoice(CallStatus.values, required=False),
            "include": QueryChoice(("log",), required=False, help_text="log: add each call's log."),
            "sortOrder": QueryChoice(SORT_ORDERS, required=False, help_text="By createdAt; default DESC."),
            "endedReason": Text(
                required=False, allow_blank=True, help_text="Vapi's Call.endedReason, e.g. voicemail."
            ),
        }


class DoNotCallListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "number": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            "number": Text(required=False, allow_blank=True, help_text="Numbers containing this text."),
        }
