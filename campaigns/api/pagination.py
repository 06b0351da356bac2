"""Vapi's page-number pagination: `page` (from 1) and `limit` (0..1000, default 100), answered as
``{"results": [...], "metadata": {"itemsPerPage", "totalItems", "currentPage"}}``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter

from campaigns.api.serializers.reading import parse_datetime
from campaigns.services import FieldError, ValidationFailed

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far past any real list, and inside the 64-bit integers JSON and the database hold.
MAX_PAGE = 2**31 - 1

PAGE_PARAMETERS = [
    OpenApiParameter(
        "page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
        description="Page number, from 1. Defaults to 1.",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT},
        description="Items per page, 0 to 1000. Defaults to 100.",
    ),
]


class Query:
    """Reads a request's query string; problems collected as FieldErrors, raised by `check`."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = params
        self.errors: list[FieldError] = []

    def integer(self, name: str, *, default: int, low: int, high: int | None = None) -> int:
        raw = self.params.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            self.errors.append(FieldError(name, "must be an integer number"))
            return default
        if value < low:
            self.errors.append(FieldError(name, f"must not be less than {low}"))
        elif high is not None and value > high:
            self.errors.append(FieldError(name, f"must not be greater than {high}"))
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str | None = None) -> str | None:
        raw = self.params.get(name)
        if raw is None:
            return default
        if raw not in options:
            self.errors.append(FieldError(name, f"must be one of the following values: {', '.join(options)}"))
            return default
        return raw

    def datetime(self, name: str):
        raw = self.params.get(name)
        if raw is None:
            return None
        try:
            return parse_datetime(raw)
        except ValueError as exc:
            self.errors.append(FieldError(name, str(exc)))
            return None

    def text(self, name: str) -> str:
        return self.params.get(name, "")

    def page(self) -> tuple[int, int]:
        return (
            self.integer("page", default=1, low=1, high=MAX_PAGE),
            self.integer("limit", default=DEFAULT_LIMIT, low=0, high=MAX_LIMIT),
        )

    def check(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


def paginate(
    queryset: QuerySet, *, page: int, limit: int, render: Callable[[list], list[dict[str, Any]]]
) -> dict[str, Any]:
    """One page of `queryset` rendered by `render`, with Vapi's metadata.

    A page past the end is empty, with totalItems still counting everything.
    """
    total = queryset.count()
    offset = (page - 1) * limit
    items = list(queryset[offset : offset + limit]) if limit and offset < total else []
    return {
        "results": render(items),
        "metadata": {"itemsPerPage": limit, "totalItems": total, "currentPage": page},
    }
