"""The house rules of ARCHITECTURE.md that a test can hold.

- The import arrows (campaigns never imports dialer, rules are pure, the layers) are import-linter
  contracts in pyproject.toml: `lint-imports` runs here, in `make lint` and in .ci/run.
- Adapters (the API, the dashboard's views and forms, the admin, template tags, Celery tasks)
  never write a model themselves: every write goes through campaigns/services/.
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
