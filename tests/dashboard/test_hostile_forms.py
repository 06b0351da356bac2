"""Every dashboard form given a NUL (PostgreSQL's text cannot hold one) or a value its JSON cannot:
the form again (422) with the error next to the field, never a 500, and nothing saved."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import jsonlimits
from campaigns.forms.builder import ZONES
from campaigns.models import ApiKey, Campaign, Customer, DoNotCall, Membership, PhoneNumber, ProviderAccount
from tests.dashboard.test_builder import form_data

pytestmark = pytest.mark.django_db

NUL = "a\x00b"
NULL_REFUSED = "Null characters are not allowed."


def _counts() -> tuple[int, ...]:
    models = (ApiKey, Campaign, Customer, DoNotCall, Membership, PhoneNumber, ProviderAccount)
    return tuple(model.objects.count() for model in models)


def simulated(**fields: str) -> dict[str, str]:
    data = {"name": "Sim", "kind": "simulated", "seed": "1", "base_url": "", "api_key": ""}
    data.update({f"mix_{k}": "1" for k in ("answered", "noAnswer", "busy", "voicemail", "failed", "optOut")})
    data.update(fields)
    return data


FORMS = {
    # name: (url name, good data, fields to poison)
    "do-not-call": ("do-not-call-add", lambda _: {"number": "+14155550123", "note": "x"}, ["number", "note"]),
    "caller ID": (
        "caller-id-add",
        lambda p: {"number": "+14155550177", "name": "x", "provider_account": str(p.pk)},
        ["number", "name", "provider_phone_number_id"],
    ),
    "provider": ("provider-add", lambda _: simulated(), ["name", "api_key", "base_url", "seed", "mix_busy"]),
    "API key": ("api-key-add", lambda _: {"name": "CRM"}, ["name"]),
    "member": (
        "member-add",
        lambda _: {
            "username": "newbie",
            "email": "n@example.com",
            "password": "a long passphrase 42",
            "role": "viewer",
        },
        ["username", "email", "password", "role"],
    ),
}


@pytest.mark.parametrize(
    ("form", "field"), [(form, field) for form, (_, _, fields) in FORMS.items() for field in fields]
)
def test_a_nul_byte_in_a_settings_form_is_refused_next_to_the_field(form, field, as_owner, provider) -> None:
    url, good, _ = FORMS[form]
    data = good(provider) | {field: NUL}
    before = _counts()
    response = as_owner.post(reverse(f"campaigns:{url}"), data)
    assert response.status_code == 422, response.content[:300]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert _counts() == before


def test_the_good_settings_forms_save(as_owner, provider) -> None:
    """The data the test above poisons is good as it is: each form saves it."""
    before = _counts()
    for url, good, _ in FORMS.values():
        response = as_owner.post(reverse(f"campaigns:{url}"), good(provider))
        assert response.status_code in (201, 302), (url, response.content[:300])
    assert _counts() != before


@pytest.mark.parametrize("seed", [str(2**63), str(10**40), "-1"])
def test_a_seed_its_json_settings_cannot_hold_is_refused_next_to_it(seed, as_owner) -> None:
    response = as_owner.post(reverse("campaigns:provider-add"), simulated(seed=seed))
    assert response.status_code == 422 and 'id="id_seed_error"' in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_the_largest_seed_is_kept(as_owner) -> None:
    response = as_owner.post(reverse("campaigns:provider-add"), simulated(seed=str(jsonlimits.INT_MAX)))
    assert response.status_code == 201
    assert ProviderAccount.objects.get().settings["seed"] == jsonlimits.INT_MAX


@pytest.mark.parametrize(
    "field", ["name", "agent_id", "customers_text", "earliest_at", "time_zone", "agent_kind"]
)
def test_a_nul_byte_in_the_campaign_builder_is_refused_next_to_the_field(
    field, as_manager, caller_id
) -> None:
    data = form_data(caller_id, customers_text="number,name\n+14155550101,Ada\n") | {field: NUL}
    response = as_manager.post(reverse("campaigns:create"), data)
    assert response.status_code == 422, response.content[:300]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Campaign.objects.exists() and not Customer.objects.exists()


def test_a_nul_byte_in_an_uploaded_customer_file_names_the_line_and_saves_nothing(
    as_manager, caller_id
) -> None:
    upload = SimpleUploadedFile("c.csv", b"number,name\n+14155550101,Ada\n+14155550102,B\x00b\n")
    data = form_data(caller_id) | {"customers_file": upload, "drop_bad_rows": "on"}
    response = as_manager.post(reverse("campaigns:create"), data)
    content = response.content.decode()
    assert response.status_code == 422
    assert "Name: contains a NUL character" in content
    assert not Campaign.objects.exists()


def test_a_nul_byte_in_a_do_not_call_file_names_the_line_and_saves_nothing(as_manager) -> None:
    upload = SimpleUploadedFile("dnc.csv", b"number,note\n+14155550123,a\n+14155550124,b\x00\n")
    response = as_manager.post(reverse("campaigns:do-not-call-import"), {"file": upload})
    assert response.status_code == 422 and "line 3.note contains a NUL character" in response.content.decode()
    assert not DoNotCall.objects.exists()


def test_the_builder_offers_only_real_time_zones() -> None:
    assert "Europe/Paris" in ZONES and "UTC" in ZONES and "Etc/GMT+5" in ZONES
    assert not {"Factory", "localtime", "posixrules", "EST5EDT", "CET"} & set(ZONES)
    assert ZONES.index("Europe/Paris") < ZONES.index("UTC") < ZONES.index("Etc/GMT+5")


@pytest.mark.parametrize("zone", ["Factory", "localtime", "EST5EDT"])
def test_a_zone_that_is_not_a_place_is_refused_by_the_builder(zone, as_manager, caller_id) -> None:
    data = form_data(caller_id, customers_text="number\n+14155550101\n", time_zone=zone)
    response = as_manager.post(reverse("campaigns:create"), data)
    assert response.status_code == 422 and 'id="id_time_zone_error"' in response.content.decode()
    assert not Campaign.objects.exists()


def test_an_organization_zone_that_is_not_a_place_reads_as_utc(as_manager, org) -> None:
    org.time_zone = "Factory"
    org.save()
    content = as_manager.get(reverse("campaigns:create")).content.decode()
    assert '<option value="UTC" selected>' in content


@pytest.mark.parametrize(
    ("zone", "moment"), [("America/New_York", "9999-12-31T23:59"), ("Asia/Tokyo", "0001-01-01T00:00")]
)
def test_a_moment_beyond_the_years_utc_can_hold_is_refused_next_to_it(
    zone, moment, as_manager, org, caller_id
) -> None:
    org.time_zone = zone
    org.save()
    data = form_data(caller_id, customers_text="number\n+14155550101\n", earliest_at=moment, time_zone=zone)
    response = as_manager.post(reverse("campaigns:create"), data)
    assert response.status_code == 422 and 'id="id_earliest_at_error"' in response.content.decode()
    assert "between the years 1 and 9999" in response.content.decode()
    assert not Campaign.objects.exists()
