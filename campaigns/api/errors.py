"""Every error in Vapi's envelope: ``{"message": [...], "error": "Bad Request", "statusCode": 400}``.

One handler maps domain errors (ValidationFailed 400, InvalidTransition 409 with the
current `status`, NotFound 404) and DRF's own (400 from the serializers, 401, 403, 404, 405,
415, 429, parse errors) so no client input ever ends in a 500. Each problem becomes one
message naming its field by its path in the API: a serializer's problems by where they are in
the body (``customers.3.number must be …``), a service's through the one translation of its
names (api/names.py: ``strategy.max_attempts`` is ``dialingStrategy.maxAttempts``).
Paths that name no route at all answer the same envelope (`not_found`, Django's handler404).
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from campaigns.api.names import api_path
from campaigns.api.serializers.request import NON_FIELD
from campaigns.services import FieldError, InvalidTransition, NotFound, ValidationFailed


def envelope(code: int, messages: list[str], **extra: Any) -> dict[str, Any]:
    return {"message": messages, "error": HTTPStatus(code).phrase, "statusCode": code, **extra}


def message_for(error: FieldError) -> str:
    """A FieldError as one message. Rows of a file read ``line 7: number must be …``."""
    if error.field.startswith("line "):
        line, _, rest = error.field.partition(".")
        return f"{line}: {rest} {error.message}" if rest else f"{line}: {error.message}"
    return str(error)


def problems(detail: Any, path: str = "") -> Iterator[FieldError]:
    """DRF error details (nested dicts by key, lists by index, messages) as FieldErrors by path.

    A list holds a field's messages, or one entry per item of an array (indexed; valid items
    are empty). A message coded "body" is about the whole body and names no field.
    """
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in (NON_FIELD, "detail") else str(key)
            yield from problems(value, f"{path}.{name}" if path and name else path or name)
    elif isinstance(detail, list):
        for i, item in enumerate(detail):
            yield from problems(item, f"{path}.{i}" if isinstance(item, dict | list) and path else path)
    else:
        yield FieldError("" if getattr(detail, "code", None) == "body" else path, str(detail))


def vapi_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, ValidationFailed):
        messages = [message_for(FieldError(api_path(e.field), e.message)) for e in exc.errors]
        return Response(envelope(400, messages), status=400)
    if isinstance(exc, InvalidTransition):
        return Response(envelope(409, [str(exc)], status=exc.current), status=409)
    if isinstance(exc, NotFound):
        return Response(envelope(404, [str(exc) or "Not Found"]), status=404)
    if isinstance(exc, RequestDataTooBig):
        return Response(envelope(413, [str(exc)]), status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response(envelope(400, [str(exc)]), status=400)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a bug of ours: let Django log it and answer 500
    if isinstance(exc, exceptions.NotFound):
        messages = [str(exc.detail) if exc.detail != exceptions.NotFound.default_detail else "Not Found"]
    elif isinstance(exc, exceptions.APIException):
        messages = [str(problem) for problem in problems(exc.detail)]
    else:
        messages = [HTTPStatus(response.status_code).phrase]
    response.data = envelope(response.status_code, messages)
    return response


# Paths people open in a browser: their unknown pages stay Django's HTML 404 page.
PAGES = ("/app/", "/accounts/", "/admin/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler404 (config/urls.py): an unknown path answers Vapi's envelope, worded as
    Vapi's (NestJS) server words it (``Cannot GET /v3/campaign``), so API clients read a JSON
    error; the dashboard's pages (PAGES) keep Django's HTML page, which is what a person sees."""
    if request.path.startswith(PAGES):
        return page_not_found(request, exception)
    return JsonResponse(envelope(404, [f"Cannot {request.method} {request.path}"]), status=404)
