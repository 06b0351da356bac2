"""Browser tests: Playwright driving Debian's chromium against pytest-django's live server.

`playwright install` cannot download browsers here, so the chromium on PATH is
launched explicitly (research/stack.md §4). Without it every test in this
folder is skipped, and the run says so loudly at the end.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop

CHROMIUM = shutil.which("chromium")
HERE = Path(__file__).parent
SCREENSHOTS = HERE.parent.parent / "test-artifacts" / "screenshots"
MISSING = (
    "!!! BROWSER TESTS SKIPPED: Debian's chromium is not on PATH. "
    "Install it (`apt-get install chromium`, or `make browser`) to run tests/e2e."
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM is not None:
        return
    for item in items:
        if HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.skip(reason=MISSING))


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001
    if CHROMIUM is None:
        terminalreporter.section("browser tests", sep="!", red=True, bold=True)
        terminalreporter.line(MISSING, red=True, bold=True)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 800},
        "locale": "en-GB",
        "accept_downloads": True,
    }
