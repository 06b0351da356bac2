"""Put a service's FieldErrors next to the form fields they concern.

Services name what they were given as their parameters and inputs are named, in snake_case
(``name``, ``base_url``, ``strategy.max_attempts``), which is what the dashboard's form fields
are called too: a path names its field unless the form calls it something else, which its
`field_for` says (the builder's ``agent_id`` is a service's ``target``).
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from campaigns.services import FieldError


def attach(
    form: forms.Form, errors: list[FieldError], field_for: Callable[[str], str | None] | None = None
) -> list[str]:
    """Add each error to the form field its path names (through `field_for`, if given); returns
    the messages that fit no field, shown at the top of the form with their path."""
    leftovers = []
    for error in errors:
        name = field_for(error.field) if field_for is not None else error.field
        if name and name in form.fields:
            form.add_error(name, error.message)
        else:
            leftovers.append(str(error))
    return leftovers


def simple(mapping: dict[str, str]) -> Callable[[str], str | None]:
    """A `field_for` for the paths a form names differently, e.g. {"numbers.0": "number"}; every
    other path names its field."""
    return lambda path: mapping.get(path, path)
