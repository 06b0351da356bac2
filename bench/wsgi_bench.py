"""Dialdeck's WSGI application plus one trivial view, for baselines measured on the same server.

    gunicorn bench.wsgi_bench:application

serves every Dialdeck URL (config.urls) and `POST|GET /bench/noop`, a Django view that reads the
body and answers a small JSON, through the same middleware, settings and database connection
handling as the real endpoints. This module is also the bench's URLconf (ROOT_URLCONF): if
config.urls does not mount the dashboard yet, it mounts campaigns.urls under /app/ (and Django's
login/logout under /accounts/) itself, and says so in DASHBOARD_MOUNTED_BY_BENCH.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import NoReverseMatch, include, path, reverse  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


@csrf_exempt
def noop(request: HttpRequest) -> JsonResponse:
    """What a webhook costs with no work: the body read, a JSON answer."""
    request.body  # noqa: B018
    return JsonResponse({"received": 0})


def _mounted(name: str) -> bool:
    try:
        reverse(name, urlconf="config.urls")
    except NoReverseMatch:
        return False
    return True


# While the dashboard is being written, config.urls may not mount it (nor login/logout, which its
# base template links to) yet: the bench mounts them where they are expected to go.
DASHBOARD_MOUNTED_BY_BENCH = not _mounted("campaigns:list")
LOGIN_MOUNTED_BY_BENCH = not _mounted("logout")

urlpatterns = [
    path("bench/noop", noop, name="bench-noop"),
    *([path("app/", include("campaigns.urls"))] if DASHBOARD_MOUNTED_BY_BENCH else []),
    *([path("accounts/", include("django.contrib.auth.urls"))] if LOGIN_MOUNTED_BY_BENCH else []),
    path("", include("config.urls")),
]

settings.ROOT_URLCONF = __name__
