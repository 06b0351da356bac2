"""Provider accounts' settings and credentials (creating one is in services.directory)."""

from __future__ import annotations

from django.db import transaction

from campaigns.models import ProviderAccount

_BATCH = 200


def provider_credentials_reencrypt() -> int:
    """Re-encrypt every provider account's credentials with the first of DIALDECK_CREDENTIALS_KEYS
    (and encrypt any plaintext left from before encryption); returns how many accounts were written.

    Each batch is one transaction, rows locked, so an edit in between is never overwritten with
    an older value. Raises campaigns.credentials.CredentialUnreadable when a value cannot be
    decrypted with any configured key (nothing of that batch is written). Never logs a value.
    """
    written, after = 0, None
    while True:
        with transaction.atomic():
            batch = (
                ProviderAccount.objects.select_for_update()
                .order_by("pk")
                .only("pk", "api_key", "webhook_secret")
            )
            if after is not None:
                batch = batch.filter(pk__gt=after)
            accounts = list(batch[:_BATCH])
            for account in accounts:
                account.save(update_fields=["api_key", "webhook_secret"])
        if not accounts:
            return written
        written, after = written + len(accounts), accounts[-1].pk
