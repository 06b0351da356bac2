"""The one clock that services and the dialer read: `clock.now()`.

It is Django's `timezone.now()` unless a test moves it (`clock.set_now`), so a test can
interleave imports, lifecycle changes and placement at chosen instants (tests/dialer/
test_compliance_machine.py). Only this process sees a moved clock; Celery workers started
by tests keep the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

_source: Callable[[], datetime] | None = None


def now() -> datetime:
    """The current instant, timezone-aware (UTC)."""
    return _source() if _source is not None else timezone.now()


def set_now(source: Callable[[], datetime] | None) -> None:
    """Read the time from `source` from now on (None: the real clock again)."""
    global _source
    _source = source
