"""Provider credentials are encrypted at rest, readable with any configured key, re-encrypted
with the newest by `rotate_credentials`, and plaintext from before is encrypted by migration 0014."""

from __future__ import annotations

import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campaigns import services
from campaigns.credentials import CredentialUnreadable
from campaigns.models import ProviderAccount

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKEN = "twilio-auth-token-0123456789abcdef"


def stored(account: ProviderAccount) -> tuple[str, str]:
    """What the database holds, past the encrypting field."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_key, webhook_secret FROM campaigns_provideraccount WHERE id = %s",
            [account.pk.hex if connection.vendor == "sqlite" else account.pk],
        )
        return cursor.fetchone()


def opens_with(key: str, value: str) -> str:
    return Fernet(key).decrypt(value.removeprefix("enc:").encode()).decode()


@pytest.fixture
def twilio_account(org, owner, settings):
    settings.CREDENTIALS_KEYS = (OLD,)
    return services.provider_account_create(
        organization=org,
        by=owner,
        name="Twilio",
        kind="twilio",
        api_key=TOKEN,
        settings={"account_sid": "AC" + "0" * 32, "stream_url": "wss://agent.example.com/media"},
    )


def test_the_database_holds_only_ciphertext_and_the_code_sees_the_plain_value(twilio_account) -> None:
    api_key, webhook_secret = stored(twilio_account)
    fresh = ProviderAccount.objects.get(pk=twilio_account.pk)

    assert api_key.startswith("enc:") and TOKEN not in api_key
    assert opens_with(OLD, api_key) == TOKEN
    assert webhook_secret.startswith("enc:") and fresh.webhook_secret not in webhook_secret
    assert fresh.api_key == TOKEN


def test_a_new_key_first_still_reads_the_old_and_rotation_moves_everything_to_it(
    twilio_account, settings
) -> None:
    settings.CREDENTIALS_KEYS = (NEW, OLD)
    assert ProviderAccount.objects.get(pk=twilio_account.pk).api_key == TOKEN

    call_command("rotate_credentials", stdout=open("/dev/null", "w"))  # noqa: SIM115
    api_key, webhook_secret = stored(twilio_account)
    settings.CREDENTIALS_KEYS = (NEW,)  # the old key dropped

    assert opens_with(NEW, api_key) == TOKEN
    assert opens_with(NEW, webhook_secret) == twilio_account.webhook_secret
    assert ProviderAccount.objects.get(pk=twilio_account.pk).api_key == TOKEN


def test_a_key_dropped_before_rotation_is_a_clear_error_and_nothing_is_written(
    twilio_account, settings
) -> None:
    before = stored(twilio_account)
    settings.CREDENTIALS_KEYS = (NEW,)

    with pytest.raises(CredentialUnreadable, match="was a key removed before"):
        ProviderAccount.objects.get(pk=twilio_account.pk)
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_credentials")
    assert stored(twilio_account) == before


def test_rotation_encrypts_plaintext_left_from_before(twilio_account) -> None:
    with connection.cursor() as cursor:  # past the encrypting field, as a row from before it
        cursor.execute("UPDATE campaigns_provideraccount SET api_key = %s", [TOKEN])
    assert ProviderAccount.objects.get(pk=twilio_account.pk).api_key == TOKEN  # read as is

    written = services.provider_credentials_reencrypt()

    assert written == 1
    assert opens_with(OLD, stored(twilio_account)[0]) == TOKEN


def test_no_credential_reaches_the_logs_when_an_account_is_made_and_rotated(
    org, owner, settings, caplog
) -> None:
    settings.CREDENTIALS_KEYS = (OLD,)
    caplog.set_level(logging.DEBUG)
    account = services.provider_account_create(
        organization=org, by=owner, name="Retell", kind="retell", api_key=TOKEN
    )
    services.provider_credentials_reencrypt()

    assert TOKEN not in caplog.text and account.webhook_secret not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_migration_0014_encrypts_the_plaintext_already_stored(org, settings) -> None:
    settings.CREDENTIALS_KEYS = (OLD,)
    before, after = [("campaigns", "0011_event_delivery")], [("campaigns", "0014_providers")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old_apps.get_model("campaigns", "ProviderAccount").objects.create(
        organization_id=org.pk,
        name="Vapi",
        kind="vapi",
        base_url="https://api.vapi.ai",
        api_key=TOKEN,
        webhook_secret="plain-webhook-secret",
        webhook_token="tok-0014",
    )

    try:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(after)
    finally:
        # On to the newest schema (later migrations leave provider accounts alone), as the tests
        # that follow on this database expect it, whatever happened above.
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    account = ProviderAccount.objects.get(webhook_token="tok-0014")
    api_key, webhook_secret = stored(account)

    assert opens_with(OLD, api_key) == TOKEN
    assert opens_with(OLD, webhook_secret) == "plain-webhook-secret"
    assert (account.api_key, account.webhook_secret) == (TOKEN, "plain-webhook-secret")
