"""Hostile input to the API: a 400 in Vapi's envelope naming the field and the reason, never a 500,
and nothing half-saved. Run it on PostgreSQL too (DATABASE_URL=postgres://…): that is where a NUL
in a text column, or NaN in a jsonb, used to end in a server error.

Limits of free-form JSON (campaigns/jsonlimits.py): 32 levels, 64 KiB per customer's overrides,
signed 64-bit integers, finite numbers, no NUL."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from campaigns import jsonlimits
from campaigns.models import Campaign, Customer, DoNotCall, PhoneNumber
from campaigns.services.strategy import TIME_ZONES, is_time_zone
from tests.api import conftest as api_fixtures

# The API's personas and builders (tests/api/conftest.py), shared by these tests.
anonymous, campaign_body, create = api_fixtures.anonymous, api_fixtures.campaign_body, api_fixtures.create
fixture_numbers = api_fixtures.fixture_numbers

NUL = "\x00"
TOO_DEEP = f"must not be nested deeper than {jsonlimits.MAX_DEPTH} levels"
OFFSET = "must include a UTC offset (Z or ±hh:mm), e.g. 2026-12-01T14:00:00Z"


def _counts() -> tuple[int, ...]:
    return (
        Campaign.objects.count(),
        Customer.objects.count(),
        DoNotCall.objects.count(),
        PhoneNumber.objects.count(),
    )


@contextmanager
def nothing_saved() -> Iterator[None]:
    before = _counts()
    yield
    assert _counts() == before, "a refused request saved something"


def refused(response) -> list[str]:
    """The messages of a 400 in Vapi's envelope."""
    assert response.status_code == 400, response.content[:1000]
    body = response.json()
    assert set(body) == {"message", "error", "statusCode"}, body
    assert (body["error"], body["statusCode"]) == ("Bad Request", 400)
    assert isinstance(body["message"], list) and body["message"]
    return body["message"]


def nested(depth: int) -> dict:
    """An object `depth` levels deep: {"a": {"a": … {"a": 1}}}."""
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


def post_json(api, url: str, body: object):
    """POST raw JSON (the test client's encoder would refuse some of what a client can send)."""
    return api.generic("POST", url, body if isinstance(body, str) else json.dumps(body), "application/json")


@pytest.fixture
def campaign(create) -> dict:
    return create(1)


def upload(api, url: str, content: bytes):
    handle = io.BytesIO(content)
    handle.name = "list.csv"
    return api.post(url, {"file": handle}, format="multipart")


# -- 1. free-form JSON: depth, size, integers, numbers -----------------------------------------

# Where a customer's assistantOverrides can come in, as (how to send, path of the customer).
ENTRIES = ["create", "dial plan", "bulk add"]


def send_customer(entry: str, api, campaign_body, fixture_numbers, campaign, customer: dict):
    if entry == "create":
        return post_json(api, "/campaign", campaign_body(customers=[customer])), "customers.0"
    if entry == "dial plan":
        body = campaign_body()
        del body["customers"], body["phoneNumberId"]
        body["dialPlan"] = [{"phoneNumberId": str(fixture_numbers[0].pk), "customers": [customer]}]
        return post_json(api, "/campaign", body), "dialPlan.0.customers.0"
    return post_json(api, f"/campaign/{campaign['id']}/customers", [customer]), "customers.0"


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("depth", [jsonlimits.MAX_DEPTH + 1, 250, 900])
def test_deeply_nested_assistant_overrides_are_refused_naming_the_field(
    entry,
    depth,
    api,
    campaign_body,
    fixture_numbers,
    campaign,
) -> None:
    customer = {"number": "+14155559999", "assistantOverrides": nested(depth)}
    with nothing_saved():
        response, where = send_customer(entry, api, campaign_body, fixture_numbers, campaign, customer)
        assert refused(response) == [f"{where}.assistantOverrides {TOO_DEEP}"]
    assert api.get("/campaign").status_code == 200


