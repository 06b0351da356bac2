"""Vapi's page-number pagination, answered as ``{"results": [...], "metadata": PaginationMeta}``;
`page` and `limit` are read by the query serializers (serializers/query.py).

PaginationMeta: `itemsPerPage`, `totalItems`, `currentPage` always; `totalPages` and
`hasNextPage` unless limit is 0; `sortOrder` and the `createdAtGe`/`createdAtLe` bounds as the
list was asked for, when it has them. No `nextCursor`: no campaign endpoint takes a cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import QuerySet


def paginate(
    queryset: QuerySet,
    *,
    page: int,
    limit: int,
    render: Callable[[list], list[dict[str, Any]]],
    total: int | None = None,
    echo: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One page of `queryset` rendered by `render`, with Vapi's metadata.

    `total`: how many items the whole list has, when the caller knows it without counting (a
    campaign's contacts: its counters); otherwise the queryset is counted. `echo`: metadata
    keys to add as they are (sortOrder, createdAtGe...). A page past the end is empty, with
    totalItems still counting everything.
    """
    total = queryset.count() if total is None else total
    offset = (page - 1) * limit
    items = list(queryset[offset : offset + limit]) if limit and offset < total else []
    metadata: dict[str, Any] = {"itemsPerPage": limit, "totalItems": total, "currentPage": page}
    if limit:
        pages = -(-total // limit)
        metadata.update(totalPages=pages, hasNextPage=page < pages)
    metadata.update(echo or {})
    return {"results": render(items), "metadata": metadata}
