"""A WSGI application that answers how its process's cyclic collector is set (tests/test_collector.py),
served by gunicorn with the project's config as the web process is."""

from __future__ import annotations

import gc
import json

from config.wsgi import application as _product  # noqa: F401 - loads Django, as the web process does


def application(environ, start_response):  # noqa: ANN001, ANN201 (WSGI)
    body = json.dumps({"threshold": gc.get_threshold(), "frozen": gc.get_freeze_count()}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
