"""Put a service's FieldErrors (named by the API's camelCase paths) next to the form fields they concern."""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from campaigns.services import FieldError


def attach(form: forms.Form, errors: list[FieldError], field_for: Callable[[str], str | None]) -> list[str]:
    """Add each error to the form field `field_for(path)` names; returns the messages that fit no field.

    Those leftovers are shown at the top of the form, with the path in words.
    """
    leftovers = []
    for error in errors:
        name = field_for(error.field)
        if name and name in form.fields:
            form.add_error(name, error.message)
        else:
            leftovers.append(str(error))
    return leftovers


def simple(mapping: dict[str, str]) -> Callable[[str], str | None]:
    """A `field_for` that maps exact paths, e.g. {"number": "number", "providerAccountId": "provider"}."""
    return mapping.get
