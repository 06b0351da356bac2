"""PostgreSQL `timestamptz` values read through psycopg's compiled loader, not its pure-Python one.

Django (5.2, `backends/postgresql/psycopg_any.py`) registers on every connection a loader that
derives from psycopg's pure-Python `TimestamptzLoader` and sets the value's tzinfo to the
connection's zone (UTC here): the compiled loader that psycopg[binary] ships is final, so it
cannot be derived from, and every timestamp read by the ORM is parsed in Python (Django ticket
#36960, psycopg issue #1273). Reading a thousand running campaigns, about 3,000 timestamps, cost
the tick about 12 ms a pass of it.

`TimestamptzLoader` here wraps the compiled loader psycopg itself registers (`psycopg.adapters`,
its public map), and keeps Django's contract: the same `timezone` attribute (Django's
`create_cursor` compares it with the connection's zone and registers its own loader on a cursor
whose zone differs) and the same value, the database's instant with that tzinfo. It is put on
each new connection (`connection_created`); where psycopg has no compiled loader (the pure-Python
build), nothing changes.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format

OID = psycopg.postgres.types["timestamptz"].oid
COMPILED = psycopg.adapters.get_loader(OID, Format.TEXT)


class TimestamptzLoader(Loader):
    """Django's loader for one zone (`timezone`), parsing with psycopg's compiled one."""

    timezone: tzinfo | None = None

    def __init__(self, oid: int, context: Any = None) -> None:
        super().__init__(oid, context)
        self._load = COMPILED(oid, context).load

    def load(self, data: Any) -> datetime:
        return self._load(data).replace(tzinfo=self.timezone)


def use_compiled_loader(sender: object, connection: Any, **kwargs: object) -> None:
    """`connection_created`: on a PostgreSQL connection whose timestamps Django reads with its
    pure-Python loader, read them with the compiled one, in the same zone."""
    if connection.vendor != "postgresql" or getattr(COMPILED, "__module__", "").startswith("psycopg.types"):
        return
    adapters = connection.connection.adapters
    django_loader = adapters.get_loader(OID, Format.TEXT)
    if not issubclass(django_loader, TimestamptzLoader):
        loader = type(
            "TimestamptzLoader",
            (TimestamptzLoader,),
            {"timezone": django_loader.timezone, "__module__": __name__},
        )
        adapters.register_loader(OID, loader)