@pytest.mark.parametrize("entry", ENTRIES)
def test_overrides_at_the_limits_are_kept_and_every_list_still_answers(
    entry,
    api,
    campaign_body,
    fixture_numbers,
    campaign,
) -> None:
    overrides = {
        "deep": nested(jsonlimits.MAX_DEPTH - 1),
        "big": jsonlimits.INT_MAX,
        "small": jsonlimits.INT_MIN,
        "pi": 3.14,
    }
    customer = {"number": "+14155559999", "assistantOverrides": overrides}
    response, _ = send_customer(entry, api, campaign_body, fixture_numbers, campaign, customer)
    assert response.status_code == 201, response.json()
    assert Customer.objects.get(number="+14155559999").assistant_overrides == overrides
    listing = api.get("/campaign")  # orjson writes every document of the organization
    assert listing.status_code == 200
    assert f'"big":{jsonlimits.INT_MAX}' in listing.content.decode()
    assert f'"small":{jsonlimits.INT_MIN}' in listing.content.decode()


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("number", [2**63, -(2**63) - 1, 2**64, 10**40])
def test_an_integer_beyond_64_bits_in_overrides_is_refused_naming_it(
    entry,
    number,
    api,
    campaign_body,
    fixture_numbers,
    campaign,
) -> None:
    customer = {"number": "+14155559999", "assistantOverrides": {"variableValues": {"n": number}}}
    with nothing_saved():
        response, where = send_customer(entry, api, campaign_body, fixture_numbers, campaign, customer)
        assert refused(response) == [
            f"{where}.assistantOverrides.variableValues.n must be an integer from "
            f"{jsonlimits.INT_MIN} to {jsonlimits.INT_MAX} (signed 64-bit)"
        ]


@pytest.mark.parametrize("literal", ["1e400", "-1e400", "NaN", "Infinity"])
def test_a_number_json_cannot_write_back_is_refused(literal, api, campaign_body) -> None:
    body = json.dumps(campaign_body(customers=[{"number": "+14155559999", "assistantOverrides": {"x": 0}}]))
    body = body.replace('{"x": 0}', '{"x": ' + literal + "}")
    with nothing_saved():
        messages = refused(post_json(api, "/campaign", body))
    assert messages in (
        ["customers.0.assistantOverrides.x must be a finite number (NaN and Infinity are not JSON)"],
        [f"Unexpected token {literal.lstrip('-')[0]} in JSON"],  # the literals JSON never had
    )


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("size", [jsonlimits.MAX_BYTES, 20 * 1024 * 1024])
def test_overrides_larger_than_64_kib_are_refused(
    entry,
    size,
    api,
    campaign_body,
    fixture_numbers,
    campaign,
) -> None:
    overrides = {"variableValues": {"notes": "x" * size}}
    customer = {"number": "+14155559999", "assistantOverrides": overrides}
    with nothing_saved():
        response, where = send_customer(entry, api, campaign_body, fixture_numbers, campaign, customer)
        assert refused(response) == [
            f"{where}.assistantOverrides must not be larger than 64 KiB (65536 bytes) as JSON"
        ]


def test_overrides_of_exactly_64_kib_are_kept(api, campaign) -> None:
    padding = jsonlimits.MAX_BYTES - len(json.dumps({"v": ""}, separators=(",", ":")))
    overrides = {"v": "x" * padding}
    response = post_json(
        api,
        f"/campaign/{campaign['id']}/customers",
        [{"number": "+14155559999", "assistantOverrides": overrides}],
    )
    assert response.status_code == 201, response.json()


def test_csv_columns_larger_than_64_kib_of_variables_are_refused_naming_the_line(api, campaign) -> None:
    content = f"number,name,notes\n+14155559998,Ana,short\n+14155559999,Ben,{'x' * 70_000}\n".encode()
    with nothing_saved():
        messages = refused(upload(api, f"/campaign/{campaign['id']}/customers", content))
    assert messages == ["line 3: assistantOverrides must not be larger than 64 KiB (65536 bytes) as JSON"]


# -- 2. NUL characters (and lone surrogates): one gate for the body, one for the query -----------

BODY_FIELDS = [
    "name",
    "assistantId",
    "customers.0.number",
    "customers.0.name",
    "customers.0.email",
    "customers.0.externalId",
    "customers.0.extension",
    "customers.0.sipUri",
    "customers.0.assistantOverrides.variableValues.city",
    "schedulePlan.earliestAt",
    "dialingStrategy.timeZone",
]


def _set(body: dict, path: str, value: object) -> None:
    *parents, last = path.split(".")
    target: object = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target.setdefault(part, {})  # type: ignore[index]
    target[last] = value  # type: ignore[index]


@pytest.mark.parametrize("field", BODY_FIELDS)
def test_a_nul_byte_in_any_field_of_a_new_campaign_is_refused_naming_the_field(
    field, api, campaign_body
) -> None:
    body = campaign_body(2)
    _set(body, field, f"a{NUL}b")
    with nothing_saved():
        assert refused(post_json(api, "/campaign", body)) == [f"{field} contains a NUL character"]


def test_a_nul_byte_in_a_customer_name_is_refused_naming_the_field(api, campaign_body) -> None:
    body = campaign_body(5)
    body["customers"][3]["name"] = f"Ana{NUL}"
    with nothing_saved():
        assert refused(post_json(api, "/campaign", body)) == ["customers.3.name contains a NUL character"]


