"""/contact-list, /segment and /campaign/{id}/audiences: lists built and imported over HTTP, errors in
the API's envelope, and a campaign that copies a segment when it starts."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Customer, ListContact
from tests.api.conftest import messages

AREAS = ("212", "213", "305", "312", "404", "415", "512", "617", "702", "808")
STATES = ("NY", "CA", "FL", "IL", "GA", "CA", "TX", "MA", "NV", "HI")


def csv_upload(count: int, *, header: str = "number,name,plan,state") -> SimpleUploadedFile:
    plans = ("premium", "basic", "basic")
    lines = [header] + [
        f"+1{AREAS[i % 10]}55{i // 10:05d},Contact {i},{plans[i % 3]},{STATES[i % 10]}" for i in range(count)
    ]
    return SimpleUploadedFile("contacts.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


@pytest.fixture
def contact_list(api) -> dict:
    response = api.post("/contact-list", {"name": "Renewals", "description": "Quarterly"}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_list_is_created_read_listed_and_named_uniquely(api, contact_list, org) -> None:
    assert contact_list | {"id": "-", "createdAt": "-", "updatedAt": "-"} == {
        "id": "-",
        "orgId": str(org.pk),
        "name": "Renewals",
        "description": "Quarterly",
        "contactsTotal": 0,
        "segments": [],
        "createdAt": "-",
        "updatedAt": "-",
    }
    assert api.get(f"/contact-list/{contact_list['id']}").json() == contact_list
    assert api.get("/contact-list").json()["results"] == [contact_list]

    taken = api.post("/contact-list", {"name": "Renewals"}, format="json")
    assert (taken.status_code, messages(taken)) == (400, ["name is already the name of another list"])
    empty = api.post("/contact-list", {"name": "", "colour": "red"}, format="json")
    assert messages(empty) == ["property colour should not exist", "name should not be empty"]


def test_another_organization_cannot_see_or_touch_our_list(other_api, contact_list) -> None:
    for method, path in (
        ("get", ""),
        ("delete", ""),
        ("get", "/contacts"),
        ("post", "/segments"),
    ):
        response = getattr(other_api, method)(f"/contact-list/{contact_list['id']}{path}", {}, format="json")
        assert response.status_code == 404, (method, path)
    assert other_api.get("/contact-list").json()["results"] == []


def test_json_contacts_are_imported_all_or_nothing_with_every_bad_row_named(api, contact_list) -> None:
    url = f"/contact-list/{contact_list['id']}/contacts"
    bad = [
        {"number": "+14155550001", "attributes": {"plan": "premium"}},
        {"number": "+1415", "timeZone": "Mars/Olympus"},
        {"number": "+14155550003", "consentAt": "yesterday", "attributes": {"tier": {"x": 1}}},
    ]

    refused = api.post(url, bad, format="json")

    assert refused.status_code == 400
    assert messages(refused) == [
        "contacts.1.timeZone is not an IANA time zone (e.g. America/Chicago)",
        "contacts.2.consentAt must be a valid ISO 8601 date string with a UTC offset",
        "contacts.2.attributes.tier must be a string or a number",
    ]
    assert not ListContact.objects.exists()

    good = [
        {"number": "+14155550001", "name": "Ana", "attributes": {"plan": "premium", "seats": 12}},
        {"number": "+1 415 555 0001"},
        {"number": "+17025550002", "consentSource": "web", "consentAt": "2026-03-01T10:00:00+02:00"},
    ]
    added = api.post(url, good, format="json")
    assert (added.status_code, added.json()) == (201, {"added": 2, "duplicates": 1})
    page = api.get(url).json()
    assert page["metadata"]["totalItems"] == 2
    assert page["results"][1] | {"id": "-", "createdAt": "-"} == {
        "id": "-",
        "number": "+17025550002",
        "attributes": {},
        "metadata": {},
        "consentSource": "web",
        "consentAt": "2026-03-01T08:00:00.000Z",
        "numberTimeZones": ["America/Los_Angeles"],
        "createdAt": "-",
    }


def test_an_impossible_number_in_a_csv_is_named_by_line(api, contact_list) -> None:
    file = SimpleUploadedFile("c.csv", b"number,plan\n+14155550001,a\n+1415,b\n", content_type="text/csv")

    response = api.post(f"/contact-list/{contact_list['id']}/contacts", {"file": file}, format="multipart")

    assert response.status_code == 400
    assert messages(response) == ["line 3: number '+1415' too short for its country code"]


def test_it_imports_100000_contacts_from_one_csv_upload(api, contact_list) -> None:
    started = time.monotonic()

    response = api.post(
        f"/contact-list/{contact_list['id']}/contacts", {"file": csv_upload(100_000)}, format="multipart"
    )

    elapsed = time.monotonic() - started
    print(f"\n100,000-contact CSV import: {elapsed:.1f} s")
    assert (response.status_code, response.json()) == (201, {"added": 100_000, "duplicates": 0})
    assert api.get(f"/contact-list/{contact_list['id']}").json()["contactsTotal"] == 100_000
    assert elapsed < 60


def test_segments_filter_contacts_and_unreadable_filters_are_refused(api, contact_list) -> None:
    base = f"/contact-list/{contact_list['id']}"
    api.post(f"{base}/contacts", {"file": csv_upload(30)}, format="multipart")

    bad = api.post(f"{base}/segments", {"name": "West", "filter": "state IN (CA, NV"}, format="json")
    assert (bad.status_code, messages(bad)) == (400, ["filter expected ')' after the values at the end"])

    created = api.post(
        f"{base}/segments", {"name": "West", "filter": "state in (CA,NV) and plan=premium"}, format="json"
    )
    assert created.status_code == 201, created.json()
    segment = created.json()
    assert segment["filter"] == "state IN (CA, NV) AND plan = premium"
    contacts = api.get(f"{base}/contacts", {"segmentId": segment["id"]}).json()["results"]
    assert {(c["attributes"]["state"], c["attributes"]["plan"]) for c in contacts} == {
        ("CA", "premium"),
        ("NV", "premium"),
    }
    assert api.get(f"/segment/{segment['id']}").json()["contacts"] == len(contacts) == 3
    assert api.get(base).json()["segments"] == [segment]


def test_a_campaign_targets_a_segment_and_copies_it_when_it_starts(api, contact_list, create) -> None:
    base = f"/contact-list/{contact_list['id']}"
    api.post(f"{base}/contacts", {"file": csv_upload(30)}, format="multipart")
    segment = api.post(f"{base}/segments", {"name": "CA", "filter": "state = CA"}, format="json").json()
    campaign = create(1)

    wrong = api.put(f"/campaign/{campaign['id']}/audiences", {"segmentIds": ["nope"]}, format="json")
    assert messages(wrong) == ["segmentIds.0 does not name a segment of this organization"]
    chosen = api.put(f"/campaign/{campaign['id']}/audiences", {"segmentIds": [segment["id"]]}, format="json")
    assert chosen.status_code == 200, chosen.json()
    assert chosen.json() == [
        {
            "contactListId": contact_list["id"],
            "listName": "Renewals",
            "segmentId": segment["id"],
            "segmentName": "CA",
            "filter": "state = CA",
            "contactsAdded": 0,
            "duplicates": 0,
            "doNotCall": 0,
        }
    ]

    assert api.post(f"/campaign/{campaign['id']}/start").status_code == 202

    audiences = api.get(f"/campaign/{campaign['id']}/audiences").json()
    assert audiences[0]["contactsAdded"] == 6 and "snapshotAt" in audiences[0]
    assert Customer.objects.filter(campaign_id=campaign["id"]).count() == 7
    late = api.put(f"/campaign/{campaign['id']}/audiences", {"contactListIds": []}, format="json")
    assert (late.status_code, late.json()["status"]) == (409, "in-progress")
    gone = api.delete(base)
    assert gone.status_code == 200
    assert api.get(f"/campaign/{campaign['id']}/audiences").json()[0]["contactListId"] is None


def test_a_list_a_scheduled_campaign_targets_answers_409_on_delete(api, contact_list, create) -> None:
    campaign = create(1)
    api.put(f"/campaign/{campaign['id']}/audiences", {"contactListIds": [contact_list["id"]]}, format="json")

    response = api.delete(f"/contact-list/{contact_list['id']}")

    assert response.status_code == 409
    assert "targets; remove it from that campaign first" in messages(response)[0]


# -- typed data ----------------------------------------------------------------------------------

PLAN_SCHEMA = {
    "type": "object",
    "properties": {"plan": {"enum": ["basic", "premium"]}, "seats": {"type": "integer", "minimum": 1}},
    "required": ["plan"],
}


def test_a_lists_schemas_check_every_imported_row_by_row_and_path(api) -> None:
    created = api.post(
        "/contact-list",
        {
            "name": "Typed",
            "dataSchema": PLAN_SCHEMA,
            "metadataSchema": {"type": "object", "maxProperties": 1},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    url = f"/contact-list/{created.json()['id']}/contacts"
    rows = [
        {"number": "+14155550001", "attributes": {"plan": "premium", "seats": 3}, "metadata": {"crm": "a1"}},
        {"number": "+14155550002", "attributes": {"plan": "gold", "seats": 0}},
        {"number": "+14155550003", "metadata": {"a": 1, "b": 2}},
    ]

    refused = api.post(url, rows, format="json")

    assert refused.status_code == 400
    assert messages(refused) == [
        "contacts.1.attributes.plan 'gold' is not one of ['basic', 'premium']",
        "contacts.1.attributes.seats 0 is less than the minimum of 1",
        "contacts.2.attributes 'plan' is a required property",
        "contacts.2.metadata {'a': 1, 'b': 2} has too many properties",
    ]
    assert not ListContact.objects.exists()
    file = SimpleUploadedFile(
        "c.csv", b"number,plan,metadata.crm\n+14155550001,basic,x\n+14155550002,\n", "text/csv"
    )
    by_line = api.post(url, {"file": file}, format="multipart")
    assert messages(by_line) == ["line 3: attributes 'plan' is a required property"]
    assert api.post(url, rows[:1], format="json").status_code == 201
    assert api.get(url).json()["results"][0]["metadata"] == {"crm": "a1"}


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array"}, "dataSchema must describe an object (type: object)"),
        ({"type": "object", "properties": {"a": {"type": "strin"}}}, "dataSchema is not a valid JSON Schema"),
        ({"$ref": "https://example.com/s.json"}, "dataSchema may only refer to its own definitions"),
        ("plan", "dataSchema must be an object"),
    ],
)
def test_schemas_that_cannot_be_used_are_refused(api, schema, message) -> None:
    response = api.post("/contact-list", {"name": "Typed", "dataSchema": schema}, format="json")

    assert response.status_code == 400
    assert messages(response)[0].startswith(message), messages(response)


def test_a_campaign_schema_is_versioned_and_holds_for_every_customer_added(api, create) -> None:
    campaign = create(1)
    url = f"/campaign/{campaign['id']}/schema"
    assert api.get(url).json() == {"dataSchema": None, "metadataSchema": None, "version": 0}

    assert (
        api.put(url, {"dataSchema": PLAN_SCHEMA}, format="json").status_code == 400
    )  # its customer has no plan
    customers = f"/campaign/{campaign['id']}/customers"
    Customer.objects.filter(campaign_id=campaign["id"]).update(
        assistant_overrides={"variableValues": {"plan": "basic"}}
    )
    assert api.put(url, {"dataSchema": PLAN_SCHEMA}, format="json").json() == {
        "dataSchema": PLAN_SCHEMA,
        "metadataSchema": None,
        "version": 1,
    }

    bad = api.post(
        customers,
        [{"number": "+14155559001", "assistantOverrides": {"variableValues": {"plan": "x"}}}],
        format="json",
    )
    assert messages(bad) == [
        "customers.0.assistantOverrides.variableValues.plan 'x' is not one of ['basic', 'premium']"
    ]
    file = SimpleUploadedFile("c.csv", b"number,plan\n+14155559002,premium\n+14155559003,\n", "text/csv")
    by_line = api.post(customers, {"file": file}, format="multipart")
    assert messages(by_line) == ["line 3: assistantOverrides.variableValues 'plan' is a required property"]
    assert api.put(url, {"dataSchema": None}, format="json").json() == {
        "dataSchema": None,
        "metadataSchema": None,
        "version": 2,
    }


REGION_SCHEMA = {
    "type": "object",
    "properties": {"region": {"enum": ["north", "south"]}, "score": {"type": "integer"}},
    "required": ["region"],
}


def test_customers_carry_metadata_checked_by_the_campaigns_metadata_schema_and_never_sent(
    api, create
) -> None:
    campaign = create(1)
    url = f"/campaign/{campaign['id']}/schema"
    customers = f"/campaign/{campaign['id']}/customers"
    assert (
        api.put(url, {"dataSchema": None, "metadataSchema": REGION_SCHEMA}, format="json").status_code == 400
    )
    Customer.objects.filter(campaign_id=campaign["id"]).update(metadata={"region": "north"})
    saved = api.put(url, {"dataSchema": None, "metadataSchema": REGION_SCHEMA}, format="json").json()
    assert saved == {"dataSchema": None, "metadataSchema": REGION_SCHEMA, "version": 1}
    # A PUT without metadataSchema keeps it.
    assert api.put(url, {"dataSchema": None}, format="json").json()["metadataSchema"] == REGION_SCHEMA

    bad = api.post(customers, [{"number": "+14155559001", "metadata": {"region": "east"}}], format="json")
    assert messages(bad) == ["customers.0.metadata.region 'east' is not one of ['north', 'south']"]
    assert messages(api.post(customers, [{"number": "+14155559001", "metadata": "x"}], format="json")) == [
        "customers.0.metadata must be an object"
    ]
    file = SimpleUploadedFile(
        "c.csv",
        b"number,plan,metadata.region,metadata.score\n+14155559002,gold,south,7\n+14155559003,,,\n",
        "text/csv",
    )
    by_line = api.post(customers, {"file": file}, format="multipart")
    # CSV cells are text (as for lists): a schema over CSV metadata asks for strings.
    assert messages(by_line) == [
        "line 2: metadata.score '7' is not of type 'integer'",
        "line 3: metadata 'region' is a required property",
    ]
    ok = api.post(
        customers, [{"number": "+14155559004", "metadata": {"region": "south", "score": 7}}], format="json"
    )
    assert ok.status_code in (200, 201), ok.json()
    stored = Customer.objects.get(campaign_id=campaign["id"], number="+14155559004")
    assert stored.metadata == {"region": "south", "score": 7} and stored.assistant_overrides is None
    listed = {c["number"]: c for c in api.get(customers).json()["results"]}
    assert listed["+14155559004"]["metadata"] == {"region": "south", "score": 7}


def test_a_segment_that_breaks_the_campaign_schema_refuses_the_start(api, create) -> None:
    made = api.post("/contact-list", {"name": "Loose"}, format="json").json()
    api.post(
        f"/contact-list/{made['id']}/contacts",
        [{"number": "+17025550001", "attributes": {"plan": "gold"}}],
        format="json",
    )
    campaign = create(1)
    Customer.objects.filter(campaign_id=campaign["id"]).update(
        assistant_overrides={"variableValues": {"plan": "basic"}}
    )
    api.put(f"/campaign/{campaign['id']}/schema", {"dataSchema": PLAN_SCHEMA}, format="json")
    api.put(f"/campaign/{campaign['id']}/audiences", {"contactListIds": [made["id"]]}, format="json")

    refused = api.post(f"/campaign/{campaign['id']}/start")

    assert refused.status_code == 400
    assert messages(refused) == [
        "audiences.Loose.+17025550001.attributes.plan 'gold' is not one of ['basic', 'premium']"
    ]
    assert api.get(f"/campaign/{campaign['id']}").json()["status"] == "scheduled"
    assert Customer.objects.filter(campaign_id=campaign["id"]).count() == 1


# -- the callee's calendar -------------------------------------------------------------------------


def test_a_campaigns_calendar_is_read_and_changed_with_every_bad_date_named(api, create) -> None:
    campaign = create(1)
    url = f"/campaign/{campaign['id']}/calendar"
    assert api.get(url).json() == {
        "blackoutDates": [],
        "ambiguousZones": "every",
        "organizationBlackoutDates": [],
    }

    bad = api.put(
        url, {"blackoutDates": ["2026-12-25", "25/12/2026", 7], "ambiguousZones": "guess"}, format="json"
    )
    assert messages(bad) == ["ambiguousZones must be one of the following values: every, campaign"]
    bad = api.put(url, {"blackoutDates": ["2026-12-25", "25/12/2026", 7]}, format="json")
    assert messages(bad) == [
        "blackoutDates.1 must be a date written YYYY-MM-DD",
        "blackoutDates.2 must be a date written YYYY-MM-DD",
    ]
    api.put("/organization/blackout-dates", {"blackoutDates": ["2027-01-01"]}, format="json")
    changed = api.put(url, {"blackoutDates": ["2026-12-31", "2026-12-25", "2026-12-25"]}, format="json")
    assert changed.json() == {
        "blackoutDates": ["2026-12-25", "2026-12-31"],
        "ambiguousZones": "every",
        "organizationBlackoutDates": ["2027-01-01"],
    }
    assert api.put(url, {"ambiguousZones": "campaign"}, format="json").json()["blackoutDates"] == [
        "2026-12-25",
        "2026-12-31",
    ]


def test_region_rules_are_a_table_every_bad_field_named(api) -> None:
    url = "/organization/region-rules"
    assert api.get(url).json() == {"regionRules": []}
    bad = [
        {"region": "Florida", "windows": [{"day": "mon", "start": "8am", "end": "20:00"}]},
        {"region": "DE", "windows": [], "colour": "red"},
    ]
    refused = api.put(url, {"regionRules": bad}, format="json")
    assert messages(refused) == [
        "regionRules.0.region must be a country (DE) or a country and subdivision (US-FL)",
        "regionRules.0.windows.0.start must be a time as HH:MM (24-hour)",
        "property regionRules.1.colour should not exist",
        "regionRules.1.windows must list at least one window {day, start, end}",
    ]
    rest = [{"day": d, "start": "00:00", "end": "00:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat")]
    good = [{"region": "DE", "windows": rest, "note": "No calls on Sundays"}]
    assert api.put(url, {"regionRules": good}, format="json").json() == {"regionRules": good}


def test_a_customers_own_time_zone_wins_over_the_numbers_zones(api, create) -> None:
    campaign = create(1)
    url = f"/campaign/{campaign['id']}/customers"
    # +1 208 may be Boise or Los Angeles; the callee says where they are.
    bad = api.post(url, [{"number": "+12085550100", "timeZone": "Idaho/Boise"}], format="json")
    assert messages(bad) == ["customers.0.timeZone is not an IANA time zone (e.g. America/Chicago)"]
    assert (
        api.post(url, [{"number": "+12085550100", "timeZone": "America/Boise"}], format="json").status_code
        == 201
    )
    file = SimpleUploadedFile(
        "c.csv", b"number,timeZone\n+12085550101,America/Los_Angeles\n+12085550102,\n", "text/csv"
    )
    assert api.post(url, {"file": file}, format="multipart").status_code == 201

    zones = dict(Customer.objects.filter(campaign_id=campaign["id"]).values_list("number", "time_zones"))
    assert zones["+12085550100"] == "America/Boise"
    assert zones["+12085550101"] == "America/Los_Angeles"
    assert set(zones["+12085550102"].split(",")) == {"America/Boise", "America/Los_Angeles"}
    given = dict(Customer.objects.filter(campaign_id=campaign["id"]).values_list("number", "time_zone"))
    assert (given["+12085550100"], given["+12085550102"]) == ("America/Boise", "")


def test_a_contacts_metadata_becomes_its_customers_and_the_campaigns_metadata_schema_holds_at_start(
    api, create
) -> None:
    made = api.post("/contact-list", {"name": "CRM"}, format="json").json()
    api.post(
        f"/contact-list/{made['id']}/contacts",
        [
            {"number": "+17025550001", "metadata": {"region": "north"}},
            {"number": "+17025550002", "metadata": {"region": "west"}},
        ],
        format="json",
    )
    campaign = create(1)
    Customer.objects.filter(campaign_id=campaign["id"]).update(metadata={"region": "south"})
    api.put(
        f"/campaign/{campaign['id']}/schema",
        {"dataSchema": None, "metadataSchema": REGION_SCHEMA},
        format="json",
    )
    api.put(f"/campaign/{campaign['id']}/audiences", {"contactListIds": [made["id"]]}, format="json")

    refused = api.post(f"/campaign/{campaign['id']}/start")
    assert refused.status_code == 400
    assert messages(refused) == [
        "audiences.CRM.+17025550002.metadata.region 'west' is not one of ['north', 'south']"
    ]
    assert not Customer.objects.filter(campaign_id=campaign["id"], number="+17025550001").exists()

    api.put(f"/campaign/{campaign['id']}/schema", {"dataSchema": None, "metadataSchema": None}, format="json")
    assert api.post(f"/campaign/{campaign['id']}/start").status_code == 202
    copied = Customer.objects.get(campaign_id=campaign["id"], number="+17025550001")
    assert copied.metadata == {"region": "north"} and copied.assistant_overrides is None


def test_where_a_customer_lives_gives_their_zones_and_a_bad_place_is_named(api, create) -> None:
    campaign = create(1)
    url = f"/campaign/{campaign['id']}/customers"
    bad = api.post(
        url,
        [
            {"number": "+12125550100", "region": "US-CA", "postalCode": "77429"},
            {"number": "+12125550101", "region": "Texas"},
            {"number": "+12125550102", "postalCode": "00000"},
            {"number": "+12125550103", "postalCode": 77429},
        ],
        format="json",
    )
    assert messages(bad) == [
        "customers.0.postalCode 77429 is in US-TX, not US-CA",
        "customers.1.region must be an ISO 3166 country or subdivision code, e.g. US-CA or FR",
        "customers.2.postalCode 00000 is not a US ZIP code in use",
        "customers.3.postalCode must be a string",
    ]
    assert Customer.objects.filter(campaign_id=campaign["id"]).count() == 1  # nothing half-saved
    good = [
        {"number": "+12125550100", "postalCode": "79901"},  # a New York number, in El Paso
        {"number": "+12125550101", "region": "us-fl"},
        {"number": "+33142000000", "region": "FR", "postalCode": "75001"},
    ]
    assert api.post(url, good, format="json").status_code == 201
    file = SimpleUploadedFile(
        "c.csv", b"number,region,postalCode\n+12125550104,,96815\n+12125550105,XX,\n", "text/csv"
    )
    refused = api.post(url, {"file": file}, format="multipart")
    assert messages(refused) == [
        "line 3: region 'XX' must be an ISO 3166 country or subdivision code, e.g. US-CA or FR"
    ]
    file = SimpleUploadedFile("c.csv", b"number,region,postalCode\n+12125550104,,96815\n", "text/csv")
    assert api.post(url, {"file": file}, format="multipart").status_code == 201

    listed = {c["number"]: c for c in api.get(url, {"limit": 10}).json()["results"]}
    el_paso = listed["+12125550100"]
    assert (el_paso["region"], el_paso["postalCode"], el_paso["timeZones"]) == (
        "US-TX",
        "79901",
        ["America/Denver"],
    )
    assert listed["+12125550101"]["region"] == "US-FL"
    assert listed["+12125550101"]["timeZones"] == ["America/Chicago", "America/New_York"]
    assert listed["+33142000000"]["timeZones"] == ["Europe/Paris"]
    assert listed["+12125550104"]["timeZones"] == ["Pacific/Honolulu"]
    assert listed["+12125550104"]["region"] == "US-HI"
    assert "region" not in listed["+14155550000"] and listed["+14155550000"]["timeZones"] == [
        "America/Los_Angeles"
    ]


def test_a_contacts_place_is_kept_and_its_zones_go_to_the_campaign(api, contact_list, create) -> None:
    base = f"/contact-list/{contact_list['id']}"
    bad = api.post(f"{base}/contacts", [{"number": "+12125550100", "postalCode": "ABC"}], format="json")
    assert messages(bad) == [
        "contacts.0.postalCode must be a US ZIP code (12345 or 12345-6789), or come with a region"
    ]
    added = api.post(
        f"{base}/contacts",
        [{"number": "+12125550100", "postalCode": "90012"}, {"number": "+12125550101"}],
        format="json",
    )
    assert added.status_code == 201, added.json()
    contacts = {c["number"]: c for c in api.get(f"{base}/contacts").json()["results"]}
    assert (contacts["+12125550100"]["region"], contacts["+12125550100"]["postalCode"]) == ("US-CA", "90012")
    assert contacts["+12125550100"]["numberTimeZones"] == ["America/New_York"]  # the number's, as before

    campaign = create(1)
    api.put(f"/campaign/{campaign['id']}/audiences", {"contactListIds": [contact_list["id"]]}, format="json")
    assert api.post(f"/campaign/{campaign['id']}/start").status_code == 202
    zones = dict(Customer.objects.filter(campaign_id=campaign["id"]).values_list("number", "time_zones"))
    assert zones["+12125550100"] == "America/Los_Angeles"  # where they live wins at the snapshot
    assert zones["+12125550101"] == "America/New_York"
