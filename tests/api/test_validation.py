"""Vapi's validation rules over HTTP: every problem at once, each message naming its field,
unknown properties refused at every level Vapi's DTOs define, and never a 500 for bad input."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from tests.api.conftest import messages


def post(api, body):
    return api.post("/campaign", body, format="json")


@pytest.mark.parametrize(
    ("path", "extra", "message"),
    [
        ("", {"retryPlan": 1}, "property retryPlan should not exist"),
        ("customers.0", {"retry": 1}, "property customers.0.retry should not exist"),
        ("schedulePlan", {"timezone": "UTC"}, "property schedulePlan.timezone should not exist"),
        ("dialingStrategy", {"pace": 1}, "property dialingStrategy.pace should not exist"),
    ],
)
def test_unknown_properties_are_refused_by_path(path, extra, message, api, campaign_body) -> None:
    body = campaign_body(1, schedulePlan={"earliestAt": "2027-01-01T00:00:00Z"}, dialingStrategy={})
    target = body
    for part in filter(None, path.split(".")):
        target = target[int(part)] if part.isdigit() else target[part]
    target.update(extra)

    response = post(api, body)

    assert response.status_code == 400
    assert messages(response) == [message]


def test_unknown_properties_in_dial_plan_entries_and_their_customers_are_refused(
    api, fixture_numbers
) -> None:
    body = {
        "name": "x",
        "squadId": "s",
        "dialPlan": [
            {
                "phoneNumberId": str(fixture_numbers[0].pk),
                "customers": [{"number": "+14155550001", "x": 1}],
                "y": 2,
            }
        ],
    }

    assert messages(post(api, body)) == [
        "property dialPlan.0.y should not exist",
        "property dialPlan.0.customers.0.x should not exist",
    ]


def test_anything_goes_inside_assistant_overrides(api, campaign_body) -> None:
    overrides = {"variableValues": {"a": 1}, "someFutureVapiKey": {"deep": [1, {"x": None}]}}
    body = campaign_body(1)
    body["customers"][0]["assistantOverrides"] = overrides

    response = post(api, body)

    assert response.status_code == 201
    assert response.json()["customers"][0]["assistantOverrides"] == overrides


def test_assistant_overrides_must_be_an_object(api, campaign_body) -> None:
    body = campaign_body(1)
    body["customers"][0]["assistantOverrides"] = ["not", "an", "object"]

    assert messages(post(api, body)) == ["customers.0.assistantOverrides must be an object"]


@pytest.mark.parametrize(
    ("customer", "accepted"),
    [
        ({"number": "+123456789012345"}, True),  # + and 15 digits
        ({"number": "+1234567890123456"}, False),  # 16 digits
        ({"number": "+12"}, True),
        ({"number": "+1 415 555 1234"}, False),
        ({"number": "+14155551234", "numberE164CheckEnabled": True}, True),
        ({"number": "1001", "numberE164CheckEnabled": False}, True),
        ({"number": "abc", "numberE164CheckEnabled": False}, True),
        ({"number": "+001234567890", "numberE164CheckEnabled": False}, True),
        ({"number": "sip:1001", "numberE164CheckEnabled": False}, False),
        ({"number": "+14155551234", "numberE164CheckEnabled": "no"}, False),
        ({"number": 14155551234}, False),
        ({"sipUri": "sip:desk@example.com"}, True),
        ({"sipUri": ""}, False),
        ({"number": "+14155551234", "email": "e" * 41}, False),
        ({"number": "+14155551234", "externalId": "e" * 40, "name": "n" * 40, "extension": "1" * 10}, True),
    ],
)
def test_customer_rules(customer, accepted, api, campaign_body) -> None:
    response = post(api, campaign_body(customers=[customer]))

    assert (response.status_code == 201) is accepted, response.json()
    if not accepted:
        assert all(m.startswith("customers.0.") for m in messages(response)), messages(response)


def test_a_number_sent_without_the_check_is_echoed_with_it_off(api, campaign_body) -> None:
    body = post(api, campaign_body(customers=[{"number": "1001", "numberE164CheckEnabled": False}])).json()

    assert body["customers"] == [{"number": "1001", "numberE164CheckEnabled": False}]


def test_every_problem_is_reported_at_once(api) -> None:
    response = post(api, {"name": 1, "customers": [{"number": "1"}, {"name": "x" * 41}]})

    assert messages(response) == [
        "name must be a string",
        "assistantId should not be empty: set one of assistantId, workflowId or squadId",
        "phoneNumberId should not be empty when dialPlan is not provided",
        "customers.0.number must be longer than or equal to 3 characters",
        "customers.1.name must be shorter than or equal to 40 characters",
        "customers.1.number is required when sipUri is not provided",
    ]


def test_more_than_10000_customers_are_refused(api, campaign_body) -> None:
    response = post(api, campaign_body(10_001))

    assert messages(response) == ["customers must contain no more than 10000 elements"]


def test_10000_customers_are_accepted_and_echoed(api, campaign_body) -> None:
    response = post(api, campaign_body(10_000))

    assert response.status_code == 201
    assert len(response.json()["customers"]) == 10_000


def test_a_dial_plan_of_more_than_10000_customers_in_all_is_refused(api, fixture_numbers) -> None:
    half = [{"number": f"+1415555{i:04d}"} for i in range(5001)]
    plan = [{"phoneNumberId": str(n.pk), "customers": half} for n in fixture_numbers[:2]]

    response = post(api, {"name": "x", "squadId": "s", "dialPlan": plan})

    assert messages(response) == ["dialPlan must contain no more than 10000 customers in all"]


def test_duplicate_numbers_in_one_create_are_refused_by_position(api, campaign_body) -> None:
    body = campaign_body(
        customers=[{"number": "+14155550001"}, {"number": "+14155550002"}, {"number": "+14155550001"}]
    )

    assert messages(post(api, body)) == ["customers.2.number duplicates customers.0"]


def test_an_unknown_caller_id_is_refused_naming_it(api, campaign_body) -> None:
    response = post(api, campaign_body(phoneNumberId="0f0f0f0f-0000-4000-8000-000000000000"))

    assert messages(response) == ["phoneNumberId does not name a phone number of this organization"]


def test_schedule_instants_with_offsets_are_stored_in_utc(api, campaign_body) -> None:
    body = post(api, campaign_body(schedulePlan={"earliestAt": "2027-01-05T18:00:00+02:00"})).json()

    assert body["schedulePlan"] == {"earliestAt": "2027-01-05T16:00:00.000Z"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"name": "x",}', "Unexpected token } in JSON at position 13"),
        (b'{"name": ', "Unexpected end of JSON input"),
        (b"{'name': 'x'}", "Unexpected token ' in JSON at position 1"),
        (b'{"n": NaN}', "Unexpected token N in JSON"),
        (b"\xff\xfe", "request body is not utf-8 text"),
    ],
)
def test_malformed_json_answers_400_with_a_parser_message(raw, message, api) -> None:
    response = api.generic("POST", "/campaign", raw, content_type="application/json")

    assert response.status_code == 400
    assert messages(response) == [message]


def test_deeply_nested_json_answers_400(api) -> None:
    raw = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = api.generic("POST", "/campaign", raw, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        [],
        None,
        "campaign",
        {"name": "x", "assistantId": "a", "phoneNumberId": "p", "customers": [None, 5, "s", []]},
        {"name": "x", "assistantId": {}, "phoneNumberId": [], "customers": {}},
        {"name": "x", "assistantId": "a", "dialPlan": [None, "x", {"phoneNumberId": 5, "customers": "x"}]},
        {"name": "x", "assistantId": "a", "dialPlan": "x"},
        {
            "name": "x",
            "assistantId": "a",
            "phoneNumberId": "p",
            "customers": [{}],
            "schedulePlan": "tomorrow",
        },
        {
            "name": "x",
            "assistantId": "a",
            "phoneNumberId": "p",
            "customers": [{}],
            "schedulePlan": {"earliestAt": 5},
        },
        {"name": "x" * 256, "assistantId": "a" * 101, "phoneNumberId": "p", "customers": [{"number": None}]},
        {"name": "x", "assistantId": "a", "phoneNumberId": "p", "customers": [{}], "maxConcurrency": True},
        {
            "name": "x",
            "assistantId": "a",
            "phoneNumberId": "p",
            "customers": [{}],
            "dialingStrategy": {"callingHours": "x"},
        },
    ],
)
def test_garbage_bodies_answer_400_never_500(body, api) -> None:
    response = api.post("/campaign", body, format="json")

    assert response.status_code == 400, response.content
    assert messages(response)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"status": None},
        {"status": 1},
        {"schedulePlan": {}},
        {"dialPlan": []},
        {"name": ""},
        {"customers": []},
    ],
)
def test_garbage_patches_answer_400_never_500(body, api, create) -> None:
    campaign = create()

    response = api.patch(f"/campaign/{campaign['id']}", body, format="json")

    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:  # a null status is absent, as with class-validator's @IsOptional
        assert response.json()["status"] == "scheduled"


def test_an_empty_patch_changes_nothing(api, create) -> None:
    campaign = create()

    response = api.patch(f"/campaign/{campaign['id']}", {}, format="json")

    assert response.status_code == 200
    assert {k: v for k, v in response.json().items() if k != "updatedAt"} == {
        k: v for k, v in campaign.items() if k != "updatedAt"
    }


def test_a_wrong_method_answers_405_in_the_envelope(api, create) -> None:
    campaign = create()

    for response in (api.put(f"/campaign/{campaign['id']}", {}, format="json"), api.delete("/campaign")):
        assert response.status_code == 405
        assert response.json()["error"] == "Method Not Allowed"


def test_a_body_that_is_not_json_answers_415(api) -> None:
    response = api.generic("POST", "/campaign", b"name=x", content_type="text/plain")

    assert response.status_code == 415
    assert response.json()["error"] == "Unsupported Media Type"


def test_create_takes_no_multipart_uploads(api) -> None:
    response = api.post("/campaign", {"name": "x"}, format="multipart")

    assert response.status_code == 415


def test_a_json_body_over_the_upload_limit_answers_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = api.post("/campaign", {"name": "x" * 200}, format="json")

    assert response.status_code == 413
    assert len(messages(response)) == 1
