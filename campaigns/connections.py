""" "Test connection": a harmless authenticated request to an account's provider.

The domain never imports the dialer, which knows how to talk to each provider; the dialer
registers its checker here when it starts (dialer.apps), and the dashboard and the API ask
`check`. Nothing is stored: the answer is shown to whoever asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaigns.models import ProviderAccount


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    summary: str  # the request and what came of it, in a line, credentials redacted
    http_status: int | None = None


Checker = Callable[["ProviderAccount"], ConnectionCheck]
_checkers: list[Checker] = []


def register(checker: Checker) -> None:
    """Called once by the dialer's AppConfig.ready."""
    _checkers[:] = [checker]


def check(account: ProviderAccount) -> ConnectionCheck:
    """Ask the account's provider something harmless with its credentials; never raises for the
    provider's failures (they are the answer)."""
    if not _checkers:
        return ConnectionCheck(False, "the dialer is not installed: nothing can reach providers")
    return _checkers[0](account)
