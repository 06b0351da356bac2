"""POST /campaign/{id}/customers: JSON arrays and CSV uploads, 100,000 rows in one request,
all or nothing, every bad row reported by line (CSV) or index (JSON)."""

from __future__ import annotations

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Campaign, Customer
from tests.api.conftest import messages

AREAS = ("212", "213", "305", "312", "404", "415", "512", "617", "702", "808")


def csv_rows(count: int) -> list[str]:
    """`count` distinct US numbers (10 area codes) with a name and one template variable."""
    return [f"+1{AREAS[i % 10]}55{i // 10:05d},Customer {i},gold" for i in range(count)]


def upload(
    lines: list[str], *, header: str = "number,name,tier", name: str = "customers.csv", bom: bool = False
):
    text = "\n".join([header, *lines]) + "\n"
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    return SimpleUploadedFile(name, data, content_type="text/csv")


@pytest.fixture
def campaign(create) -> dict:
    return create(1)


def post_csv(api, campaign: dict, file) -> object:
    return api.post(f"/campaign/{campaign['id']}/customers", {"file": file}, format="multipart")


def test_it_adds_100000_customers_from_one_csv_upload(api, campaign) -> None:
    started = time.monotonic()

    response = post_csv(api, campaign, upload(csv_rows(100_000)))

    elapsed = time.monotonic() - started
    print(f"\n100,000-row CSV import: {elapsed:.1f} s")
    assert response.status_code == 201, response.json()
    assert response.json() == {"added": 100_000, "duplicates": 0, "doNotCall": 0, "invalidNumbers": 0}
    stored = Campaign.objects.get(pk=campaign["id"])
    assert Customer.objects.filter(campaign=stored).count() == 100_001
    assert stored.customers_total == 100_001
    last = Customer.objects.filter(campaign=stored).order_by("-position").first()
    assert last.assistant_overrides == {"variableValues": {"tier": "gold"}}
    assert elapsed < 60


def test_the_same_file_with_three_bad_rows_saves_nothing_and_names_the_three_lines(api, campaign) -> None:
    rows = csv_rows(100_000)
    rows[6] = "4155551234,Not E164,gold"  # line 8 (the header is line 1)
    rows[50_000] = ",No number at all,gold"  # line 50,002
    rows[99_998] = "+1415555123" + "4" * 30 + ",Too long,gold"  # line 100,000

    response = post_csv(api, campaign, upload(rows))

    assert response.status_code == 400
    assert messages(response) == [
        "line 8: number must be a valid phone number in E.164 format",
        "line 50002: number is required when sipUri is not provided",
        "line 100000: number must be shorter than or equal to 40 characters",
    ]
    stored = Campaign.objects.get(pk=campaign["id"])
    assert Customer.objects.filter(campaign=stored).count() == 1
    assert stored.customers_total == 1


def test_it_adds_customers_from_a_json_array(api, campaign) -> None:
    body = [{"number": "+14155550900", "name": "Ada"}, {"sipUri": "sip:desk@example.com", "extension": "12"}]

    response = api.post(f"/campaign/{campaign['id']}/customers", body, format="json")

    assert response.status_code == 201
    assert response.json() == {"added": 2, "duplicates": 0, "doNotCall": 0, "invalidNumbers": 0}
    customers = api.get(f"/campaign/{campaign['id']}").json()["customers"]
    assert customers[1:] == body


def test_a_json_array_with_bad_rows_saves_nothing_and_names_each_one(api, campaign) -> None:
    body = [
        {"number": "+14155550900"},
        {"number": "4155550900"},
        {"number": "+14155550901", "retry": True},
        "x",
    ]

    response = api.post(f"/campaign/{campaign['id']}/customers", body, format="json")

    assert response.status_code == 400
    assert messages(response) == [
        "customers.1.number must be a valid phone number in E.164 format",
        "property customers.2.retry should not exist",
        "customers.3 must be an object",
    ]
    assert Customer.objects.filter(campaign_id=campaign["id"]).count() == 1


def test_a_100000_customer_json_array_is_accepted(api, campaign) -> None:
    body = [{"number": f"+1{AREAS[i % 10]}55{i // 10:05d}", "name": f"C {i}"} for i in range(100_000)]

    started = time.monotonic()
    response = api.post(f"/campaign/{campaign['id']}/customers", body, format="json")

    print(f"\n100,000-row JSON import: {time.monotonic() - started:.1f} s")
    assert response.status_code == 201, response.json()
    assert response.json()["added"] == 100_000
    assert Campaign.objects.get(pk=campaign["id"]).customers_total == 100_001


