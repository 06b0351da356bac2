"""Provider accounts' settings and credentials (creating one is services.directory's
provider_account_create; both check accounts with `account_problems`)."""

from __future__ import annotations

from django.db import transaction

from campaigns import egress
from campaigns.models import ProviderAccount
from campaigns.rules import provider_settings as rules
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, ValidationFailed

_BATCH = 200


def account_problems(*, kind: str, name: str, base_url: str, settings: dict) -> list[FieldError]:
    """What is wrong with an account's name, base URL and settings, for its kind (settings'
    problems are named `settings.<name>`). Resolves the base URL's host (campaigns.egress): call
    it outside transactions."""
    errors = []
    if not name.strip():
        errors.append(FieldError("name", "must not be empty"))
    if kind == "vapi" and not base_url:
        errors.append(FieldError("base_url", "is required for a Vapi-compatible provider"))
    elif kind != "simulated" and base_url:
        try:
            egress.check_provider_url(base_url)
        except egress.ProviderUrlRefused as exc:
            errors.append(FieldError("base_url", exc.reason))
    if kind != "simulated":  # the simulated provider's settings are its outcome mix (the form's)
        errors += [FieldError(f"settings.{key}", why) for key, why in rules.settings_problems(kind, settings)]
    return errors


def provider_account_update(
    *,
    account: ProviderAccount,
    by: Actor,
    name: str,
    base_url: str,
    settings: dict,
    api_key: str = "",
    webhook_secret: str = "",
) -> ProviderAccount:
    """Change an account's name, base URL and settings (its kind stays); a non-empty `api_key`
    or `webhook_secret` replaces the stored one, an empty one keeps it. Raises ValidationFailed
    (nothing saved) like provider_account_create. The audit names what changed, never a value
    of a credential."""
    errors = account_problems(kind=account.kind, name=name, base_url=base_url, settings=settings)
    errors += [
        FieldError(field, reason)
        for field, reason in rules.credentials_problems(
            account.kind,
            api_key=bool(api_key or account.api_key),
            webhook_secret=bool(webhook_secret or account.webhook_secret),
        )
    ]
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = ProviderAccount.objects.select_for_update().get(pk=account.pk, deleted_at__isnull=True)
        before = {"name": locked.name, "base_url": locked.base_url, "settings": locked.settings}
        locked.name, locked.base_url, locked.settings = name.strip(), base_url, settings
        replaced = []
        if api_key:
            locked.api_key = api_key
            replaced.append("api_key")
        if webhook_secret:
            locked.webhook_secret = webhook_secret
            replaced.append("webhook_secret")
        locked.save()
        after = {"name": locked.name, "base_url": base_url, "settings": settings, "replaced": replaced}
        audit_record(
            organization=locked.organization,
            by=by,
            action="provider_account.update",
            target=locked,
            before=before,
            after=after,
        )
    return locked


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
            batch = ProviderAccount.objects.select_for_update().order_by("pk")
            batch = batch.only("pk", "api_key", "webhook_secret")
            if after is not None:
                batch = batch.filter(pk__gt=after)
            accounts = list(batch[:_BATCH])
            for account in accounts:
                account.save(update_fields=["api_key", "webhook_secret"])
        if not accounts:
            return written
        written, after = written + len(accounts), accounts[-1].pk
