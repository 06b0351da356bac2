"""Who may see and do what: login, roles, and organizations that never see each other's data."""

from __future__ import annotations

import pytest
from django.urls import reverse

from campaigns.models import ApiKey, DoNotCall, Membership
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db

READ_PAGES = ["campaigns:list", "campaigns:do-not-call", "campaigns:caller-ids"]
ADMIN_PAGES = ["campaigns:providers", "campaigns:api-keys", "campaigns:members"]
CAMPAIGN_PAGES = ["detail", "status", "counters", "waiting", "charts", "customers", "calls", "export"]


def test_it_sends_anonymous_visitors_to_the_login_page(client) -> None:
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_site_root_opens_the_campaigns_list(as_owner) -> None:
    response = as_owner.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:list")


def test_the_login_page_logs_people_in_and_sends_them_to_the_campaigns(client, owner) -> None:
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'<label for="id_username">' in page.content
    response = client.post(reverse("login"), {"username": "olivia", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:list")


def test_a_wrong_password_is_refused_with_a_message(client, owner) -> None:
    response = client.post(reverse("login"), {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logging_out_takes_a_post(as_owner) -> None:
    assert as_owner.post(reverse("logout")).status_code == 302
    assert as_owner.get(reverse("campaigns:list")).status_code == 302


def test_someone_without_an_organization_is_told_so(django_user_model, client) -> None:
    user = django_user_model.objects.create_user("nobody", password="x")
    client.force_login(user)
    response = client.get(reverse("campaigns:list"))
    assert response.status_code == 403
    assert b"not a member of any organization" in response.content


@pytest.mark.parametrize("url_name", READ_PAGES)
def test_every_member_can_read_the_shared_pages(url_name, as_viewer, as_manager, as_owner) -> None:
    for client in (as_viewer, as_manager, as_owner):
        assert client.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("url_name", ADMIN_PAGES)
def test_only_admins_open_keys_providers_and_members(url_name, as_viewer, as_manager, as_owner) -> None:
    assert as_viewer.get(reverse(url_name)).status_code == 403
    assert as_manager.get(reverse(url_name)).status_code == 403
    assert as_owner.get(reverse(url_name)).status_code == 200


@pytest.mark.parametrize("name", CAMPAIGN_PAGES)
def test_a_viewer_reads_every_campaign_page(name, as_viewer, campaign) -> None:
    assert as_viewer.get(reverse(f"campaigns:{name}", args=[campaign.pk])).status_code == 200


def test_a_viewer_sees_no_write_buttons(as_viewer, campaign) -> None:
    detail = as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert reverse("campaigns:start", args=[campaign.pk]) not in detail
    assert reverse("campaigns:end", args=[campaign.pk]) not in detail
    assert reverse("campaigns:edit", args=[campaign.pk]) not in detail
    listing = as_viewer.get(reverse("campaigns:list")).content.decode()
    assert reverse("campaigns:create") not in listing
    dnc = as_viewer.get(reverse("campaigns:do-not-call")).content.decode()
    assert reverse("campaigns:do-not-call-add") not in dnc


def test_admin_links_show_in_the_navigation_for_admins_only(as_manager, as_owner) -> None:
    assert reverse("campaigns:api-keys") not in as_manager.get(reverse("campaigns:list")).content.decode()
    assert reverse("campaigns:api-keys") in as_owner.get(reverse("campaigns:list")).content.decode()


@pytest.mark.parametrize("action", ["start", "pause", "resume", "end", "delete", "edit"])
def test_a_viewer_gets_403_on_every_campaign_write(action, as_viewer, campaign) -> None:
    response = as_viewer.post(reverse(f"campaigns:{action}", args=[campaign.pk]), **HTMX)
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "scheduled" and campaign.deleted_at is None


def test_a_viewer_gets_403_on_creating_a_campaign_and_on_the_do_not_call_list(as_viewer) -> None:
    assert as_viewer.get(reverse("campaigns:create")).status_code == 403
    assert as_viewer.post(reverse("campaigns:create"), {"name": "x"}).status_code == 403
    assert as_viewer.post(reverse("campaigns:do-not-call-add"), {"number": "+14155550123"}).status_code == 403
    assert not DoNotCall.objects.exists()


def test_a_manager_runs_campaigns_but_gets_403_on_admin_writes(as_manager, campaign, provider) -> None:
    assert as_manager.post(reverse("campaigns:start", args=[campaign.pk]), **HTMX).status_code == 200
    assert as_manager.post(reverse("campaigns:api-key-add"), {"name": "k"}).status_code == 403
    assert (
        as_manager.post(reverse("campaigns:provider-add"), {"name": "p", "kind": "simulated"}).status_code
        == 403
    )
    assert as_manager.post(reverse("campaigns:caller-id-add"), {"number": "+14155550177"}).status_code == 403
    assert as_manager.post(reverse("campaigns:member-add"), {"username": "x"}).status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize("name", [*CAMPAIGN_PAGES, "edit"])
def test_another_organizations_campaign_is_not_found(name, as_owner, their_campaign) -> None:
    assert as_owner.get(reverse(f"campaigns:{name}", args=[their_campaign.pk])).status_code == 404


@pytest.mark.parametrize("action", ["start", "end", "delete"])
def test_another_organizations_campaign_cannot_be_changed(action, as_owner, their_campaign) -> None:
    assert as_owner.post(reverse(f"campaigns:{action}", args=[their_campaign.pk]), **HTMX).status_code == 404
    their_campaign.refresh_from_db()
    assert their_campaign.status == "scheduled" and their_campaign.deleted_at is None


def test_another_organizations_settings_rows_are_not_found(
    as_owner, outsider, other_org, other_caller_id
) -> None:
    from campaigns import services

    key, _ = services.api_key_create(organization=other_org, by=outsider, name="theirs")
    services.dnc_add(organization=other_org, by=outsider, numbers=[("+14155550123", "")])
    entry = DoNotCall.objects.get(organization=other_org)
    membership = Membership.objects.get(user=outsider)
    assert as_owner.post(reverse("campaigns:api-key-revoke", args=[key.pk])).status_code == 404
    assert as_owner.post(reverse("campaigns:do-not-call-remove", args=[entry.pk])).status_code == 404
    assert as_owner.post(reverse("campaigns:caller-id-remove", args=[other_caller_id.pk])).status_code == 404
    assert (
        as_owner.post(reverse("campaigns:member-role", args=[membership.pk]), {"role": "viewer"}).status_code
        == 404
    )
    key.refresh_from_db()
    assert key.revoked_at is None and DoNotCall.objects.filter(pk=entry.pk).exists()


def test_the_campaigns_list_shows_only_our_organizations_campaigns(
    as_owner, campaign, their_campaign
) -> None:
    content = as_owner.get(reverse("campaigns:list")).content.decode()
    assert "Renewals" in content and "Theirs" not in content


def test_someone_in_two_organizations_switches_between_them(
    client, member_of_two, campaign, their_campaign
) -> None:
    client.force_login(member_of_two)
    page = client.get(reverse("campaigns:list")).content.decode()
    assert "Renewals" in page and 'name="organization"' in page
    response = client.post(
        reverse("campaigns:switch-organization"), {"organization": str(their_campaign.organization_id)}
    )
    assert response.status_code == 302
    page = client.get(reverse("campaigns:list")).content.decode()
    assert "Theirs" in page and "Renewals" not in page
    # There they are a viewer: no starting anything.
    assert client.post(reverse("campaigns:start", args=[their_campaign.pk])).status_code == 403


def test_switching_to_an_organization_one_is_not_in_changes_nothing(as_owner, other_org, campaign) -> None:
    as_owner.post(reverse("campaigns:switch-organization"), {"organization": str(other_org.pk)})
    assert "Renewals" in as_owner.get(reverse("campaigns:list")).content.decode()
