"""The contact list pages and the campaign page's lists card, through the Django test client."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services
from campaigns.models import CampaignAudience, ContactList, Customer, ListContact
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db

CSV = (
    b"number,name,plan,state\n"
    b"+14155550001,Ana,premium,CA\n+17025550002,Ben,basic,NV\n+12125550003,Cy,premium,NY\n"
)


@pytest.fixture
def renewals(org, owner) -> ContactList:
    made = services.contact_list_create(organization=org, by=owner, name="Renewals")
    rows = [
        services.ContactInput(
            number=f"+1415555{i:04d}", name=f"C{i}", attributes={"n": i % 2}, source=f"c.{i}"
        )
        for i in range(60)
    ]
    services.contacts_import(contact_list=made, by=owner, rows=rows)
    return made


def test_a_manager_creates_a_list_and_imports_a_csv(as_manager) -> None:
    created = as_manager.post(reverse("campaigns:audience-create"), {"name": "Winbacks"})
    contact_list = ContactList.objects.get(name="Winbacks")
    assert created["Location"] == reverse("campaigns:audience", args=[contact_list.pk])

    upload = SimpleUploadedFile("c.csv", CSV, content_type="text/csv")
    imported = as_manager.post(
        reverse("campaigns:audience-import", args=[contact_list.pk]), {"file": upload}, follow=True
    )

    assert "Imported 3 contacts (0 already on the list, skipped)." in imported.content.decode()
    assert ListContact.objects.filter(contact_list=contact_list).count() == 3
    assert "plan: premium" in imported.content.decode()


def test_a_bad_csv_lists_every_bad_line_and_saves_nothing(as_manager, renewals) -> None:
    upload = SimpleUploadedFile("c.csv", b"number,timeZone\n+1415,\n+14155559999,Nowhere/Land\n", "text/csv")

    response = as_manager.post(reverse("campaigns:audience-import", args=[renewals.pk]), {"file": upload})

    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "line 3.timeZone is not an IANA time zone" in page
    assert "line 2.number &#x27;+1415&#x27; too short for its country code" in page
    assert ListContact.objects.filter(contact_list=renewals).count() == 60


def test_an_unreadable_segment_filter_is_shown_next_to_its_field(as_manager, renewals) -> None:
    response = as_manager.post(
        reverse("campaigns:audience-segment-add", args=[renewals.pk]), {"name": "Odd", "filter": "n = 1 AND"}
    )

    assert response.status_code == 422
    assert "expected an attribute name at the end" in response.content.decode()


def test_contacts_page_by_position_and_by_segment(as_viewer, as_manager, renewals) -> None:
    as_manager.post(
        reverse("campaigns:audience-segment-add", args=[renewals.pk]), {"name": "Odd", "filter": "n = 1"}
    )
    segment = renewals.segments.get()
    url = reverse("campaigns:audience", args=[renewals.pk])

    first = as_viewer.get(url).content.decode()
    assert "+14155550049" in first and "+14155550050" not in first and "?after=50" in first
    second = as_viewer.get(f"{url}?after=50", **HTMX).content.decode()
    assert second.startswith('\n<div id="list-contacts">') and "+14155550059" in second
    odd = as_viewer.get(f"{url}?segment={segment.pk}").content.decode()
    assert "+14155550001" in odd and "+14155550002" not in odd
    assert "Import contacts" not in first  # a viewer reads, never changes


def test_the_campaign_page_targets_lists_while_scheduled(as_manager, campaign, renewals, owner) -> None:
    page = as_manager.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Renewals (whole list)" in page

    response = as_manager.post(
        reverse("campaigns:campaign-audiences", args=[campaign.pk]),
        {"targets": [f"list:{renewals.pk}"]},
        follow=True,
    )

    assert "When it starts, the campaign will copy: Renewals." in response.content.decode()
    assert CampaignAudience.objects.get(campaign=campaign).contact_list == renewals
    services.campaign_start(campaign=campaign, by=owner)
    after = as_manager.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    # The campaign's own five customers have the list's first five numbers: not copied again.
    assert "55 customers added, 5 already in the campaign" in after
    assert "Save lists" not in after
    assert Customer.objects.filter(campaign=campaign).count() == 60


def test_deleting_a_targeted_list_is_refused_with_the_reason(as_manager, campaign, renewals, owner) -> None:
    services.campaign_audiences_set(campaign=campaign, by=owner, list_ids=[str(renewals.pk)], segment_ids=[])

    response = as_manager.post(reverse("campaigns:audience-delete", args=[renewals.pk]), follow=True)

    assert (
        "Cannot delete a list that the scheduled campaign &#x27;Renewals&#x27; targets"
        in response.content.decode()
    )
    assert ContactList.objects.filter(pk=renewals.pk).exists()


def test_the_campaign_page_sets_the_calling_calendar(as_manager, as_viewer, campaign, org) -> None:
    org.blackout_dates = ["2027-01-01"]
    org.save()
    url = reverse("campaigns:campaign-calendar", args=[campaign.pk])

    bad = as_manager.post(
        url, {"blackout_dates": "2026-12-25\n25/12/2026", "ambiguous_zones": "every"}, follow=True
    )
    assert (
        "Nothing was saved: &#x27;25/12/2026&#x27; must be a date written YYYY-MM-DD." in bad.content.decode()
    )
    good = as_manager.post(
        url, {"blackout_dates": "2026-12-31, 2026-12-25", "ambiguous_zones": "campaign"}, follow=True
    )

    page = good.content.decode()
    assert "Saved the calling calendar." in page
    assert "Blackout dates: 2026-12-25, 2026-12-31." in page and "The organization's: 2027-01-01." in page
    campaign.refresh_from_db()
    assert (campaign.blackout_dates, campaign.ambiguous_zones) == (["2026-12-25", "2026-12-31"], "campaign")
    assert (
        "Save calendar" not in as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    )


def test_a_typed_lists_schema_fields_are_its_contacts_columns(as_viewer, org, owner) -> None:
    schema = {"type": "object", "properties": {"plan": {"type": "string"}, "seats": {"type": "integer"}}}
    typed = services.contact_list_create(organization=org, by=owner, name="Typed", data_schema=schema)
    rows = [services.ContactInput(number="+14155550001", attributes={"plan": "gold", "seats": 3, "x": "y"})]
    services.contacts_import(contact_list=typed, by=owner, rows=rows)

    page = as_viewer.get(reverse("campaigns:audience", args=[typed.pk])).content.decode()

    assert '<th scope="col">plan</th><th scope="col">seats</th><th scope="col">Other attributes</th>' in page
    assert "<td>gold</td>" in page and "<td>3</td>" in page and '<span class="tag">x: y</span>' in page
