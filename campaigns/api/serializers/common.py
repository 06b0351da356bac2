"""Pieces every resource shares: timestamps, opaque objects, the error envelope, pagination."""

from __future__ import annotations

from datetime import UTC, datetime

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers


def iso(value: datetime | str | None) -> str | None:
    """UTC with milliseconds and Z, as Vapi writes timestamps: 2026-10-01T09:12:30.117Z.

    A string is taken as already written so (the database formatted it, see selectors)."""
    if value is None or isinstance(value, str):
        return value
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


@extend_schema_field({"type": "object", "additionalProperties": {}})
class OpaqueObjectField(serializers.JSONField):
    """A JSON object kept as sent (assistantOverrides is the provider's business)."""


class ErrorSerializer(serializers.Serializer):
    """Vapi's error envelope (NestJS): every problem found, each naming its field."""

    message = serializers.ListField(
        child=serializers.CharField(),
        help_text='e.g. ["customers.0.number must be a valid phone number in E.164 format"]',
    )
    error = serializers.CharField(help_text="The HTTP reason phrase, e.g. Bad Request.")
    statusCode = serializers.IntegerField()


class ConflictSerializer(ErrorSerializer):
    """409: the campaign's status does not allow the change; `status` is the current one."""

    status = serializers.CharField(help_text="The current status, e.g. ended.")


@extend_schema_serializer(component_name="PaginationMeta")
class PaginationMetaSerializer(serializers.Serializer):
    itemsPerPage = serializers.IntegerField()
    totalItems = serializers.IntegerField()
    currentPage = serializers.IntegerField()
    totalPages = serializers.IntegerField(required=False, help_text="Absent when limit is 0.")
    hasNextPage = serializers.BooleanField(required=False, help_text="Absent when limit is 0.")
    sortOrder = serializers.ChoiceField(
        choices=("ASC", "DESC"), required=False, help_text="Lists that have a sortOrder."
    )
    createdAtLe = serializers.DateTimeField(required=False, help_text="The createdAtLe given, if any.")
    createdAtGe = serializers.DateTimeField(required=False, help_text="The createdAtGe given, if any.")


def paginated(name: str, item: type[serializers.Serializer], doc: str) -> type[serializers.Serializer]:
    """A `{results, metadata}` page of `item`, as Vapi's list endpoints answer."""
    serializer = type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": doc,
            "results": item(many=True),
            "metadata": PaginationMetaSerializer(),
        },
    )
    return extend_schema_serializer(component_name=name)(serializer)
