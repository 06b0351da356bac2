"""Re-encrypt every stored provider credential with the newest key (the first of
DIALDECK_CREDENTIALS_KEYS); then the older keys can be removed from the variable."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns import services
from campaigns.credentials import CredentialUnreadable


class Command(BaseCommand):
    help = "Re-encrypt provider credentials with the first key of DIALDECK_CREDENTIALS_KEYS."

    def handle(self, *args: object, **options: object) -> None:
        try:
            written = services.provider_credentials_reencrypt()
        except CredentialUnreadable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"re-encrypted the credentials of {written} provider accounts with the first key")
