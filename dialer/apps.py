from __future__ import annotations

from django.apps import AppConfig


class DialerConfig(AppConfig):
    name = "dialer"
