"""/provider-account: the organization's provider accounts through the API; credentials are
write-only, test-connection asks the provider itself (a local fake Twilio)."""

from __future__ import annotations

import json

import pytest

from campaigns.models import AuditEvent, ProviderAccount
from tests.api.conftest import messages
from tests.fakes.twilio_server import FakeTwilio

pytestmark = pytest.mark.django_db

SID = "AC" + "0" * 31 + "1"  # the fake's
TOKEN = "twilio-auth-token-1234"


def twilio_body(url: str = "", **changes) -> dict:
    return {
        "name": "Twilio US",
        "kind": "twilio",
        "baseUrl": url,
        "apiKey": TOKEN,
        "settings": {"account_sid": SID, "stream_url": "wss://agent.example.com/media"},
        **changes,
    }


def test_an_account_is_created_read_listed_and_never_shows_its_credentials(api, org, provider) -> None:
    created = api.post("/provider-account", twilio_body(), format="json")

    assert created.status_code == 201, created.json()
    body = created.json()
    account = ProviderAccount.objects.get(pk=body["id"])
    assert account.api_key == TOKEN
    assert body["kind"] == "twilio" and body["settings"]["account_sid"] == SID
    assert body["webhookUrl"].endswith(f"/webhooks/twilio/{account.webhook_token}")
    assert body["credentialsSet"] == {"apiKey": True, "webhookSecret": True}
    every = [created, api.get(f"/provider-account/{account.pk}"), api.get("/provider-account")]
    for response in every:
        assert response.status_code in (200, 201)
        text = response.content.decode()
        assert TOKEN not in text and account.webhook_secret not in text
        assert 'apiKey":"' not in text.replace(" ", "")
    assert [a["name"] for a in every[2].json()] == ["Simulated", "Twilio US"]
    assert AuditEvent.objects.filter(action="provider_account.create").count() == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"settings": {"account_sid": "AC123", "stream_url": "wss://a.example.com"}}, "settings.account_sid"),
        ({"apiKey": ""}, "apiKey is required for this provider"),
        ({"kind": "skype"}, "kind must be one of the following values"),
        ({"baseUrl": "http://10.0.0.1"}, "baseUrl"),
        ({"name": ""}, "name"),
        ({"password": "x"}, "password"),
    ],
)
def test_a_bad_account_is_refused_naming_the_field_and_nothing_is_saved(api, org, changes, expected) -> None:
    response = api.post("/provider-account", twilio_body(**changes), format="json")

    assert response.status_code == 400
    assert any(expected in message for message in messages(response)), messages(response)
    assert not ProviderAccount.objects.filter(kind="twilio").exists()
    assert not AuditEvent.objects.filter(action__startswith="provider_account").exists()


def test_patch_changes_what_is_given_and_an_absent_credential_keeps_the_stored_one(api, org) -> None:
    account_id = api.post("/provider-account", twilio_body(), format="json").json()["id"]

    renamed = api.patch(f"/provider-account/{account_id}", {"name": "Twilio EU"}, format="json")
    assert renamed.status_code == 200, renamed.json()
    account = ProviderAccount.objects.get(pk=account_id)
    assert (account.name, account.api_key, account.settings["account_sid"]) == ("Twilio EU", TOKEN, SID)

    api.patch(f"/provider-account/{account_id}", {"apiKey": "a-new-token"}, format="json")
    account.refresh_from_db()
    assert account.api_key == "a-new-token"

    refused = api.patch(
        f"/provider-account/{account_id}",
        {"name": "Twilio X", "settings": {"account_sid": SID}},  # neither a stream URL nor TwiML
        format="json",
    )
    assert refused.status_code == 400
    assert any("settings.stream_url" in m for m in messages(refused)), messages(refused)
    account.refresh_from_db()
    assert account.name == "Twilio EU", "nothing saved"
    refused = api.patch(f"/provider-account/{account_id}", {"kind": "bland"}, format="json")
    assert refused.status_code == 400 and ProviderAccount.objects.get(pk=account_id).kind == "twilio"


def test_another_organizations_account_is_not_found(api, other_api, provider) -> None:
    for response in (
        other_api.get(f"/provider-account/{provider.pk}"),
        other_api.patch(f"/provider-account/{provider.pk}", {"name": "Mine"}, format="json"),
        other_api.post(f"/provider-account/{provider.pk}/test-connection"),
    ):
        assert response.status_code == 404
    provider.refresh_from_db()
    assert provider.name == "Simulated"


def test_test_connection_asks_twilio_with_the_stored_credentials(api, org) -> None:
    with FakeTwilio() as twilio:
        account_id = api.post("/provider-account", twilio_body(twilio.url), format="json").json()["id"]
        ok = api.post(f"/provider-account/{account_id}/test-connection")
        api.patch(f"/provider-account/{account_id}", {"apiKey": "wrong-token"}, format="json")
        refused = api.post(f"/provider-account/{account_id}/test-connection")
        asked = [(r.method, r.path) for r in twilio.requests]

    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["httpStatus"] == 200
    assert f"GET /2010-04-01/Accounts/{SID}.json" in ok.json()["summary"]
    assert refused.status_code == 200 and refused.json()["ok"] is False
    assert refused.json()["httpStatus"] == 401
    assert "wrong-token" not in json.dumps(refused.json())
    assert asked == [("GET", f"/2010-04-01/Accounts/{SID}.json")] * 2  # a read each, nothing made


def test_the_schema_documents_the_operations_and_keeps_credentials_write_only(api) -> None:
    schema = api.get("/api/schema", HTTP_ACCEPT="application/json").json()
    assert set(schema["paths"]["/provider-account"]) >= {"get", "post"}
    assert set(schema["paths"]["/provider-account/{id}"]) >= {"get", "patch"}
    assert "post" in schema["paths"]["/provider-account/{id}/test-connection"]
    shown = schema["components"]["schemas"]["ProviderAccount"]["properties"]
    assert "apiKey" not in shown and "webhookSecret" not in shown