def test_numbers_already_in_the_campaign_are_skipped_and_counted(api, campaign) -> None:
    first = campaign["customers"][0]["number"]

    response = post_csv(
        api, campaign, upload([f"{first},Again,", "+14155550901,New,", "+14155550901,Twice,"])
    )

    assert response.status_code == 201
    assert response.json() == {"added": 1, "duplicates": 2, "doNotCall": 0, "invalidNumbers": 0}


def test_do_not_call_numbers_are_added_as_skipped(api, campaign) -> None:
    api.post("/dnc", {"number": "+14155550902"}, format="json")

    response = post_csv(api, campaign, upload(["+14155550902,Blocked,", "+14155550903,Fine,"]))

    assert response.json() == {"added": 2, "duplicates": 0, "doNotCall": 1, "invalidNumbers": 0}
    skipped = api.get(f"/campaign/{campaign['id']}/customers?reason=do_not_call").json()["results"]
    assert [(c["number"], c["state"]) for c in skipped] == [("+14155550902", "skipped")]


def test_it_reads_utf8_with_a_bom_semicolons_and_quoted_newlines(api, campaign) -> None:
    file = upload(
        ['+14155550904;"Zoë ""Z"" Ng";"Line one', 'line two"', "+14155550905;Émile;plain"],
        header="Number;Name;note",
        bom=True,
    )

    response = post_csv(api, campaign, file)

    assert response.status_code == 201, response.json()
    customers = api.get(f"/campaign/{campaign['id']}").json()["customers"][1:]
    assert customers == [
        {
            "number": "+14155550904",
            "name": 'Zoë "Z" Ng',
            "assistantOverrides": {"variableValues": {"note": "Line one\nline two"}},
        },
        {
            "number": "+14155550905",
            "name": "Émile",
            "assistantOverrides": {"variableValues": {"note": "plain"}},
        },
    ]


def test_errors_after_a_quoted_newline_name_the_line_the_row_starts_on(api, campaign) -> None:
    file = upload(['+14155550904,"two', 'lines",x', "nope,Bad,y"])

    response = post_csv(api, campaign, file)

    assert messages(response) == ["line 4: number must be a valid phone number in E.164 format"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty: the first line must name the columns"),
        (b"number,name\n", "file has a header line but no rows"),
        (b"\xef\xbb\xbfnumber,name\r\n\r\n", "file has a header line but no rows"),
        (b"name,email\nAda,a@example.com\n", "line 1: must name a number or a sipUri column"),
        (b"number,name\n+14155550906,\xe9t\xe9\n", "file is not UTF-8 text; save it as CSV UTF-8"),
        (b"number\n+14155550906,extra\n", "line 2: has 2 values but the header names 1 columns"),
        (b"number,Number\n+14155550906,+14155550907\n", "line 1: names the column Number twice"),
    ],
)
def test_unreadable_files_get_a_clear_error(content, message, api, campaign) -> None:
    response = post_csv(api, campaign, SimpleUploadedFile("c.csv", content, content_type="text/csv"))

    assert response.status_code == 400
    assert messages(response) == [message]


def test_a_multipart_request_without_a_file_is_refused(api, campaign) -> None:
    response = api.post(f"/campaign/{campaign['id']}/customers", {"other": "x"}, format="multipart")

    assert response.status_code == 400
    assert messages(response) == ["file is required: upload the CSV in a field named file"]


def test_a_json_body_that_is_not_an_array_is_refused(api, campaign) -> None:
    response = api.post(f"/campaign/{campaign['id']}/customers", {"number": "+14155550906"}, format="json")

    assert response.status_code == 400
    assert "array of customers" in messages(response)[0]


def test_customers_cannot_be_added_to_an_ended_campaign(api, campaign) -> None:
    api.post(f"/campaign/{campaign['id']}/end")

    response = post_csv(api, campaign, upload(["+14155550907,Late,"]))

    assert response.status_code == 409
    assert response.json()["status"] == "ended"


