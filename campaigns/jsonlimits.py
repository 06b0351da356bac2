"""Limits on the free-form JSON we accept and store: one definition, used by every input path.

Free-form objects (a customer's `assistantOverrides`, from a JSON body or the
extra columns of a CSV file; a provider account's `settings`) are stored as
sent and written out again later, by orjson in every API answer and in the
request placement sends to the provider. What one of them may hold is bounded
here, so that a value accepted once can always be stored and written again:

- nesting: at most MAX_DEPTH levels of objects and arrays (orjson refuses more
  than 255 when writing, and every GET of the organization would answer 500);
- size: at most MAX_BYTES as compact UTF-8 JSON per object (a customer's
  overrides travel in every campaign document and every call request);
- integers: within signed 64 bits (orjson cannot write larger ones);
- numbers: finite (NaN and Infinity are not JSON; PostgreSQL's jsonb refuses them);
- text: no NUL character, no lone UTF-16 surrogate in any string or key (PostgreSQL's text
  and jsonb refuse the first, UTF-8 and orjson the second).

`problems` checks a free-form value against all of these; `body_problems` checks a
whole request body for what no field may hold anywhere (NUL, lone surrogates, non-finite
numbers), `parameter_problems` a query string for the same in its text. The walk is
iterative (no recursion), so a body nested as deep as the JSON parser allows is
reported, never a RecursionError.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from campaigns.services.errors import FieldError

MAX_DEPTH = 32
MAX_BYTES = 64 * 1024
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# A body full of bad values is reported by its first problems, not all of them.
MAX_REPORTED = 100

NUL = "\x00"
NUL_MESSAGE = "contains a NUL character"


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def shown(key: str) -> str:
    """A key as it can be printed in a message (and stored in logs): escapes for what
    `text_problem` refuses, a NUL as the visible \\u0000."""
    if NUL not in key and key.isascii():
        return key
    return key.replace(NUL, "\\u0000").encode(errors="backslashreplace").decode()


def text_problem(text: str) -> str | None:
    """Why `text` cannot be stored as text (a NUL, a lone surrogate), or None."""
    if NUL in text:
        return NUL_MESSAGE
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # JSON's "\ud800" escapes decode to text UTF-8 cannot hold
            return "contains an unpaired UTF-16 surrogate: not valid Unicode text"
    return None


def _number_problem(value: Any, limited: bool) -> str | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else "must be a finite number (NaN and Infinity are not JSON)"
    if isinstance(value, int) and not isinstance(value, bool):
        if limited and not INT_MIN <= value <= INT_MAX:
            return f"must be an integer from {INT_MIN} to {INT_MAX} (signed 64-bit)"
        return None
    if value is None or isinstance(value, bool):
        return None
    return "must be a JSON value" if limited else None


def _check(value: Any, path: str, *, limited: bool, max_bytes: int, wanted: int) -> list[FieldError]:
    """The one walk: text and numbers everywhere; with `limited`, depth, integers and size too.

    Iterative, scalars checked in their container's own loop (a 100,000-customer body takes
    about half a second); returns up to `wanted` problems, a container's own values before
    those nested deeper.
    """
    found: list[FieldError] = []
    budget = max_bytes  # with `limited`: a running lower bound of the size, to stop a huge value early
    stack: list[tuple[str, int, Any]] = [(path, 1, value)]
    while stack:
        where, depth, item = stack.pop()
        if isinstance(item, Mapping):
            pairs: Any = item.items()
        elif isinstance(item, list | tuple):
            pairs = enumerate(item)
        else:  # a scalar at the top
            problem = text_problem(item) if isinstance(item, str) else _number_problem(item, limited)
            if problem:
                found.append(FieldError(where, problem))
            continue
        if limited and depth > MAX_DEPTH:
            return [FieldError(path, f"must not be nested deeper than {MAX_DEPTH} levels")]
        budget -= 2
        children = []
        for key, child in pairs:
            if isinstance(key, str):
                budget -= len(key) + 3
                name = key if NUL not in key and key.isascii() else shown(key)
                if name is not key and (problem := text_problem(key)):
                    found.append(FieldError(join(where, name), f"(a key) {problem}"))
            elif isinstance(item, Mapping):
                name = str(key)
                found.append(FieldError(join(where, name), "(a key) must be a string"))
            else:
                name, budget = key, budget - 1
            if isinstance(child, str):
                budget -= len(child) + 2
                if (NUL in child or not child.isascii()) and (problem := text_problem(child)):
                    found.append(FieldError(join(where, name), problem))
            elif isinstance(child, Mapping | list | tuple):
                children.append((join(where, name), depth + 1, child))
            else:
                budget -= 4
                if problem := _number_problem(child, limited):
                    found.append(FieldError(join(where, name), problem))
            if len(found) >= wanted:
                return found
            if limited and budget < 0:
                return [_too_large(path, max_bytes)]
        stack.extend(reversed(children))
    return found


def parameter_problems(params: Any) -> list[FieldError]:
    """Query parameters (a Django QueryDict) whose name or a value cannot be text, by name."""
    found = []
    for key, values in params.lists():
        problem = text_problem(key)
        if problem:
            found.append(FieldError(shown(key), f"(a parameter name) {problem}"))
        found += [FieldError(shown(key), p) for p in dict.fromkeys(map(text_problem, values)) if p]
    return found


def body_problems(body: Any, path: str = "") -> list[FieldError]:
    """What a whole request body may not hold anywhere (NUL characters, lone surrogates,
    non-finite numbers), each named by its path (``customers.3.name contains a NUL
    character``); the first MAX_REPORTED of them."""
    return _check(body, path, limited=False, max_bytes=0, wanted=MAX_REPORTED)


def problems(value: Any, field: str, *, max_bytes: int = MAX_BYTES) -> list[FieldError]:
    """Whether the free-form JSON `value` at `field` keeps the limits of this module.

    Returns [] or the first problem found, named by its path under `field`
    (``customers.3.assistantOverrides.variableValues.n must be an integer …``);
    the size is checked last, on the compact UTF-8 JSON the value is written as.
    """
    found = _check(value, field, limited=True, max_bytes=max_bytes, wanted=1)
    if found:
        return found
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError:  # a Python caller's value JSON cannot hold (e.g. a set inside)
        return [FieldError(field, "must be a JSON value")]
    return [_too_large(field, max_bytes)] if size > max_bytes else []


def _too_large(field: str, max_bytes: int) -> FieldError:
    return FieldError(field, f"must not be larger than {max_bytes // 1024} KiB ({max_bytes} bytes) as JSON")