def test_a_nul_byte_in_a_key_is_refused_naming_the_key(api, campaign_body) -> None:
    body = campaign_body(1)
    body["customers"][0]["assistantOverrides"] = {"variableValues": {f"ci{NUL}ty": "Paris"}}
    with nothing_saved():
        assert refused(post_json(api, "/campaign", body)) == [
            "customers.0.assistantOverrides.variableValues.ci\\u0000ty (a key) contains a NUL character"
        ]


def test_a_lone_surrogate_is_refused_naming_the_field(api, campaign_body) -> None:
    body = json.dumps(campaign_body(1)).replace('"Customer 0"', '"Ana \\ud800"')
    with nothing_saved():
        assert refused(post_json(api, "/campaign", body)) == [
            "customers.0.name contains an unpaired UTF-16 surrogate: not valid Unicode text"
        ]


def test_every_nul_byte_of_a_body_is_named_at_once(api, campaign_body) -> None:
    body = campaign_body(3)
    body["name"] = NUL
    body["customers"][2]["email"] = NUL
    with nothing_saved():
        assert refused(post_json(api, "/campaign", body)) == [
            "name contains a NUL character",
            "customers.2.email contains a NUL character",
        ]


@pytest.mark.parametrize(
    ("method", "url", "body", "field"),
    [
        ("PATCH", "/campaign/{id}", {"name": f"x{NUL}"}, "name"),
        (
            "POST",
            "/campaign/{id}/customers",
            [{"number": "+14155559999", "name": NUL}],
            "customers.0.name",
        ),  # a bare array of customers
        ("POST", "/dnc", {"number": f"+1415555{NUL}0000"}, "number"),
        ("POST", "/dnc", {"numbers": ["+14155550000", NUL]}, "numbers.1"),
        ("POST", "/dnc", {"number": "+14155550000", "note": NUL}, "note"),
        ("POST", "/phone-number", {"number": "+14155550100", "name": NUL, "providerAccountId": "x"}, "name"),
    ],
)
def test_a_nul_byte_in_any_other_body_is_refused_naming_the_field(
    method, url, body, field, api, campaign
) -> None:
    with nothing_saved():
        response = api.generic(method, url.format(id=campaign["id"]), json.dumps(body), "application/json")
        assert refused(response) == [f"{field} contains a NUL character"]
    assert Campaign.objects.get(pk=campaign["id"]).name == campaign["name"]


QUERIES = [
    ("/campaign", "id"),
    ("/campaign", "status"),
    ("/campaign", "createdAtGt"),
    ("/campaign/{id}/customers", "reason"),
    ("/campaign/{id}/customers", "state"),
    ("/campaign/{id}/calls", "endedReason"),
    ("/phone-number", "page"),
    ("/dnc", "number"),
]


@pytest.mark.parametrize(("url", "parameter"), QUERIES)
def test_a_nul_byte_in_a_query_parameter_is_refused_naming_it(url, parameter, api, campaign) -> None:
    response = api.get(url.format(id=campaign["id"]), {parameter: f"a{NUL}"})
    assert refused(response) == [f"{parameter} contains a NUL character"]


def test_a_nul_byte_in_a_query_parameter_name_is_refused(api) -> None:
    assert refused(api.get("/campaign?x%00y=1")) == ["x\\u0000y (a parameter name) contains a NUL character"]


def test_a_nul_byte_in_a_query_is_not_looked_at_before_the_key_is(anonymous) -> None:
    assert anonymous.get("/campaign", {"id": NUL}).status_code == 401


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (f"number,name\n+14155559998,Ana\n+14155559999,B{NUL}n\n", "line 3: name contains a NUL character"),
        (f"number,name,city\n+14155559999,Ben,Pa{NUL}ris\n", "line 2: city contains a NUL character"),
        (f"number,name\n+1415555{NUL}9999,Ben\n", "line 2: number contains a NUL character"),
        (
            f"number,na{NUL}me\n+14155559999,Ben\n",
            "file contains NUL characters: it is not UTF-8 text; save it as CSV UTF-8",
        ),
        (
            "number,name\n+14155559999,Ben\n".encode("utf-16-le").decode("latin-1"),
            "file contains NUL characters: it is not UTF-8 text; save it as CSV UTF-8",
        ),
    ],
)
def test_a_nul_byte_in_a_csv_cell_is_refused_naming_the_line_and_column(
    content, message, api, campaign
) -> None:
    with nothing_saved():
        messages = refused(upload(api, f"/campaign/{campaign['id']}/customers", content.encode("latin-1")))
    assert messages == [message]


