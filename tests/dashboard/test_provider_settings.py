"""Provider accounts in the dashboard: each kind's settings with errors next to their fields,
credentials never shown back, a connection test against each provider's fake over real HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import ProviderAccount
from tests.fakes.twilio_server import FakeTwilio
from tests.fakes.vapi_server import FakeVapi
from tests.fakes.voice_ai_servers import FakeBland, FakeElevenLabs, FakeRetell

SID = "AC" + "0" * 31 + "1"  # the fake's
TOKEN = "twilio-auth-token-1234"


def twilio_form(**changes: str) -> dict[str, str]:
    return {
        "name": "Twilio US",
        "kind": "twilio",
        "base_url": "",
        "api_key": TOKEN,
        "account_sid": SID,
        "stream_url": "wss://agent.example.com/media",
        **changes,
    }


def errors_of(response, field: str) -> str:
    """The error text rendered next to a field (Django links it by aria-describedby)."""
    html = response.content.decode()
    marker = f'id="id_{field}_error"'
    assert marker in html, f"no error next to {field}"
    start = html.index(marker)
    return html[start : html.index("</ul>", start)]


def test_a_twilio_account_is_saved_with_its_settings_and_its_token_encrypted(as_owner, org) -> None:
    response = as_owner.post(reverse("campaigns:provider-add"), twilio_form())

    assert response.status_code == 201
    account = ProviderAccount.objects.get(organization=org, kind="twilio")
    assert account.settings == {"account_sid": SID, "stream_url": "wss://agent.example.com/media"}
    assert account.api_key == TOKEN
    assert TOKEN not in response.content.decode()
    assert f"/webhooks/twilio/{account.webhook_token}" in response.content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"account_sid": "AC123"}, "account_sid", "must be AC followed by 32 hex digits"),
        ({"account_sid": ""}, "account_sid", "is required"),
        ({"api_key": ""}, "api_key", "is required for this provider"),
        ({"stream_url": "https://agent.example.com"}, "stream_url", "must be a wss:// URL with a host"),
        ({"stream_url": ""}, "stream_url", "give either a stream URL or TwiML"),
        ({"twiml": "<Response/>"}, "stream_url", "give either a stream URL or TwiML"),
        ({"api_key_sid": "SKnope"}, "api_key_sid", "must be SK followed by 32 hex digits"),
    ],
)
def test_a_bad_twilio_setting_is_refused_next_to_its_field_and_nothing_is_saved(
    as_owner, org, changes, field, reason
) -> None:
    response = as_owner.post(reverse("campaigns:provider-add"), twilio_form(**changes))

    assert response.status_code == 422
    assert reason in errors_of(response, field)
    assert not ProviderAccount.objects.filter(organization=org).exists()


def test_elevenlabs_needs_the_webhook_secret_from_its_console(as_owner, org) -> None:
    form = {"name": "11", "kind": "elevenlabs", "api_key": "xi-key", "trunk": "sip"}

    refused = as_owner.post(reverse("campaigns:provider-add"), form)
    made = as_owner.post(reverse("campaigns:provider-add"), {**form, "webhook_secret": "wsec_from_console"})

    assert "copy it from its console" in errors_of(refused, "webhook_secret")
    assert made.status_code == 201
    account = ProviderAccount.objects.get(organization=org)
    assert (account.webhook_secret, account.settings) == ("wsec_from_console", {"trunk": "sip"})
    assert "wsec_from_console" not in made.content.decode()  # theirs: nothing to show back


def test_the_account_page_masks_the_credential_and_an_empty_one_keeps_it(as_owner, org) -> None:
    as_owner.post(reverse("campaigns:provider-add"), twilio_form())
    account = ProviderAccount.objects.get(organization=org)
    page = as_owner.get(reverse("campaigns:provider", args=[account.pk]))

    saved = as_owner.post(
        reverse("campaigns:provider-edit", args=[account.pk]),
        {"name": "Twilio EU", "base_url": "", "api_key": "", "account_sid": SID, "twiml": "<Response/>"},
    )
    account.refresh_from_db()

    assert TOKEN not in page.content.decode() and "••••1234" in page.content.decode()
    assert saved.status_code == 302
    assert account.name == "Twilio EU" and account.api_key == TOKEN
    assert account.settings == {"account_sid": SID, "twiml": "<Response/>"}


def test_an_edit_with_a_bad_setting_changes_nothing(as_owner, org) -> None:
    as_owner.post(reverse("campaigns:provider-add"), twilio_form())
    account = ProviderAccount.objects.get(organization=org)

    response = as_owner.post(
        reverse("campaigns:provider-edit", args=[account.pk]),
        {"name": "Renamed", "api_key": "new-token", "account_sid": "ACbad", "stream_url": "wss://x.example"},
    )
    account.refresh_from_db()

    assert response.status_code == 422
    assert "must be AC followed by 32 hex digits" in errors_of(response, "account_sid")
    assert (account.name, account.api_key) == ("Twilio US", TOKEN)


def fake_account(org, kind: str, fake, name: str = "") -> ProviderAccount:
    secret = {"webhook_secret": fake.webhook_secret} if kind == "elevenlabs" else {}
    return ProviderAccount.objects.create(
        organization=org, name=name or kind, kind=kind, base_url=fake.url, api_key=fake.api_key, **secret
    )


FAKES = {"vapi": FakeVapi, "retell": FakeRetell, "bland": FakeBland, "elevenlabs": FakeElevenLabs}


@pytest.mark.parametrize("kind", sorted(FAKES))
def test_test_connection_asks_each_provider_with_the_stored_credential(as_owner, org, kind) -> None:
    with FAKES[kind]() as fake:
        good = fake_account(org, kind, fake)
        bad = fake_account(org, kind, fake, name="wrong")
        ProviderAccount.objects.filter(pk=bad.pk).update(api_key="not-the-key")

        ok = as_owner.post(reverse("campaigns:provider-test", args=[good.pk]), HTTP_HX_REQUEST="true")
        refused = as_owner.post(reverse("campaigns:provider-test", args=[bad.pk]), HTTP_HX_REQUEST="true")
        asked = [(r.method, r.path) for r in fake.requests]

    assert "Connected." in ok.content.decode() and "-&gt; 200" in ok.content.decode()
    assert "Not connected." in refused.content.decode() and "401" in refused.content.decode()
    assert len(asked) == 2 and {method for method, _ in asked} == {"GET"}  # one read each, nothing made


def test_test_connection_reads_the_twilio_account_with_its_sid_and_token(as_owner, org) -> None:
    with FakeTwilio() as twilio:
        settings = {"account_sid": SID, "stream_url": "wss://agent.example.com/media"}
        account = ProviderAccount.objects.create(
            organization=org, name="T", kind="twilio", base_url=twilio.url, api_key=TOKEN, settings=settings
        )
        ok = as_owner.post(reverse("campaigns:provider-test", args=[account.pk]), HTTP_HX_REQUEST="true")
        account.api_key = "wrong"
        account.save()
        plain = as_owner.post(reverse("campaigns:provider-test", args=[account.pk]), follow=True)
        paths = [r.path for r in twilio.requests]

    assert f"GET /2010-04-01/Accounts/{SID}.json -&gt; 200" in ok.content.decode()
    assert "Not connected" not in ok.content.decode()
    assert "Test connection: GET /2010-04-01/Accounts" in plain.content.decode()
    assert (
        "answered 401" in plain.content.decode()
        and "wrong" not in plain.content.decode().split("Test connection")[1][:200]
    )
    assert paths == [f"/2010-04-01/Accounts/{SID}.json"] * 2
