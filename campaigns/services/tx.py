"""Transactions and row locks: one lock order everywhere, and a retry when the database asks.

Lock order. A transaction that locks more than one of these takes them in this order, and
several rows of one kind in id order:

1. organization rows;
2. campaign rows;
3. contact list rows (a campaign's snapshot holds KEY SHARE on its lists; a list's import and
   deletion take UPDATE on the list alone);
4. customer rows;
5. call rows (then their logs).

Caller IDs (phone number rows) sit outside this order: the last gate reads its calls' caller IDs
FOR SHARE after the campaign rows, and what changes a caller ID (a disable, a rest) locks that
row alone, so it waits for the gates in progress and takes no lock any gate waits for.

Every transaction that changes customers or calls of a campaign locks the campaign row first
(`lock_campaigns`), so within a campaign they queue on that one row and cannot deadlock; the
only exceptions are single statements that take no other lock (the placement take, which
skips locked rows, and the hand-backs of stalled calls).

Lock modes on the campaign row (PostgreSQL; SQLite's IMMEDIATE transactions serialize every
writer, so the modes are no-ops there):

- UPDATE: lifecycle changes and strategy edits (start, pause, resume, end, finish, delete,
  update). Excludes everything below, so once one has committed every later reader sees it.
- NO KEY UPDATE: writers of counters, customers and calls (dispatch, outcome recording,
  do-not-call additions). They exclude each other and lifecycle changes, not the readers below.
- KEY SHARE: the last gate before a call leaves, and bulk imports. They exclude lifecycle
  changes only: an end waits for the gate transactions and imports in progress, and the gates
  and imports that come after it see the campaign ended.

`retry_on_conflict` runs a service again when PostgreSQL broke a deadlock or a serialization
conflict by aborting it, instead of letting the request answer 500.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import logging
import random
import re
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import Field, Model

from campaigns.models import Campaign, ContactList, Customer, Organization

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
Mode = Literal["update", "no_key_update", "key_share"]

# deadlock_detected, serialization_failure, lock_not_available
CONFLICTS = frozenset({"40P01", "40001", "55P03"})
ATTEMPTS = 5


def is_conflict(error: BaseException) -> bool:
    """Whether the database aborted the transaction to break a conflict (worth running again)."""
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) in CONFLICTS


class _RolledBack(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, value: object) -> None:
        super().__init__("dry run")
        self.value = value


def dry_run(work: Callable[[], T]) -> T:
    """What `work` would do, saving nothing: it runs in a transaction (a savepoint inside the
    caller's) that is always rolled back, with its on-commit hooks; its answer is returned.
    For "what if I saved this": the builder's pre-flight of settings and customers not saved yet."""
    try:
        with transaction.atomic():
            raise _RolledBack(work())
    except _RolledBack as done:
        return done.value  # type: ignore[return-value]


def retry_on_conflict(function: F) -> F:
    """Run `function` in a transaction; if the database aborts it for a deadlock or a
    serialization failure, run it again (up to ATTEMPTS times, with a short random wait).

    Inside a caller's transaction it only joins it: the outermost transaction is the one
    that can be run again, so the retry belongs to whoever opened it.
    """

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        if connection.in_atomic_block:
            with transaction.atomic():
                return function(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return function(*args, **kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or not is_conflict(error):
                    raise
                log.warning("%s met a %s; running it again", function.__qualname__, type(error.__cause__))
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]


def lock_organizations(organization_ids: Iterable[object], mode: Mode) -> None:
    """Lock organization rows in the caller's transaction (see the module docstring), in id order."""
    _lock(Organization, organization_ids, mode)


def lock_campaigns(campaign_ids: Iterable[object], mode: Mode) -> None:
    """Lock campaign rows in the caller's transaction (see the module docstring), in id order.

    Inside `campaigns_held` (the caller already holds some campaign rows), rows before the last
    one held are taken without waiting (NOWAIT: the database refuses at once, lock_not_available,
    a conflict the caller's transaction is run again for: retry_on_conflict, dialer.webhooks)
    rather than risk a deadlock; the others are waited for."""
    ids = {str(i) for i in campaign_ids}
    last = max(_HELD.get(), default="")
    _lock(Campaign, {i for i in ids if i < last}, mode, nowait=True)
    _lock(Campaign, {i for i in ids if i >= last}, mode)


# The campaign rows the current transaction holds (campaigns_held).
_HELD: ContextVar[frozenset[str]] = ContextVar("campaigns_held", default=frozenset())


@contextmanager
def campaigns_held(campaign_ids: Iterable[object]) -> Iterator[None]:
    """Within this block the caller's transaction holds these campaign rows (a batch of outcomes
    locked them): a lock_campaigns inside it (an opt-out skipping the number in other campaigns)
    never waits for a row before the last one held."""
    token = _HELD.set(_HELD.get() | {str(i) for i in campaign_ids})
    try:
        yield
    finally:
        _HELD.reset(token)


def lock_customers(customer_ids: Iterable[object]) -> None:
    """Lock customer rows FOR UPDATE, in id order, in the caller's transaction (see the module
    docstring: after their campaigns, before their calls)."""
    _lock(Customer, customer_ids, "update")


def lock_contact_lists(list_ids: Iterable[object], mode: Mode) -> None:
    """Lock contact list rows, in id order, in the caller's transaction (see the module docstring)."""
    _lock(ContactList, list_ids, mode)


def _lock(model: type, ids: Iterable[object], mode: Mode, *, nowait: bool = False) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError("row locks only last for a transaction: call this inside one")
    if isinstance(ids, str | uuid.UUID):  # one id, whose characters would be taken for ids
        raise TypeError("pass the rows' ids as a collection, not one id")
    ids = sorted({str(i) for i in ids})
    if not ids or connection.vendor != "postgresql":
        return
    clause = {"update": "UPDATE", "no_key_update": "NO KEY UPDATE", "key_share": "KEY SHARE"}[mode]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {model._meta.db_table} WHERE {pk.column} = ANY(%s)"
            f" ORDER BY {pk.column} FOR {clause}{' NOWAIT' if nowait else ''}",
            [[pk.to_python(i) for i in ids]],
        )


def update_rows(
    model: type[Model],
    objs: Sequence[Any],
    fields: Sequence[str],
    *,
    add: bool | Collection[str] = False,
    if_null: str = "",
) -> int:
    """Write `fields` of each of `objs` (rows the caller has locked; model instances, or any
    object with `.pk` and an attribute per field's attname) as the objects hold them, in
    one statement: UPDATE ... FROM (VALUES ...), on PostgreSQL and SQLite alike. With `add` (True:
    every field; or the names of some), the objects hold amounts added to those columns (counters
    moved: column = column + amount); the other fields are set. With
    `if_null` (a field's name), only the rows where that field is still NULL are written (a first
    time kept: a customer's first dial). Returns how many rows were written.

    What Model.save(update_fields=...) does row by row (one round trip each), and what
    QuerySet.bulk_update does with a CASE per field and row (whose expressions cost more Python
    than the round trips they save). Like bulk_update it sends no signals and sets no auto_now
    field unless named. On PostgreSQL each value is cast to its column's type without a length
    or a precision (a cast to varchar(n) would cut a long value silently; assignment checks it).
    """
    if not objs:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    pg = connection.vendor == "postgresql"

    def slot(field: Field) -> str:
        return f"%s::{_cast(field)}" if pg else "%s"

    row = "(" + ", ".join(slot(field) for field in (meta.pk, *columns)) + ")"
    params: list[object] = []
    prepare = [_preparer(field) for field in columns]
    for obj in objs:
        params.append(meta.pk.get_db_prep_value(obj.pk, connection))
        params += [prep(getattr(obj, field.attname)) for prep, field in zip(prepare, columns, strict=True)]
    table = quote(meta.db_table)
    added = set(fields) if add is True else set(add or ())
    plus = [
        f"{table}.{quote(field.column)} + " if name in added else ""
        for name, field in zip(fields, columns, strict=True)
    ]
    sets = ", ".join(
        f"{quote(field.column)} = {plus[i - 2]}v.column{i}" for i, field in enumerate(columns, start=2)
    )
    unset = f" AND {table}.{quote(meta.get_field(if_null).column)} IS NULL" if if_null else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row] * len(objs))}) AS v"
            f" WHERE {table}.{quote(meta.pk.column)} = v.column1{unset}",
            params,
        )
        return cursor.rowcount


