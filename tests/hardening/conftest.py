from __future__ import annotations

from tests.api.conftest import api  # noqa: F401  (a client with an API key of `org`)
