"""The organization's settings pages: do-not-call, caller IDs, providers, API keys, members."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services
from campaigns.models import ApiKey, DoNotCall, Membership, PhoneNumber, ProviderAccount
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db


# -- do-not-call -----------------------------------------------------------------------------------


def test_a_manager_adds_a_number_to_the_do_not_call_list(as_manager, org) -> None:
    response = as_manager.post(
        reverse("campaigns:do-not-call-add"), {"number": "+1 415 555 0123", "note": "asked"}, follow=True
    )
    assert "Added to the list." in response.content.decode()
    entry = DoNotCall.objects.get(organization=org)
    assert (entry.number, entry.note, entry.source) == ("+14155550123", "asked", "manual")


def test_a_bad_number_is_refused_next_to_the_field(as_manager) -> None:
    response = as_manager.post(reverse("campaigns:do-not-call-add"), {"number": "hello"})
    assert response.status_code == 422 and 'id="id_number_error"' in response.content.decode()
    assert not DoNotCall.objects.exists()


def test_a_csv_import_lists_every_bad_row_and_saves_nothing(as_manager) -> None:
    upload = SimpleUploadedFile("dnc.csv", b"number,note\n+14155550123,a\nnope,b\n+14155550124,c\n12,d\n")
    response = as_manager.post(reverse("campaigns:do-not-call-import"), {"file": upload})
    content = response.content.decode()
    assert response.status_code == 422 and "Nothing was imported" in content
    assert "line 3.number" in content and "line 5.number" in content
    assert not DoNotCall.objects.exists()


def test_a_good_csv_import_adds_every_number(as_manager, org) -> None:
    upload = SimpleUploadedFile("dnc.csv", b"number,note\n+14155550123,a\n+14155550124,b\n")
    response = as_manager.post(reverse("campaigns:do-not-call-import"), {"file": upload}, follow=True)
    assert "Imported 2 numbers (2 new)." in response.content.decode()
    assert set(DoNotCall.objects.values_list("source", flat=True)) == {"import"}


def test_the_list_is_searchable_and_htmx_gets_only_the_rows(as_viewer, org, owner) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550123", "angry"), ("+12125550100", "")])
    rows = as_viewer.get(reverse("campaigns:do-not-call"), {"q": "angry"}, **HTMX).content.decode()
    assert "+14155550123" in rows and "+12125550100" not in rows and "<html" not in rows


def test_removing_a_number(as_manager, org, owner) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550123", "")])
    entry = DoNotCall.objects.get()
    response = as_manager.post(reverse("campaigns:do-not-call-remove", args=[entry.pk]), follow=True)
    assert "it may be called again" in response.content.decode() and not DoNotCall.objects.exists()


# -- caller IDs ------------------------------------------------------------------------------------


def test_an_admin_adds_and_removes_a_caller_id(as_owner, org, provider) -> None:
    data = {"number": "+14155550177", "name": "Sales", "provider_account": str(provider.pk)}
    assert as_owner.post(reverse("campaigns:caller-id-add"), data).status_code == 302
    number = PhoneNumber.objects.get(number="+14155550177")
    response = as_owner.post(reverse("campaigns:caller-id-remove", args=[number.pk]), follow=True)
    assert "Removed the caller ID" in response.content.decode()
    number.refresh_from_db()
    assert number.deleted_at is not None


def test_a_caller_id_in_use_cannot_be_removed(as_owner, campaign, caller_id) -> None:
    response = as_owner.post(reverse("campaigns:caller-id-remove", args=[caller_id.pk]), follow=True)
    assert "used by a campaign that has not ended" in response.content.decode()
    caller_id.refresh_from_db()
    assert caller_id.deleted_at is None


def test_a_duplicate_caller_id_is_refused_next_to_the_number(as_owner, caller_id, provider) -> None:
    data = {"number": caller_id.number, "provider_account": str(provider.pk)}
    response = as_owner.post(reverse("campaigns:caller-id-add"), data)
    assert response.status_code == 422 and "is already a caller ID" in response.content.decode()


def test_viewers_see_caller_ids_without_the_add_form(as_viewer, caller_id) -> None:
    content = as_viewer.get(reverse("campaigns:caller-ids")).content.decode()
    assert caller_id.number in content and reverse("campaigns:caller-id-add") not in content


def test_the_caller_ids_page_shows_where_each_number_is_and_its_state(as_viewer, caller_id) -> None:
    PhoneNumber.objects.filter(pk=caller_id.pk).update(
        rested_at="2026-12-01T00:00:00Z", rested_reason="answer rate 4%"
    )
    content = as_viewer.get(reverse("campaigns:caller-ids")).content.decode()
    assert "US · US-CA · 415" in content
    assert "Rested" in content and "answer rate 4%" in content
    assert "no calls yet" in content
    assert "Lift rest" not in content  # viewers read, admins act


def test_an_admin_disables_enables_and_lifts_a_rest(as_owner, caller_id) -> None:
    update = reverse("campaigns:caller-id-update", args=[caller_id.pk])
    response = as_owner.post(update, {"do": "disable"}, follow=True)
    assert "Disabled +14155550100." in response.content.decode()
    caller_id.refresh_from_db()
    assert caller_id.disabled
    as_owner.post(update, {"do": "enable"})
    PhoneNumber.objects.filter(pk=caller_id.pk).update(rested_at="2026-12-01T00:00:00Z")
    response = as_owner.post(update, {"do": "lift-rest"}, follow=True)
    assert "Lifted the rest of +14155550100." in response.content.decode()
    caller_id.refresh_from_db()
    assert not caller_id.disabled and caller_id.rested_at is None and caller_id.health_since is not None


def test_caps_are_saved_and_a_bad_cap_is_refused_next_to_its_field(as_owner, caller_id) -> None:
    update = reverse("campaigns:caller-id-update", args=[caller_id.pk])
    as_owner.post(update, {"do": "caps", "max_concurrent_calls": "3", "max_daily_calls": ""})
    caller_id.refresh_from_db()
    assert (caller_id.max_concurrent_calls, caller_id.max_daily_calls) == (3, None)

    response = as_owner.post(update, {"do": "caps", "max_concurrent_calls": "0", "max_daily_calls": "5"})

    assert response.status_code == 422
    content = response.content.decode()
    assert (
        "must not be less than 1" in content
        and f'id="id_caps_{caller_id.pk}_max_concurrent_calls"' in content
    )
    caller_id.refresh_from_db()
    assert (caller_id.max_concurrent_calls, caller_id.max_daily_calls) == (3, None)  # nothing half-saved


# -- provider accounts -----------------------------------------------------------------------------


def test_a_new_vapi_account_shows_its_webhook_url_and_secret_once(as_owner, org, settings) -> None:
    settings.SITE_URL = "https://dialer.example.com"
    data = {"name": "Vapi prod", "kind": "vapi", "base_url": "https://api.vapi.ai", "api_key": "sk-1"}
    for key in ("answered", "noAnswer", "busy", "voicemail", "failed", "optOut"):
        data[f"mix_{key}"] = "1"
    response = as_owner.post(reverse("campaigns:provider-add"), data)
    account = ProviderAccount.objects.get(organization=org)
    content = response.content.decode()
    assert response.status_code == 201
    assert f"https://dialer.example.com/webhooks/vapi/{account.webhook_token}" in content
    assert f"X-Vapi-Secret: {account.webhook_secret}" in content
    assert (account.base_url, account.api_key, account.settings) == ("https://api.vapi.ai", "sk-1", {})
    assert account.webhook_secret not in as_owner.get(reverse("campaigns:providers")).content.decode()


def test_a_simulated_account_keeps_its_outcome_mix(as_owner, org) -> None:
    data = {"name": "Sim", "kind": "simulated", "seed": "4"}
    data.update(
        {
            f"mix_{k}": v
            for k, v in {
                "answered": 90,
                "noAnswer": 10,
                "busy": 0,
                "voicemail": 0,
                "failed": 0,
                "optOut": 0,
            }.items()
        }
    )
    assert as_owner.post(reverse("campaigns:provider-add"), data).status_code == 201
    account = ProviderAccount.objects.get(organization=org)
    assert account.settings == {
        "seed": 4,
        "mix": {"answered": 90, "noAnswer": 10, "busy": 0, "voicemail": 0, "failed": 0, "optOut": 0},
    }


def test_a_vapi_account_needs_a_base_url(as_owner) -> None:
    data = {
        "name": "Vapi",
        "kind": "vapi",
        **{f"mix_{k}": "1" for k in ("answered", "noAnswer", "busy", "voicemail", "failed", "optOut")},
    }
    response = as_owner.post(reverse("campaigns:provider-add"), data)
    assert response.status_code == 422 and 'id="id_base_url_error"' in response.content.decode()
    assert not ProviderAccount.objects.exists()


# -- API keys --------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_and_works(as_owner, org, client) -> None:
    response = as_owner.post(reverse("campaigns:api-key-add"), {"name": "CRM sync"})
    content = response.content.decode()
    raw = content.split('data-testid="api-key">', 1)[1].split("<", 1)[0]
    assert response.status_code == 201 and raw.startswith("dd_")
    assert raw not in as_owner.get(reverse("campaigns:api-keys")).content.decode()
    assert client.get("/campaign", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_revoking_a_key(as_owner, org, owner) -> None:
    key, raw = services.api_key_create(organization=org, by=owner, name="old")
    response = as_owner.post(reverse("campaigns:api-key-revoke", args=[key.pk]), follow=True)
    assert "requests with it now get 401" in response.content.decode()
    assert ApiKey.objects.get(pk=key.pk).revoked_at is not None


# -- members ---------------------------------------------------------------------------------------


def test_an_admin_invites_someone_by_creating_their_account(as_owner, org, client) -> None:
    data = {
        "username": "nina",
        "email": "nina@example.com",
        "password": "a long enough phrase",
        "role": "manager",
    }
    response = as_owner.post(reverse("campaigns:member-add"), data, follow=True)
    assert "Created the account nina as manager." in response.content.decode()
    assert Membership.objects.get(user__username="nina").role == "manager"
    assert client.login(username="nina", password="a long enough phrase")


def test_a_new_account_needs_a_good_password(as_owner) -> None:
    response = as_owner.post(
        reverse("campaigns:member-add"), {"username": "nina", "password": "", "role": "viewer"}
    )
    assert response.status_code == 422 and "Give the new account a password." in response.content.decode()
    weak = as_owner.post(
        reverse("campaigns:member-add"), {"username": "nina", "password": "password", "role": "viewer"}
    )
    assert weak.status_code == 422 and 'id="id_password_error"' in weak.content.decode()


def test_an_admin_changes_a_role(as_owner, viewer) -> None:
    membership = Membership.objects.get(user=viewer)
    response = as_owner.post(
        reverse("campaigns:member-role", args=[membership.pk]), {"role": "manager"}, follow=True
    )
    assert "vera is now manager." in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == "manager"


def test_the_last_admin_cannot_be_demoted(as_owner, owner) -> None:
    membership = Membership.objects.get(user=owner)
    response = as_owner.post(
        reverse("campaigns:member-role", args=[membership.pk]), {"role": "viewer"}, follow=True
    )
    assert "last admin cannot be demoted" in response.content.decode()
    assert Membership.objects.get(pk=membership.pk).role == "admin"


def test_an_existing_account_cannot_be_pulled_into_another_organization(as_owner, org, outsider) -> None:
    response = as_owner.post(
        reverse("campaigns:member-add"),
        {"username": outsider.get_username().upper(), "password": "a long enough phrase", "role": "admin"},
    )
    assert response.status_code == 422
    assert "is taken" in response.content.decode()
    assert not Membership.objects.filter(user=outsider, organization=org).exists()
