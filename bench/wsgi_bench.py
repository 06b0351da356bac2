"""Dialdeck's WSGI application plus one trivial view, for baselines measured on the same server.

    gunicorn bench.wsgi_bench:application

serves every Dialdeck URL (config.urls) and `POST|GET /bench/noop`, a Django view that reads the
body and answers a small JSON, through the same middleware, settings and database connection
handling as the real endpoints. This module is the bench's URLconf (ROOT_URLCONF).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


@csrf_exempt
def noop(request: HttpRequest) -> JsonResponse:
    """What a webhook costs with no work: the body read, a JSON answer."""
    request.body  # noqa: B018
    return JsonResponse({"received": 0})


urlpatterns = [
    path("bench/noop", noop, name="bench-noop"),
    path("", include("config.urls")),
]

settings.ROOT_URLCONF = __name__
