"""Keyset pages of a list sorted by one of a few whitelisted columns, ties broken by id.

A sort is a `SortField` (the name a URL carries, the expression compared, how a page key's value
reads back). Each sortable column has an index that starts with the list's scope and the sort
expression (models: call_campaign_duration, ...), so a page is one index range read of `size + 1`
rows whatever the list's length: no OFFSET, no COUNT. Nullable columns sort through a Coalesce to a
sentinel below every real value (the same expression the index holds), so a null sorts lowest on
every database. A page key is "value~id"; one that does not parse reads as the first page.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db.models import Expression, F, Q, QuerySet

from campaigns.selectors.common import Page


@dataclass(frozen=True)
class SortField:
    name: str  # as the URL says it (?sort=duration)
    expression: Expression | F
    read: Callable[[str], object]  # a key's value back from text; raises ValueError
    descending_first: bool = False  # the direction of a first click on its header
    unique: bool = False  # no two rows of a list share a value: the key is the value alone


@dataclass(frozen=True)
class Sort:
    field: SortField
    descending: bool

    @property
    def param(self) -> str:
        """As the URL carries it: "duration" or "-duration"."""
        return f"{'-' if self.descending else ''}{self.field.name}"


def read_int(text: str) -> int:
    """ASCII digits only (int() also reads "１２" and " 12 "), within a signed 64-bit column."""
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20):
        raise ValueError(text)
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(text)
    return value


def read_float(text: str) -> float:
    """A finite number written in ASCII (float() also reads "nan", "inf" and other scripts' digits)."""
    if not text.isascii():
        raise ValueError(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def read_datetime(text: str) -> datetime:
    if not text.isascii():
        raise ValueError(text)
    at = datetime.fromisoformat(text)
    if at.utcoffset() is None:
        raise ValueError("a page key's time carries its offset")
    return at.astimezone(UTC)


def read_decimal(text: str) -> Decimal:
    if not text.isascii():
        raise ValueError(text)
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise ValueError(text)
        return value
    except InvalidOperation as exc:
        raise ValueError(text) from exc


def choose(fields: dict[str, SortField], param: str, default: str) -> Sort:
    """The sort a URL asks for ("name" or "-name"), or `default`'s for anything not whitelisted."""
    name = param.lstrip("-")
    if name not in fields:
        return choose(fields, default, default) if param != default else Sort(fields[name], False)
    return Sort(fields[name], param.startswith("-"))


def _key(sort: Sort, row: object) -> str:
    value = row._sort  # type: ignore[attr-defined]
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return text if sort.field.unique else f"{text}~{row.pk}"  # type: ignore[attr-defined]


def _parse(sort: Sort, key: str) -> tuple[object, uuid.UUID | None] | None:
    if not key or len(key) > 200:
        return None
    value, _, pk = key.rpartition("~") if not sort.field.unique else (key, "", "")
    if not value:
        return None
    try:
        return sort.field.read(value), (None if sort.field.unique else uuid.UUID(pk))
    except (ValueError, OverflowError):
        return None


def _beyond(sort: Sort, value: object, pk: uuid.UUID | None, *, forward: bool) -> Q:
    """Rows after (value, pk) in the shown order (forward) or before it. Written as a range on
    the sort column (which the index reads) refined by the tie-break on id."""
    down = sort.descending == forward
    if pk is None:
        return Q(_sort__lt=value) if down else Q(_sort__gt=value)
    if down:
        return Q(_sort__lte=value) & (Q(_sort__lt=value) | Q(pk__lt=pk))
    return Q(_sort__gte=value) & (Q(_sort__gt=value) | Q(pk__gt=pk))


def _exactly(sort: Sort, value: object, pk: uuid.UUID | None) -> Q:
    return Q(_sort=value) if pk is None else Q(_sort=value, pk=pk)


def sorted_page(
    rows: QuerySet, sort: Sort, *, after: str = "", before: str = "", at: str = "", size: int = 25
) -> Page:
    """A page of `rows` in `sort`'s order. `after`: the page following that key; `before`: the one
    preceding it; `at`: the page starting with that key's row (a refresh of the page one is on).
    Page.newer is the previous page's key, Page.older the next page's (as elsewhere), Page.here
    its first row's."""
    rows = rows.annotate(_sort=sort.field.expression)
    shown = ("-_sort", "-pk") if sort.descending else ("_sort", "pk")
    reverse = ("_sort", "pk") if sort.descending else ("-_sort", "-pk")
    back = _parse(sort, before)
    if back is not None:
        found = list(rows.filter(_beyond(sort, *back, forward=False)).order_by(*reverse)[: size + 1])
        more = len(found) > size
        found = list(reversed(found[:size]))
        return Page(
            found,
            newer=_key(sort, found[0]) if more and found else None,
            older=_key(sort, found[-1]) if found else None,
            here=_key(sort, found[0]) if found else None,
        )
    start = _parse(sort, after)
    here = _parse(sort, at) if start is None else None
    if start is not None:
        rows = rows.filter(_beyond(sort, *start, forward=True))
    elif here is not None:
        rows = rows.filter(_beyond(sort, *here, forward=True) | _exactly(sort, *here))
        start = here
    found = list(rows.order_by(*shown)[: size + 1])
    more = len(found) > size
    found = found[:size]
    return Page(
        found,
        newer=_key(sort, found[0]) if start is not None and found else None,
        older=_key(sort, found[-1]) if more else None,
        here=_key(sort, found[0]) if found else None,
    )