def _preparer(field: Field) -> Callable[[Any], Any]:
    """field.get_db_prep_save, once per distinct value (counters moved by 0 or 1, the same status
    on every row: most values of a batch repeat); a value that cannot be a key (JSON) each time."""
    prepared: dict = {}

    def prepare(value: Any) -> Any:
        try:
            return prepared[type(value), value]
        except KeyError:
            prepared[type(value), value] = result = field.get_db_prep_save(value, connection)
            return result
        except TypeError:
            return field.get_db_prep_save(value, connection)

    return prepare


def _cast(field: Field) -> str:
    """The PostgreSQL type a value of `field` is cast to: its column's, without a length or a
    precision (a cast to varchar(n) would cut a long value silently; assignment checks it)."""
    kind = re.sub(r"\(.*\)", "", field.db_type(connection)).strip()
    return "text" if kind == "varchar" else kind


# What a column's values may be here (psycopg writes these as array elements; bool is an int);
# anything else (JSON, expressions) goes through bulk_create.
_PLAIN = (str, int, float, decimal.Decimal, uuid.UUID, datetime.datetime, datetime.date, datetime.time)


def insert_rows(model: type[Model], objs: Sequence[Model]) -> None:
    """Insert new model instances, their primary keys set already (a UUID default), as
    bulk_create would, in one statement: on PostgreSQL, INSERT ... SELECT FROM unnest(one array
    per column whose values differ), each value prepared for the database once per distinct
    value, the columns all rows share sent once.

    Django's bulk_create prepares every field of every row on its own: writing a claim's calls
    (34 columns) cost 106 µs of Python a call on PostgreSQL, against 58 µs here. Sends no
    signals, as bulk_create does not; auto_now(_add) fields are set per row, as it sets them.
    Falls back to bulk_create on SQLite, and where a value is not a plain one (JSON, an
    expression such as a database default)."""
    if not objs:
        return
    meta = model._meta
    if connection.vendor != "postgresql" or any(obj.pk is None for obj in objs):
        model._default_manager.bulk_create(objs)
        return
    columns, selected, shared, arrays = [], [], [], []
    for field in meta.concrete_fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values = [field.pre_save(obj, True) for obj in objs]
        else:
            values = [getattr(obj, field.attname) for obj in objs]
        prepare = _preparer(field)
        column = [prepare(value) for value in values]
        if not all(value is None or isinstance(value, _PLAIN) for value in column):
            model._default_manager.bulk_create(objs)  # JSON, an expression: Django's way
            return
        if len(set(column)) == 1:  # every row the same: sent once
            selected.append(f"%s::{_cast(field)}")
            shared.append(column[0])
        else:
            arrays.append((_cast(field), column))
            selected.append(f"u.c{len(arrays)}")
        columns.append(connection.ops.quote_name(field.column))
    table = connection.ops.quote_name(meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(selected)}"
    if arrays:  # (one row: every value is shared)
        names = ", ".join(f"c{i}" for i in range(1, len(arrays) + 1))
        sql += f" FROM unnest({', '.join(f'%s::{kind}[]' for kind, _ in arrays)}) AS u({names})"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*shared, *(column for _, column in arrays)])
    for obj in objs:  # as bulk_create leaves them: saved, in the database they were written to
        obj._state.adding, obj._state.db = False, connection.alias
