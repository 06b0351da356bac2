"""Create an API key for an organization and print it, alone, on stdout (it is shown only once)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from campaigns.models import Organization


class Command(BaseCommand):
    help = "Create an API key for an organization; prints the key alone on stdout."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--org", required=True, help="organization slug")
        parser.add_argument("--name", default="created with manage.py createapikey")

    def handle(self, *args: object, **options: str) -> None:
        organization = Organization.objects.filter(slug=options["org"]).first()
        if organization is None:
            raise CommandError(f"no organization with slug {options['org']!r}")
        _, raw = services.api_key_create(organization=organization, by=None, name=options["name"])
        self.stdout.write(raw)
