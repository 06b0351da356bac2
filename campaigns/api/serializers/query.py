"""Query strings of the list endpoints, one serializer each: its fields check the parameters and
document them (`extend_schema(parameters=[...])`). Unknown parameters are ignored; a parameter
given twice is read at its last value; every problem is reported, in the order of the fields.
Vapi's page-number pagination: `page` (from 1) and `limit` (0..1000, default 100)."""

from __future__ import annotations

from typing import Any, ClassVar

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.fields import empty
from rest_framework.serializers import as_serializer_error

from campaigns.api.serializers.fields import Choice, Instant, Integer, Text
from campaigns.api.serializers.request import Problems
from campaigns.models import CallStatus, CampaignStatus, CustomerState

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far past any real list, and inside the 64-bit integers JSON and the database hold.
MAX_PAGE = 2**31 - 1
SORT_ORDERS = ("ASC", "DESC")
# Campaign list bounds: query suffix, ORM lookup, and how it reads.
TIME_BOUNDS = (("Gt", "gt", ">"), ("Lt", "lt", "<"), ("Ge", "gte", ">="), ("Le", "lte", "<="))
TIME_FIELDS = (("createdAt", "created_at"), ("updatedAt", "updated_at"))


class QueryInteger(Integer):
    """An integer written in a query string."""

    def to_internal_value(self, data: Any) -> int:
        try:
            return int(data)
        except (TypeError, ValueError):
            self.fail("invalid")


class QueryChoice(Choice):
    """One of `choices`; "" is not one of them."""

    def __init__(self, choices: Any, **kwargs: Any) -> None:
        super().__init__(choices, allow_blank=True, **kwargs)  # allow_blank: no minLength documented


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
            raw = params.get(name)
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


class CampaignListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "sortOrder": "DESC", "sortBy": "createdAt"}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            **{
                f"{name}{suffix}": Instant(
                    required=False, help_text=f"{name} {op} this instant (with its offset: Z or ±hh:mm)."
                )
                for name, _ in TIME_FIELDS
                for suffix, _, op in TIME_BOUNDS
            },
            "id": Text(required=False, allow_blank=True, help_text="Only the campaign with this id."),
            "status": QueryChoice(CampaignStatus.values, required=False, help_text="`paused` is Dialdeck's."),
            "sortOrder": QueryChoice(
                SORT_ORDERS, required=False, help_text="By createdAt. Defaults to DESC."
            ),
            "sortBy": QueryChoice(
                ("createdAt", "duration", "cost"),
                required=False,
                help_text="Campaigns have no duration or cost: every value sorts by createdAt.",
            ),
        }


class CustomerListQuery(QuerySerializer):
    fallbacks = {**QuerySerializer.fallbacks, "reason": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            "state": QueryChoice(CustomerState.values, required=False),
            "reason": Text(
                required=False, allow_blank=True, help_text="e.g. do_not_call, outside_calling_hours."
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
