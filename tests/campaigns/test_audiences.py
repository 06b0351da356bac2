"""Contact lists: imports all or nothing and de-duplicated, segments, and the snapshot a campaign
takes of the lists and segments it targets when it starts."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from campaigns import selectors, services
from campaigns.importers.contacts import check_contact, parse_contacts_csv
from campaigns.models import (
    AuditEvent,
    Call,
    CallStatus,
    CampaignAudience,
    ContactList,
    Customer,
    CustomerState,
    DoNotCall,
    ListContact,
)


def csv_file(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


@pytest.fixture
def renewals(org, owner) -> ContactList:
    return services.contact_list_create(organization=org, by=owner, name="Renewals Q3")


def load(contact_list, owner, text: str) -> services.ContactImportResult:
    return services.contacts_import(
        contact_list=contact_list, by=owner, rows=parse_contacts_csv(csv_file(text))
    )


PEOPLE = (
    "number,name,plan,state,consentSource,consentAt,timeZone\n"
    "+14155550001,Ana,premium,CA,web form,2026-03-01T10:00:00Z,\n"
    "+1 (702) 555-0002,Ben,premium,NV,,,America/Phoenix\n"
    "+12125550003,Cy,basic,NY,,,\n"
    "+13125550004,Di,premium,IL,,,\n"
)


def test_it_imports_contacts_with_attributes_consent_and_zones(renewals, owner) -> None:
    result = load(renewals, owner, PEOPLE)

    assert (result.added, result.duplicates) == (4, 0)
    ana, ben, *_ = ListContact.objects.filter(contact_list=renewals).order_by("position")
    assert ana.attributes == {"plan": "premium", "state": "CA"}
    assert (ana.consent_source, ana.consent_at) == ("web form", datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert ana.time_zones == "America/Los_Angeles"
    assert (ben.number, ben.number_submitted) == ("+17025550002", "+1 (702) 555-0002")
    assert ben.zone_list == ("America/Phoenix",)  # the contact's own zone wins over the number's
    renewals.refresh_from_db()
    assert renewals.contacts_total == 4
    assert AuditEvent.objects.filter(action="contact_list.import", target_id=str(renewals.pk)).exists()


def test_it_skips_numbers_already_in_the_list_in_any_spelling(renewals, owner) -> None:
    load(renewals, owner, PEOPLE)

    result = load(renewals, owner, "number,plan\n+1 415 555 0001,gold\n00442079460104,x\n+442079460104,y\n")

    assert (result.added, result.duplicates) == (1, 2)
    assert (
        ListContact.objects.get(contact_list=renewals, number="+14155550001").attributes["plan"] == "premium"
    )
    renewals.refresh_from_db()
    assert renewals.contacts_total == 5


def test_a_bad_row_saves_nothing_and_every_problem_is_named(renewals, owner) -> None:
    text = (
        "number,name,consentAt,timeZone,plan\n"
        "+14155550001,Ana,,,premium\n"
        "12,Bo,,,basic\n"
        "+14155550003,Cy,yesterday,Mars/Base,basic\n"
    )
    with pytest.raises(services.ValidationFailed) as refused:
        load(renewals, owner, text)

    fields = [error.field for error in refused.value.errors]
    assert fields == ["line 4.consentAt", "line 4.timeZone", "line 3.number"]
    assert "must start with + and a country code" in refused.value.errors[-1].message
    assert not ListContact.objects.exists()
    renewals.refresh_from_db()
    assert renewals.contacts_total == 0


def test_attribute_columns_must_be_names_segments_can_use(renewals, owner) -> None:
    with pytest.raises(services.ValidationFailed) as refused:
        load(renewals, owner, "number,First Name\n+14155550001,Ana\n")

    assert [str(e) for e in refused.value.errors] == [
        "line 1.First Name is not an attribute name: letters, digits and _, "
        "not starting with a digit (at most 64)"
    ]


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"name": "Ana"}, "contacts.0.number should not be empty"),
        ({"number": "+14155550001", "attributes": {"plan": {"tier": 1}}}, "must be a string or a number"),
        ({"number": "+14155550001", "attributes": {"vip": True}}, "must be a string or a number"),
        ({"number": "+14155550001", "consentAt": "2026-03-01T10:00:00"}, "with a UTC offset"),
        ({"number": "+14155550001", "colour": "red"}, "property contacts.0.colour should not exist"),
    ],
)
def test_it_refuses_contacts_that_break_a_rule(values, problem) -> None:
    contact, errors = check_contact(values, "contacts.0")

    assert contact is None
    assert problem in "; ".join(map(str, errors))


def test_list_names_are_unique_in_an_organization(org, other_org, owner, renewals) -> None:
    with pytest.raises(services.ValidationFailed) as refused:
        services.contact_list_create(organization=org, by=owner, name=" Renewals Q3 ")
    assert str(refused.value) == "name is already the name of another list"
    assert services.contact_list_create(organization=other_org, by=None, name="Renewals Q3")


def test_a_segment_is_stored_in_its_canonical_spelling(renewals, owner) -> None:
    load(renewals, owner, PEOPLE)

    segment = services.segment_create(
        contact_list=renewals, by=owner, name="West premium", filter="plan = premium and state in ('CA','NV')"
    )

    assert segment.filter == "plan = premium AND state IN (CA, NV)"
    assert [c.name for c in selectors.list_contacts(renewals, segment=segment)] == ["Ana", "Ben"]
    assert segment.contacts_total == 2


def test_a_segments_count_follows_every_import_without_counting_the_list(renewals, owner) -> None:
    """Segment.contacts_total is what the list page, the audiences form and GET /segment/{id}
    show: counted once at creation, then moved by each import in its transaction (issue 18: a
    COUNT over a ten-million-contact list took seconds)."""
    load(renewals, owner, PEOPLE)
    premium = services.segment_create(
        contact_list=renewals, by=owner, name="Premium", filter="plan = premium"
    )
    not_ny = services.segment_create(contact_list=renewals, by=owner, name="Not NY", filter="state != NY")
    assert (premium.contacts_total, not_ny.contacts_total) == (3, 3)

    more = (
        "number,name,plan,state,tier\n"
        "+14155550001,Ana again,premium,CA,\n"  # a duplicate: moves nothing
        "+14155550005,Ed,premium,,7\n"  # no state: in no condition on state, "!=" included
        "+14155550006,Flo,basic,TX,\n"
    )
    load(renewals, owner, more)
    with pytest.raises(services.ValidationFailed):  # a refused import moves nothing either
        load(renewals, owner, "number,plan\n+14155550007,premium\nnot a number,premium\n")

    for segment in (premium, not_ny):
        segment.refresh_from_db()
        assert segment.contacts_total == selectors.list_contacts(renewals, segment=segment).count()
    assert (premium.contacts_total, not_ny.contacts_total) == (4, 4)


def test_an_unreadable_filter_is_refused_with_where_and_why(renewals, owner) -> None:
    with pytest.raises(services.ValidationFailed) as refused:
        services.segment_create(contact_list=renewals, by=owner, name="x", filter="plan = premium AND; DROP")
    assert str(refused.value) == "filter cannot read '; DROP' at character 19"


# -- campaigns --------------------------------------------------------------------------------------


@pytest.fixture
def targeting(renewals, owner, make_campaign):
    """A scheduled campaign with one inline customer (Ana's number) targeting the list's premium segment."""
    load(renewals, owner, PEOPLE)
    premium = services.segment_create(
        contact_list=renewals, by=owner, name="Premium", filter="plan = premium"
    )
    campaign = make_campaign(customers=[services.CustomerInput(number="+14155550001", name="Inline Ana")])
    services.campaign_audiences_set(campaign=campaign, by=owner, list_ids=[], segment_ids=[str(premium.pk)])
    return campaign, premium


def test_starting_copies_the_targeted_segment_into_customers(targeting, owner, org) -> None:
    campaign, premium = targeting
    DoNotCall.objects.create(organization=org, number="+13125550004", source="manual")
    assert Customer.objects.filter(campaign=campaign).count() == 1  # nothing copied before the start

    services.campaign_start(campaign=campaign, by=owner)

    rows = {c.number: c for c in Customer.objects.filter(campaign=campaign)}
    assert set(rows) == {"+14155550001", "+17025550002", "+13125550004"}
    assert rows["+14155550001"].name == "Inline Ana"  # already a customer: kept, not copied again
    ben = rows["+17025550002"]
    assert ben.assistant_overrides == {"variableValues": {"plan": "premium", "state": "NV"}}
    assert ben.zone_list == ("America/Phoenix",)
    assert (rows["+13125550004"].state, rows["+13125550004"].reason) == (CustomerState.SKIPPED, "do_not_call")
    audience = CampaignAudience.objects.get(campaign=campaign)
    assert (audience.label, audience.filter) == ("Renewals Q3 › Premium", "plan = premium")
    assert (audience.contacts_added, audience.duplicates, audience.do_not_call) == (2, 1, 1)
    assert audience.snapshot_at is not None
    campaign.refresh_from_db()
    assert (campaign.customers_total, campaign.customers_pending, campaign.customers_skipped) == (3, 2, 1)


def test_a_list_changed_after_the_start_leaves_the_campaign_alone(targeting, owner, renewals) -> None:
    campaign, _ = targeting
    services.campaign_start(campaign=campaign, by=owner)

    load(renewals, owner, "number,plan\n+16175550009,premium\n")

    assert Customer.objects.filter(campaign=campaign).count() == 3


def test_deleting_a_list_keeps_the_campaigns_customers_calls_and_record(
    targeting, owner, renewals, org, caller_id
) -> None:
    campaign, _ = targeting
    services.campaign_start(campaign=campaign, by=owner)
    customer = Customer.objects.get(campaign=campaign, number="+17025550002")
    Call.objects.create(
        organization=org,
        campaign=campaign,
        customer=customer,
        phone_number=caller_id,
        provider_account=caller_id.provider_account,
        attempt=1,
        status=CallStatus.ENDED,
        ended_reason="customer-ended-call",
    )

    services.contact_list_delete(contact_list=renewals, by=owner)

    assert not ListContact.objects.exists()
    assert Customer.objects.filter(campaign=campaign).count() == 3
    assert Call.objects.filter(campaign=campaign).count() == 1
    audience = CampaignAudience.objects.get(campaign=campaign)
    assert (audience.contact_list, audience.segment, audience.label) == (None, None, "Renewals Q3 › Premium")


def test_a_list_a_scheduled_campaign_targets_cannot_be_deleted(targeting, owner, renewals) -> None:
    with pytest.raises(services.InvalidTransition) as refused:
        services.contact_list_delete(contact_list=renewals, by=owner)
    assert "scheduled campaign 'Renewals' targets" in str(refused.value)
    assert ContactList.objects.filter(pk=renewals.pk).exists()


def test_only_a_scheduled_campaign_changes_its_audiences(targeting, owner, renewals) -> None:
    campaign, _ = targeting
    services.campaign_start(campaign=campaign, by=owner)

    with pytest.raises(services.InvalidTransition):
        services.campaign_audiences_set(
            campaign=campaign, by=owner, list_ids=[str(renewals.pk)], segment_ids=[]
        )


def test_ids_of_another_organization_are_refused_by_position(make_campaign, owner, other_org) -> None:
    theirs = services.contact_list_create(organization=other_org, by=None, name="Theirs")
    campaign = make_campaign(1)

    with pytest.raises(services.ValidationFailed) as refused:
        services.campaign_audiences_set(
            campaign=campaign, by=owner, list_ids=[str(theirs.pk), "nope"], segment_ids=["x"]
        )

    assert [e.field for e in refused.value.errors] == [
        "contact_list_ids.0",
        "contact_list_ids.1",
        "segment_ids.0",
    ]
    assert not CampaignAudience.objects.exists()


def test_a_whole_list_and_a_segment_of_it_copy_each_number_once(renewals, owner, make_campaign) -> None:
    load(renewals, owner, PEOPLE)
    premium = services.segment_create(
        contact_list=renewals, by=owner, name="Premium", filter="plan = premium"
    )
    campaign = make_campaign(1, customers=[services.CustomerInput(number="+16175550000")])
    services.campaign_audiences_set(
        campaign=campaign, by=owner, list_ids=[str(renewals.pk)], segment_ids=[str(premium.pk)]
    )

    services.campaign_start(campaign=campaign, by=owner)

    assert Customer.objects.filter(campaign=campaign).count() == 5
    added = sorted((a.label, a.contacts_added, a.duplicates) for a in CampaignAudience.objects.all())
    assert sum(row[1] for row in added) == 4
    assert sum(row[2] for row in added) == 3
