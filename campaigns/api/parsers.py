"""The API's one JSON parser: Vapi's wording for malformed bodies, and one gate for what no
field may hold anywhere (NUL characters, lone surrogates, non-finite numbers)."""

from __future__ import annotations

import json
import math
import re

from django.conf import settings
from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from campaigns import jsonlimits


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "request entity too large"


class VapiJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads the stream itself, so Django's
    own check never runs for them); malformed ones answer 400 the way Vapi's (Node) server words it.

    Then the one gate for every field of every body: a NUL character in any string or key
    (PostgreSQL's text cannot hold it), a lone surrogate (UTF-8 cannot), or a number JSON
    cannot write back (1e400 reads as Infinity) answers 400 naming its path, ``customers.3.name
    contains a NUL character``, before any view or serializer sees the body.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1 if limit is not None else -1) if stream is not None else b""
        if limit is not None and len(raw) > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"request body is not {encoding} text") from None
        floats = _Floats()
        try:
            body = json.loads(text, parse_constant=_refuse_constant, parse_float=floats.read)
        except json.JSONDecodeError as exc:
            if exc.pos >= len(text.rstrip()):
                raise exceptions.ParseError("Unexpected end of JSON input") from None
            token = text[exc.pos]
            raise exceptions.ParseError(f"Unexpected token {token} in JSON at position {exc.pos}") from None
        except ValueError as exc:
            raise exceptions.ParseError(str(exc)) from None
        except RecursionError:
            # Python's parser ran out of stack (how deep it gets depends on the thread's stack
            # already in use): name the field as the limit check would have.
            raise exceptions.ParseError([_too_deep(text, _body_path(parser_context))]) from None
        # JSON text can only spell a NUL or a lone surrogate as an escape, and a non-finite
        # number only as a float too large: a body with neither is not walked at all.
        if floats.infinite or _SUSPECT_ESCAPE.search(text):
            problems = jsonlimits.body_problems(body, _body_path(parser_context))
            if problems:
                raise exceptions.ParseError([str(problem) for problem in problems])
        return body


# \u0000, and the escapes of UTF-16 surrogates (\ud800-\udfff), which may be unpaired.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF])")


class _Floats:
    """json.loads' parse_float: reads floats as usual, noting one that overflowed (1e400)."""

    def __init__(self) -> None:
        self.infinite = False

    def read(self, literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            self.infinite = True
        return value


# Free-form objects the body may carry: a nesting problem is named at the first of these.
_FREE_FORM = frozenset({"assistantOverrides", "squadOverrides", "workflowOverrides", "settings"})


def _body_path(parser_context: dict | None) -> str:
    """What the view calls its body in error paths ("customers" for a bare array of customers)."""
    return getattr((parser_context or {}).get("view"), "body_path", "")


def _too_deep(text: str, prefix: str = "") -> str:
    """The refusal for a body too deep to parse, naming where it went too deep: the first
    free-form object on the path (customers.0.assistantOverrides), else the path at the limit.
    An iterative scan of the text, so it needs no stack however deep the body is."""
    path: list[str | int] = [prefix] if prefix else []  # keys and indexes down to the current container
    kinds: list[str] = []  # "{" or "[" for each open container
    key, index, at = None, 0, 0
    while at < len(text):
        char = text[at]
        if char == '"':
            end = at + 1
            while text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            key = text[at + 1 : end] if kinds and kinds[-1] == "{" else key
            at = end
        elif char in "{[":
            if kinds:
                path.append(key if kinds[-1] == "{" else index)
            kinds.append(char)
            index = 0
            free = next((i for i, k in enumerate(path) if k in _FREE_FORM), None)
            beyond = len(path) - free > jsonlimits.MAX_DEPTH if free is not None else False
            if beyond or len(kinds) > 4 * jsonlimits.MAX_DEPTH:
                field = path[: free + 1] if free is not None else path[: jsonlimits.MAX_DEPTH]
                name = ".".join(str(part) for part in field) or "body"
                return f"{name} must not be nested deeper than {jsonlimits.MAX_DEPTH} levels"
        elif char in "}]":
            kinds.pop()
            if kinds:  # back in the parent: at the element this container was
                last = path.pop()
                index = last if kinds[-1] == "[" else index
        elif char == "," and kinds and kinds[-1] == "[":
            index += 1
        at += 1
    return f"body must not be nested deeper than {jsonlimits.MAX_DEPTH} levels"


def _refuse_constant(name: str) -> None:
    raise ValueError(f"Unexpected token {name[0]} in JSON")
