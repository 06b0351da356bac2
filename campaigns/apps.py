from __future__ import annotations

from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

from config.timestamps import use_compiled_loader


def _create_cache_table(sender: AppConfig, **kwargs: object) -> None:
    """The database cache's table (login and API rate counts, settings.CACHES) exists wherever
    `migrate` ran; createcachetable does nothing when it is there or the cache is not a database."""
    from django.core.management import call_command

    call_command("createcachetable", database=kwargs.get("using", "default"), verbosity=0)


class CampaignsConfig(AppConfig):
    name = "campaigns"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_create_cache_table, sender=self)
        # Every PostgreSQL connection reads its timestamps through psycopg's compiled loader.
        connection_created.connect(use_compiled_loader, dispatch_uid="dialdeck-compiled-timestamptz")