def test_customers_cannot_be_added_to_a_dial_plan_campaign(api, fixture_numbers) -> None:
    from tests.api.conftest import load_fixture

    created = api.post("/campaign", load_fixture("create-dialplan.json"), format="json").json()

    response = api.post(f"/campaign/{created['id']}/customers", [{"number": "+14155550908"}], format="json")

    assert response.status_code == 400
    assert messages(response) == ["customers cannot be added to a campaign that uses a dial plan"]


def test_parse_customers_csv_streams_rows_and_collects_errors() -> None:
    from campaigns.importers import parse_customers_csv

    rows = parse_customers_csv(io.BytesIO(b"number,externalId,city\n+14155550909,crm-1,Oslo\nbad,crm-2,\n"))

    first = next(iter(rows))
    assert (first.number, first.external_id, first.source) == ("+14155550909", "crm-1", "line 2")
    assert first.assistant_overrides == {"variableValues": {"city": "Oslo"}}
    assert rows.errors == []  # nothing read past the first row yet


def test_large_campaigns_list_their_first_10000_customers_and_say_where_the_rest_is(
    api, campaign, vapi_schema
) -> None:
    post_csv(api, campaign, upload(csv_rows(10_000)))

    body = api.get(f"/campaign/{campaign['id']}").json()

    # Vapi's Campaign requires `calls`, and holds 10,000 customers at most.
    assert not list(vapi_schema("Campaign").iter_errors(body))
    assert len(body["customers"]) == 10_000
    assert body["customers"][0] == {"number": "+14155550000", "name": "Customer 0"}  # in order
    assert body["calls"] == {}
    assert body["truncated"] == {
        "customers": {
            "returned": 10_000,
            "total": 10_001,
            "next": f"/campaign/{campaign['id']}/customers?page=11&limit=1000",
        }
    }
    rest = api.get(body["truncated"]["customers"]["next"]).json()
    assert rest["metadata"]["totalItems"] == 10_001
    assert [c["number"] for c in rest["results"]] == [csv_rows(10_000)[-1].split(",")[0]]


def test_a_large_campaigns_latest_calls_name_their_customers_listed_or_not(api, campaign) -> None:
    """The `calls` map of a truncated document: each call carries its customer as submitted,
    whether that customer is among the 10,000 listed or beyond them (read with the calls)."""
    from campaigns.models import Call, Customer

    post_csv(api, campaign, upload(csv_rows(10_000)))
    customers = Customer.objects.filter(campaign_id=campaign["id"])
    listed, beyond = customers.get(position=0), customers.get(position=10_000)
    Customer.objects.filter(pk=beyond.pk).update(name="Beyond the list", external_id="crm-beyond")
    made = {}
    for customer in (listed, beyond):
        call = Call.objects.create(
            organization_id=customer.campaign.organization_id,
            campaign_id=customer.campaign_id,
            customer=customer,
            phone_number_id=customer.campaign.phone_number_id,
            provider_account_id=customer.campaign.phone_number.provider_account_id,
            attempt=1,
            status="ended",
            ended_reason="customer-busy",
        )
        made[str(call.pk)] = customer

    body = api.get(f"/campaign/{campaign['id']}").json()

    assert set(body["calls"]) == set(made)
    near = next(pk for pk, customer in made.items() if customer.pk == listed.pk)
    far = next(pk for pk, customer in made.items() if customer.pk == beyond.pk)
    assert body["calls"][near]["customer"] == body["customers"][0]  # the very echo of the list
    echo = body["calls"][far]["customer"]
    assert (echo["number"], echo["name"]) == (beyond.number, "Beyond the list")
    assert echo["externalId"] == "crm-beyond"
    assert body["calls"][far]["endedReason"] == "customer-busy"


def test_parse_numbers_csv_normalizes_and_names_bad_lines() -> None:
    from campaigns.importers import parse_numbers_csv

    text = "Number;Note\n+44 (0)20 7183 8750;x\n+14155550910;\n(415) 555-0911;\n0049 30 1234567;\n+1 415;\n"
    rows = parse_numbers_csv(io.StringIO(text))

    assert list(rows) == [("+442071838750", "x"), ("+14155550910", ""), ("+49301234567", "")]
    assert [str(e) for e in rows.errors] == [
        "line 4.number '(415) 555-0911' must start with + and a country code (no default country is set)",
        "line 6.number '+1 415' too short for its country code",
    ]
    with_region = parse_numbers_csv(io.StringIO("number\n(415) 555-0911\n"), region="US")
    assert list(with_region) == [("+14155550911", "")]
