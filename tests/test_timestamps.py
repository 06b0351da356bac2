"""PostgreSQL timestamps are read through psycopg's compiled loader (config/timestamps.py), with
the values Django's own loader gives: the instant, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from config.timestamps import OID, TimestamptzLoader

pytestmark = pytest.mark.django_db

WRITTEN = [
    "2026-03-01 23:59:59.999999+00",
    "2026-03-29 01:30:00+01",  # an offset: the instant, written in UTC
    "2026-06-01 12:00:00.5+05:30",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
    "2000-02-29 00:00:00.000001-08",
]


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the loader is PostgreSQL's")
    connection.ensure_connection()


def test_every_connection_and_cursor_reads_timestamps_through_the_compiled_loader(postgresql) -> None:
    from psycopg.pq import Format

    assert issubclass(connection.connection.adapters.get_loader(OID, Format.TEXT), TimestamptzLoader)
    with connection.cursor() as cursor:  # Django's cursor does not put its own loader back
        assert issubclass(cursor.cursor.adapters.get_loader(OID, Format.TEXT), TimestamptzLoader)


def test_the_values_are_those_djangos_own_loader_reads(postgresql) -> None:
    class Djangos(BaseTzLoader):
        timezone = UTC

    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(["%s::timestamptz"] * len(WRITTEN)), WRITTEN)
        read = cursor.fetchone()
        cursor.execute("SELECT " + ", ".join(["%s::timestamptz::text"] * len(WRITTEN)), WRITTEN)
        texts = cursor.fetchone()
    djangos = [Djangos(OID, connection.connection).load(text.encode()) for text in texts]
    assert list(read) == djangos
    assert all(value.tzinfo is UTC for value in read)
    assert read[1] == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert read[2] == datetime(2026, 6, 1, 6, 30, 0, 500_000, tzinfo=UTC)


def test_a_timestamp_written_by_the_orm_is_read_back_the_same(postgresql, org) -> None:
    from campaigns.models import Organization

    moment = datetime(2026, 12, 5, 9, 35, 45, 782_861, tzinfo=timezone(timedelta(hours=-5)))
    Organization.objects.filter(pk=org.pk).update(dialing_paused_at=moment)

    read = Organization.objects.values_list("dialing_paused_at", flat=True).get(pk=org.pk)

    assert read == moment and read.tzinfo is UTC
