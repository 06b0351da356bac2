"""The house rules of ARCHITECTURE.md that a test can hold.

- The import arrows (campaigns never imports dialer, rules are pure, the layers) are import-linter
  contracts in pyproject.toml: `lint-imports` runs here, in `make lint` and in .ci/run.
- Adapters (the API, the dashboard's views and forms, the admin, template tags, Celery tasks)
  never write a model themselves: every write goes through campaigns/services/.
- The database driver's own cursors (psycopg's, for a prepared statement) are opened only inside
  Django's error wrapper, so a broken connection is dropped at the end of the request.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ADAPTERS = [
    *sorted((ROOT / "campaigns" / "api").rglob("*.py")),
    *sorted((ROOT / "campaigns" / "views").rglob("*.py")),
    *sorted((ROOT / "campaigns" / "forms").rglob("*.py")),
    *sorted((ROOT / "campaigns" / "templatetags").rglob("*.py")),
    ROOT / "campaigns" / "admin.py",
    ROOT / "dialer" / "tasks.py",
]
# Always a write, whatever the receiver (a model instance, a form, a queryset).
WRITES = {"save", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
# A write when called on a manager or a queryset (dict.update and list.update are not).
QUERYSET_WRITES = {"create", "update"}


def writes_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver = ast.unparse(node.func.value)
        on_queryset = ".objects" in receiver or "filter(" in receiver or "exclude(" in receiver
        if node.func.attr in WRITES or (node.func.attr in QUERYSET_WRITES and on_queryset):
            found.append(f"{path.name}:{node.lineno}: {ast.unparse(node.func)}(...)")
    return found


def test_adapters_never_write_models_themselves() -> None:
    found = [write for path in ADAPTERS for write in writes_in(path)]
    assert not found, "write through campaigns.services instead:\n" + "\n".join(found)


def test_the_checker_sees_a_write_when_there_is_one(tmp_path) -> None:
    sample = tmp_path / "view.py"
    sample.write_text("Campaign.objects.filter(pk=1).update(name='x')\nd = {}\nd.update(a=1)\nform.save()\n")
    assert [w.split(": ", 1)[1] for w in writes_in(sample)] == [
        "Campaign.objects.filter(pk=1).update(...)",
        "form.save(...)",
    ]


@pytest.mark.skipif(
    not (Path(sys.executable).parent / "lint-imports").exists(), reason="import-linter not installed"
)
def test_the_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


PRODUCT = [p for folder in ("campaigns", "dialer", "config") for p in sorted((ROOT / folder).rglob("*.py"))]


# What libpq is asked through psycopg's PGconn (dialer.webhooks._store sends the inbox insert so).
LIBPQ_CALLS = ("exec_", "exec_params", "exec_prepared", "prepare", "send_query", "send_query_prepared")


def _raw(node: ast.Call) -> bool:
    func = node.func
    if ast.unparse(func) in ("psycopg.Cursor", "psycopg.ClientCursor", "psycopg.ServerCursor"):
        return True
    if not isinstance(func, ast.Attribute) or func.attr not in LIBPQ_CALLS:
        return False
    return ast.unparse(func.value).endswith("pgconn")


def raw_cursors_in(path: Path) -> list[str]:
    """`psycopg.Cursor(...)` opened, or libpq asked through a `pgconn`, anywhere but in a `with`
    that holds `connection.wrap_database_errors` (in its items or its body)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    wrapped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With | ast.AsyncWith):
            items = [ast.unparse(item.context_expr) for item in node.items]
            if any(item.endswith("wrap_database_errors") for item in items):
                inside = [item.context_expr for item in node.items] + node.body
                wrapped.update(id(sub) for part in inside for sub in ast.walk(part))
    return [
        f"{path.name}:{node.lineno}: {ast.unparse(node)}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _raw(node) and id(node) not in wrapped
    ]


def test_the_drivers_own_cursors_are_opened_inside_djangos_error_wrapper() -> None:
    found = [cursor for path in PRODUCT for cursor in raw_cursors_in(path)]
    assert not found, "open it in `with connection.wrap_database_errors, ...`:\n" + "\n".join(found)


def test_the_raw_cursor_checker_sees_an_unwrapped_one(tmp_path) -> None:
    sample = tmp_path / "store.py"
    sample.write_text(
        "with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as c:\n    pass\n"
        "with psycopg.Cursor(connection.connection) as c:\n    pass\n"
        "with connection.wrap_database_errors:\n    conn.pgconn.exec_prepared(b'n', [])\n"
        "pgconn.exec_params(b'INSERT', [])\n"
    )
    assert sorted(c.split(": ", 1)[1] for c in raw_cursors_in(sample)) == [
        "pgconn.exec_params(b'INSERT', [])",
        "psycopg.Cursor(connection.connection)",
    ]
