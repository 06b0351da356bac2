"""The dashboard's form base: labels without a trailing colon, required fields marked for CSS."""

from __future__ import annotations

from typing import Any

from django import forms


class DashboardForm(forms.Form):
    required_css_class = "required"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
