"""Refusals answered to htmx as 200, so browsers do not log every refused form as a failure.

A dashboard form refused for its input answers 422 (a transition refused for the state, 409):
right for a plain browser post and for tests, but Chromium logs every 4xx XHR as a console error,
and a supervisor's console fills with "failures" that are only a form asking for a fix. For an
htmx request the status becomes 200 and the original goes in the `HX-Refused` header (what htmx
would have swapped is the same page or fragment with the errors). Other statuses are untouched.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

REFUSALS = (409, 422)


class HtmxRefusalMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in REFUSALS and request.headers.get("HX-Request") == "true":
            response["HX-Refused"] = str(response.status_code)
            response.status_code = 200
            response.reason_phrase = "OK"
        return response
