"""What the read modules share: ids that come from outside, and keyset pages.

Nothing here queries by itself; `newest_first` runs the one query of the queryset it is given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q, QuerySet

from campaigns.models import Call, DoNotCall


def as_uuid(value: object) -> uuid.UUID | None:
    """`value` as a UUID, or None when it is not one (a malformed id then matches nothing)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class Page:
    """One page of a keyset-paged list: rows, and the keys of the pages around it (None: none)."""

    rows: list
    newer: str | None = None  # customers: the previous page; calls: newer calls
    older: str | None = None  # customers: the next page; calls: older calls
    here: str | None = None  # sorted lists: the first row's key (`at=` shows this page again)


def _key(row: Call | DoNotCall) -> str:
    return f"{row.created_at.isoformat()}~{row.pk}"


def _parse_key(key: str) -> tuple[datetime, uuid.UUID] | None:
    """A page key written by `_key`, or None for anything else (a link cut short, edited by
    hand, or hostile), which the pager then reads as "the first page": a broken link still
    shows the list. The instant must carry its offset and fit the database's range once in
    UTC; the id must be a UUID (the rows' primary keys)."""
    stamp, _, pk = key.partition("~")
    try:
        at = datetime.fromisoformat(stamp)
        if at.utcoffset() is None:
            return None
        return at.astimezone(UTC), uuid.UUID(pk)
    except (ValueError, OverflowError):
        return None


def later_than(at: datetime, pk: object) -> Q:
    """Rows after (at, pk) in the order (created_at, id): a total order, where created_at alone
    ties (one claim writes many calls, two can share a microsecond)."""
    return Q(created_at__gt=at) | Q(created_at=at, pk__gt=pk)


def earlier_than(at: datetime, pk: object) -> Q:
    """Rows before (at, pk) in the order (created_at, id)."""
    return Q(created_at__lt=at) | Q(created_at=at, pk__lt=pk)


def newest_first(rows: QuerySet, *, older_than: str = "", newer_than: str = "", size: int = 25) -> Page:
    """A page of `rows` newest first by (created_at, id), through an index on them; keys are 'time~id'.

    One query, no COUNT: a neighbour page exists when one row more than `size` comes back.
    The ordering of `rows` is replaced; a key that does not parse reads as the first page.
    """
    newer, older = _parse_key(newer_than), _parse_key(older_than)
    if newer is not None:
        at, pk = newer
        after = rows.filter(later_than(at, pk)).order_by("created_at", "id")
        found = list(after[: size + 1])
        more = len(found) > size
        found = list(reversed(found[:size]))
        return Page(
            found, newer=_key(found[0]) if more and found else None, older=_key(found[-1]) if found else None
        )
    if older is not None:
        at, pk = older
        rows = rows.filter(earlier_than(at, pk))
    found = list(rows.order_by("-created_at", "-id")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=_key(found[0]) if older is not None and found else None,
        older=_key(found[-1]) if more else None,
    )
