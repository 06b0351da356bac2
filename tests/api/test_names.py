"""The API speaks camelCase, the services snake_case: one translation (campaigns/api/names.py),
applied to what services refuse, and never to what a client named itself."""

from __future__ import annotations

import io

import pytest

from campaigns.api.names import api_path
from campaigns.models import Campaign
from tests.api.conftest import messages


@pytest.mark.parametrize(
    ("service", "api"),
    [
        ("strategy.max_attempts", "dialingStrategy.maxAttempts"),
        ("strategy.calling_hours.0.day", "dialingStrategy.callingHours.0.day"),
        ("strategy.retry_delays.noAnswer", "dialingStrategy.retryDelaySeconds.noAnswer"),
        ("strategy", "dialingStrategy"),
        ("dial_plan.2.phone_number_id", "dialPlan.2.phoneNumberId"),
        ("phone_number_id", "phoneNumberId"),
        ("target", "assistantId/workflowId/squadId"),
        ("schedule", "schedulePlan"),
        ("latest_at", "schedulePlan.latestAt"),
        ("provider_account", "providerAccountId"),
        # Named by an adapter already (a row of the body, a line of a file): kept as they are.
        ("customers.3.number", "customers.3.number"),
        ("dialPlan.0.customers.1.number", "dialPlan.0.customers.1.number"),
        ("line 7.time_zone", "line 7.time_zone"),
        ("numbers.3", "numbers.3"),
        ("", ""),
    ],
)
def test_a_service_path_reads_as_the_api_names_it(service, api) -> None:
    assert api_path(service) == api


def test_a_service_refusal_comes_back_in_the_apis_names(api, create) -> None:
    campaign = create()

    response = api.patch(
        f"/campaign/{campaign['id']}",
        {"dialingStrategy": {"priority": 11, "timeZone": "Mars/Base"}},
        format="json",
    )

    assert messages(response) == [
        "dialingStrategy.priority must be an integer from 1 to 10",
        "dialingStrategy.timeZone must be an IANA time zone such as Europe/Paris",
    ]


def test_a_csv_column_named_like_a_setting_keeps_its_name(api, create) -> None:
    campaign = create(1)
    upload = io.BytesIO(b"number,time_zone\n+14155559999,Pa\x00ris\n")
    upload.name = "list.csv"

    response = api.post(f"/campaign/{campaign['id']}/customers", {"file": upload}, format="multipart")

    assert messages(response) == ["line 2: time_zone contains a NUL character"]


def test_a_query_parameter_named_like_a_setting_keeps_its_name(api) -> None:
    response = api.get("/campaign", {"strategy": "a\x00"})

    assert messages(response) == ["strategy contains a NUL character"]


def test_import_counts_are_answered_in_camel_case(api, create) -> None:
    campaign = create(1)

    response = api.post(
        f"/campaign/{campaign['id']}/customers",
        [{"number": "+14155550000"}, {"number": "+14155559999"}],
        format="json",
    )

    assert response.json() == {"added": 1, "duplicates": 1, "doNotCall": 0, "invalidNumbers": 0}
    assert Campaign.objects.get(pk=campaign["id"]).customers_total == 2
