from __future__ import annotations

from django.apps import AppConfig


class DialerConfig(AppConfig):
    name = "dialer"

    def ready(self) -> None:
        from campaigns import connections
        from dialer.providers.base import check_connection

        connections.register(check_connection)  # the dashboard's and the API's "test connection"