def test_a_nul_byte_in_a_do_not_call_file_is_refused_naming_the_line(api) -> None:
    content = f"number,note\n+14155550001,ok\n+14155550002,opted{NUL}out\n".encode()
    with nothing_saved():
        assert refused(upload(api, "/dnc", content)) == ["line 3: note contains a NUL character"]


# -- 4. time zones: only the tz database's real zone names -------------------------------------------


@pytest.mark.parametrize(
    "zone",
    [
        "Factory",
        "localtime",
        "posixrules",
        "posix/Europe/Paris",
        "right/UTC",
        "EST5EDT",
        "CET",
        "GMT0",
        "Mars/Base",
        NUL,
    ],
)
def test_names_that_are_not_places_are_refused_as_time_zones(zone, api, campaign_body) -> None:
    body = campaign_body(1, dialingStrategy={"timeZone": zone})
    with nothing_saved():
        messages = refused(post_json(api, "/campaign", body))
    assert messages in (
        ["dialingStrategy.timeZone must be an IANA time zone such as Europe/Paris"],
        ["dialingStrategy.timeZone contains a NUL character"],
    )
    assert not is_time_zone(zone)


@pytest.mark.parametrize(
    "zone", ["UTC", "Etc/UTC", "Etc/GMT+5", "Europe/Paris", "America/Argentina/Buenos_Aires", "US/Eastern"]
)
def test_real_zones_utc_and_etc_are_accepted(zone, api, campaign_body) -> None:
    response = post_json(api, "/campaign", campaign_body(1, dialingStrategy={"timeZone": zone}))
    assert response.status_code == 201, response.json()
    assert response.json()["dialingStrategy"]["timeZone"] == zone


def test_every_accepted_zone_is_a_place_utc_or_etc() -> None:
    assert "UTC" in TIME_ZONES and "Europe/Paris" in TIME_ZONES
    assert all(
        z == "UTC" or (z.count("/") >= 1 and z.split("/")[0] not in ("posix", "right", "SystemV"))
        for z in TIME_ZONES
    )
    assert not {"Factory", "localtime", "posixrules", "EST", "Zulu"} & TIME_ZONES


# -- 5. schedule times must carry their offset ---------------------------------------------------------


@pytest.mark.parametrize("key", ["earliestAt", "latestAt"])
@pytest.mark.parametrize(
    "value", ["2030-12-01T14:00:00", "2030-12-01T14:00:00.123", "2030-12-01 14:00", "2030-12-01"]
)
def test_a_schedule_time_without_an_offset_is_refused_naming_it(key, value, api, campaign_body) -> None:
    plan = {"earliestAt": "2030-12-01T14:00:00Z", key: value}
    with nothing_saved():
        messages = refused(post_json(api, "/campaign", campaign_body(1, schedulePlan=plan)))
    assert messages == [f"schedulePlan.{key} {OFFSET}"]


def test_a_schedule_change_without_an_offset_is_refused_and_changes_nothing(api, create) -> None:
    made = create(1, schedulePlan={"earliestAt": "2030-01-01T09:00:00+01:00"})
    response = api.patch(
        f"/campaign/{made['id']}", {"schedulePlan": {"earliestAt": "2030-02-01T09:00:00"}}, format="json"
    )
    assert refused(response) == [f"schedulePlan.earliestAt {OFFSET}"]
    assert (
        api.get(f"/campaign/{made['id']}").json()["schedulePlan"]["earliestAt"] == "2030-01-01T08:00:00.000Z"
    )


@pytest.mark.parametrize(
    "value", ["2030-12-01T14:00:00Z", "2030-12-01T09:00:00-05:00", "2030-12-01T14:00:00+00:00"]
)
def test_a_schedule_time_with_an_offset_is_the_same_instant(value, api, campaign_body) -> None:
    response = post_json(api, "/campaign", campaign_body(1, schedulePlan={"earliestAt": value}))
    assert response.status_code == 201, response.json()
    assert response.json()["schedulePlan"]["earliestAt"] == "2030-12-01T14:00:00.000Z"


@pytest.mark.parametrize("parameter", ["createdAtGt", "createdAtLe", "updatedAtGe", "updatedAtLt"])
def test_a_date_filter_without_an_offset_is_refused_naming_it(parameter, api, campaign) -> None:
    assert refused(api.get("/campaign", {parameter: "2026-01-01T00:00:00"})) == [f"{parameter} {OFFSET}"]
    assert api.get("/campaign", {parameter: "2026-01-01T00:00:00Z"}).status_code == 200
