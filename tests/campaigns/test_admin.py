"""The admin: every changelist and change page loads; its actions go through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from campaigns import services
from campaigns.models import ApiKey, AuditEvent, Call, DoNotCall
from tests.conftest import customers


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "correct horse battery")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def populated(make_campaign, owner, org, second_caller_id):
    campaign = make_campaign(3)
    services.campaign_start(campaign=campaign, by=owner)
    services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="With a dial plan",
            squad_id="squad-1",
            dial_plan=[services.DialPlanInput(str(second_caller_id.pk), customers(2, start=50))],
        ),
    )
    customer = campaign.customers.first()
    call = Call.objects.create(
        organization=org,
        campaign=campaign,
        customer=customer,
        phone_number=campaign.phone_number,
        provider_account=campaign.phone_number.provider_account,
        attempt=1,
    )
    services.call_log(call, "request", "placed")
    services.api_key_create(organization=org, by=owner, name="ci")
    services.dnc_add(organization=org, by=owner, numbers=[("+14155559999", "asked")])
    return campaign


def test_every_changelist_and_change_page_loads(admin_client, populated) -> None:
    checked = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url
        obj = model_admin.get_queryset(response.wsgi_request).first()
        if obj is not None:
            change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change
            checked += 1
    assert checked >= 13  # every model of ours, and auth's User


def test_campaign_actions_go_through_the_services(admin_client, populated, superuser) -> None:
    url = reverse("admin:campaigns_campaign_changelist")
    response = admin_client.post(
        url, {"action": "pause", "_selected_action": [str(populated.pk)]}, follow=True
    )
    assert response.status_code == 200
    populated.refresh_from_db()
    assert populated.status == "paused"
    audit = AuditEvent.objects.filter(target_id=str(populated.pk), action="campaign.pause").get()
    assert audit.actor == superuser


def test_a_refused_admin_action_says_why(admin_client, populated) -> None:
    url = reverse("admin:campaigns_campaign_changelist")
    response = admin_client.post(
        url, {"action": "resume", "_selected_action": [str(populated.pk)]}, follow=True
    )
    assert "cannot resume a campaign that is in-progress" in response.content.decode()


def test_counters_cannot_be_edited_in_the_admin(admin_client, populated) -> None:
    url = reverse("admin:campaigns_campaign_change", args=[populated.pk])
    admin_client.post(url, {"calls_ended": "99", "name": "x"})
    populated.refresh_from_db()
    assert populated.calls_ended == 0 and populated.name == "Renewals"


def test_revoking_a_key_in_the_admin_goes_through_the_service(admin_client, org, populated) -> None:
    key = ApiKey.objects.get(organization=org)
    url = reverse("admin:campaigns_apikey_changelist")
    admin_client.post(url, {"action": "revoke", "_selected_action": [str(key.pk)]})
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert AuditEvent.objects.filter(action="api_key.revoke").exists()


def test_removing_a_do_not_call_number_in_the_admin_is_audited(admin_client, org, populated) -> None:
    entry = DoNotCall.objects.get(organization=org)
    url = reverse("admin:campaigns_donotcall_changelist")
    admin_client.post(url, {"action": "remove", "_selected_action": [str(entry.pk)]})
    assert not DoNotCall.objects.filter(pk=entry.pk).exists()
    assert AuditEvent.objects.filter(action="dnc.remove").exists()


def test_the_admin_refuses_a_provider_base_url_on_a_private_network(admin_client, org) -> None:
    response = admin_client.post(
        reverse("admin:campaigns_provideraccount_add"),
        {"organization": org.pk, "name": "Sneaky", "kind": "vapi", "base_url": "http://169.254.169.254/"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "link-local" in response.content.decode()
    assert not org.provider_accounts.filter(name="Sneaky").exists()


def test_the_admin_shows_compliance_settings_but_leaves_their_changes_to_the_audited_page(
    admin_client, org
) -> None:
    page = admin_client.get(reverse("admin:campaigns_organization_change", args=[org.pk])).content.decode()
    assert 'name="recipient_earliest"' not in page and "Recipient earliest" in page
    response = admin_client.post(
        reverse("admin:campaigns_organization_change", args=[org.pk]),
        {
            "name": org.name,
            "slug": org.slug,
            "time_zone": "Factory",
            "max_concurrent_calls": 50,
            "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0,
        },
    )
    assert "must be an IANA time zone" in response.content.decode()


def test_the_admin_shows_caller_id_fields_and_its_switches_go_through_the_service(
    admin_client, caller_id
) -> None:
    from campaigns.models import PhoneNumber

    PhoneNumber.objects.filter(pk=caller_id.pk).update(
        rested_at="2026-12-01T00:00:00Z", rested_reason="answer rate 3%"
    )
    page = admin_client.get(
        reverse("admin:campaigns_phonenumber_change", args=[caller_id.pk])
    ).content.decode()
    assert "US-CA" in page and "415" in page and "answer rate 3%" in page

    url = reverse("admin:campaigns_phonenumber_changelist")
    admin_client.post(url, {"action": "disable", "_selected_action": [str(caller_id.pk)]})
    admin_client.post(url, {"action": "lift_rest", "_selected_action": [str(caller_id.pk)]})

    caller_id.refresh_from_db()
    assert caller_id.disabled and caller_id.rested_at is None
    assert AuditEvent.objects.filter(action="phone_number.update").count() == 2
