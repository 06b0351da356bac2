"""The database holds every index and constraint the models declare, after all the migrations.

Regression: migration 0027 first dropped the call's foreign-key indexes with AlterField, and
Django's AlterField drops every single-column index on the column, call_one_live_per_customer
(a customer is never in two live calls) among them; nothing but one constraint test noticed.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

pytestmark = pytest.mark.django_db


def _declared(model) -> set[str]:
    return {index.name for index in model._meta.indexes} | {c.name for c in model._meta.constraints}


@pytest.mark.parametrize(
    "model",
    [m for m in apps.get_models() if m._meta.app_label in ("campaigns", "dialer") and _declared(m)],
    ids=lambda m: m.__name__,
)
def test_every_declared_index_and_constraint_is_in_the_database(model) -> None:
    with connection.cursor() as cursor:
        present = set(connection.introspection.get_constraints(cursor, model._meta.db_table))

    assert _declared(model) - present == set()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL storage setting")
def test_campaign_rows_leave_room_for_their_updates_on_their_page() -> None:
    """Migration 0028: a running campaign's row is updated all the time; with room on its page the
    update touches none of the table's indexes."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'campaigns_campaign'")
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in (options or [])
