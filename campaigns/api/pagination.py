"""Vapi's page-number pagination, answered as
``{"results": [...], "metadata": {"itemsPerPage", "totalItems", "currentPage"}}``; `page` and
`limit` are read by the query serializers (serializers/query.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet


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
