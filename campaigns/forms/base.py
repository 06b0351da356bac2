"""The dashboard's form base: labels without a trailing colon, required fields marked for CSS;
fields every form may share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms


class DashboardForm(forms.Form):
    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class MomentField(forms.DateTimeField):
    """A date and time typed in the organization's zone that is an instant the database can
    store: it stores UTC, where 9999-12-31 23:59 in New York is already year 10000."""

    def to_python(self, value: Any) -> datetime | None:
        moment = super().to_python(value)
        if moment is not None:
            try:
                moment.astimezone(UTC)
            except OverflowError:
                raise forms.ValidationError(
                    "Enter a date and time between the years 1 and 9999.", code="invalid"
                ) from None
        return moment
