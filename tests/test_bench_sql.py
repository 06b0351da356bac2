"""The benchmarks write some rows with raw SQL (a bulk INSERT ... SELECT, a COPY into a copy of the
customer table): each must name every column the database requires, or the benchmark stops
running the day a migration adds one (regression: `time_zone`, then `region` and `postal_code`,
broke bench_import's baseline and bench_reads' fill without any test noticing)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED

BENCH = Path(__file__).resolve().parents[1] / "bench"
# INSERT INTO <table> (<columns>) and COPY <table> (<columns>) FROM STDIN, across lines and strings.
WRITES = re.compile(r"(?:INSERT INTO|COPY)\s+(\w+)\s*\(([^)]*)\)", re.S)
# Tables made LIKE a real one (the import's bare baseline table): they require what it requires.
LIKE = re.compile(r"CREATE TABLE (\w+) \(LIKE (\w+)")


def required(table: str) -> set[str]:
    model = next(m for m in apps.get_models() if m._meta.db_table == table)
    return {
        f.column
        for f in model._meta.concrete_fields
        if not f.null
        and f.db_default is NOT_PROVIDED
        and not getattr(f, "auto_created", False)
        and not f.generated  # the database writes it (Customer.echo); no INSERT may name it
    }


def writes() -> list[tuple[str, str, set[str]]]:
    found = []
    for path in sorted(BENCH.glob("*.py")):
        text = path.read_text()
        like = dict(LIKE.findall(text))
        for table, columns in WRITES.findall(text):
            # Columns may be split over adjacent string literals: drop the quotes between them.
            names = {c.strip() for c in re.sub(r'"\s*"', "", columns).split(",") if c.strip()}
            real = like.get(table, table)
            if real.startswith("campaigns_"):
                found.append((f"{path.name}: {table}", real, names))
    return found


@pytest.mark.parametrize(
    ("where", "table", "columns"), writes(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_raw_write_of_a_benchmark_names_every_required_column(where, table, columns) -> None:
    missing = required(table) - columns
    assert not missing, f"{where} leaves out {sorted(missing)}, which {table} requires"


def test_the_benchmarks_raw_writes_are_all_checked() -> None:
    assert {w.split(": ")[0] for w, _, _ in writes()} >= {"bench_import.py", "bench_reads.py"}
