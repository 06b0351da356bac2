"""Who may call the API: Bearer API keys (full access for their organization), the dashboard's
session (CSRF enforced; viewers read only), nobody else. Only the schema and docs are public."""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from campaigns import services
from campaigns.models import ApiKey, AuditEvent, Membership, Role
from tests.api.conftest import messages


def test_a_bearer_key_acts_as_its_organization_and_is_recorded_as_the_actor(api, create, org) -> None:
    body = create()

    assert body["orgId"] == str(org.pk)
    event = AuditEvent.objects.get(action="campaign.create")
    assert event.api_key == ApiKey.objects.get(organization=org)
    assert event.actor is None


@pytest.mark.parametrize(
    "header",
    ["Bearer dd_not-a-key", "Bearer", "Bearer a b", "bearer dd_not-a-key"],
)
def test_a_wrong_or_malformed_key_answers_401(header, anonymous) -> None:
    anonymous.credentials(HTTP_AUTHORIZATION=header)

    response = anonymous.get("/campaign")

    assert response.status_code == 401
    assert response.json()["error"] == "Unauthorized"


def test_another_scheme_is_not_an_api_key(anonymous) -> None:
    anonymous.credentials(HTTP_AUTHORIZATION="Basic b2xpdmlhOnB3")

    assert anonymous.get("/campaign").status_code == 401


def test_the_key_scheme_is_case_insensitive(api, anonymous) -> None:
    anonymous.credentials(HTTP_AUTHORIZATION=f"bearer {api.raw_key}")

    assert anonymous.get("/campaign").status_code == 200


def test_last_used_is_written_at_most_once_a_minute(api, org) -> None:
    api.get("/campaign")
    key = ApiKey.objects.get(organization=org)
    first = key.last_used_at
    assert first is not None

    api.get("/campaign")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == first

    ApiKey.objects.filter(pk=key.pk).update(last_used_at=first - timedelta(minutes=2))
    api.get("/campaign")
    assert ApiKey.objects.get(pk=key.pk).last_used_at > first - timedelta(seconds=1)


def test_a_key_revoked_after_use_stops_working(api, owner, org) -> None:
    assert api.get("/campaign").status_code == 200
    services.api_key_revoke(key=ApiKey.objects.get(organization=org), by=owner)

    response = api.get("/campaign")

    assert response.status_code == 401
    assert messages(response) == ["Invalid API key"]


@pytest.fixture
def session(owner) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def csrf(client: APIClient) -> dict[str, str]:
    """What the dashboard's pages do: the CSRF cookie, echoed in the X-CSRFToken header."""
    token = secrets.token_hex(16)  # Django's secret format: 32 alphanumeric characters
    client.cookies["csrftoken"] = token
    return {"HTTP_X_CSRFTOKEN": token}


def test_the_dashboard_session_reads_its_organization(session, create, org) -> None:
    create()

    body = session.get("/campaign").json()

    assert [c["orgId"] for c in body["results"]] == [str(org.pk)]


def test_a_session_write_needs_the_csrf_token(session, campaign_body) -> None:
    refused = session.post("/campaign", campaign_body(), format="json")
    accepted = session.post("/campaign", campaign_body(), format="json", **csrf(session))

    assert refused.status_code == 403
    assert "CSRF" in messages(refused)[0]
    assert accepted.status_code == 201


def test_a_session_write_is_recorded_as_the_user(session, campaign_body, owner) -> None:
    session.post("/campaign", campaign_body(), format="json", **csrf(session))

    assert AuditEvent.objects.get(action="campaign.create").actor == owner


def test_viewers_read_but_cannot_write(viewer, create, campaign_body) -> None:
    body = create()
    client = APIClient()
    client.force_login(viewer)

    assert client.get(f"/campaign/{body['id']}").status_code == 200
    for response in (
        client.post("/campaign", campaign_body(), format="json"),
        client.post(f"/campaign/{body['id']}/start"),
        client.patch(f"/campaign/{body['id']}", {"name": "x"}, format="json"),
        client.delete(f"/campaign/{body['id']}"),
    ):
        assert response.status_code == 403
        assert messages(response) == [
            "Viewers can read but not change anything. Ask an admin for the manager role."
        ]


def test_managers_may_write(manager, campaign_body) -> None:
    client = APIClient()
    client.force_login(manager)

    assert client.post("/campaign", campaign_body(), format="json").status_code == 201


def test_a_user_of_two_organizations_works_in_the_one_chosen_in_the_session(
    outsider, other_org, org, create, campaign_body
) -> None:
    create()
    Membership.objects.create(user=outsider, organization=org, role=Role.VIEWER)
    client = APIClient()
    client.force_login(outsider)
    session = client.session
    session["organization_id"] = str(org.pk)
    session.save()

    assert client.get("/campaign").json()["metadata"]["totalItems"] == 1
    session["organization_id"] = str(other_org.pk)
    session.save()
    assert client.get("/campaign").json()["metadata"]["totalItems"] == 0


def test_a_user_without_an_organization_is_refused(django_user_model) -> None:
    client = APIClient()
    client.force_login(django_user_model.objects.create_user("loner", "l@example.com", "pw"))

    assert client.get("/campaign").status_code == 403


def test_requests_beyond_the_rate_answer_429(api, other_api) -> None:
    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "api_key": "3/min"}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        answers = [api.get("/campaign").status_code for _ in range(4)]
        other = other_api.get("/campaign").status_code

    cache.clear()
    assert answers == [200, 200, 200, 429]
    assert other == 200  # the limit is per key


def _rest_framework() -> dict:
    from django.conf import settings

    return settings.REST_FRAMEWORK


def test_a_throttled_answer_is_in_the_envelope_with_retry_after(api) -> None:
    cache.clear()
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "api_key": "1/min"}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        api.get("/campaign")
        response = api.get("/campaign")
    cache.clear()

    assert response.status_code == 429
    assert response.json()["error"] == "Too Many Requests"
    assert int(response["Retry-After"]) > 0


def test_the_schema_and_docs_need_no_key(anonymous) -> None:
    schema = anonymous.get("/api/schema", HTTP_ACCEPT="application/json")
    docs = anonymous.get("/api/docs")

    assert schema.status_code == 200
    assert docs.status_code == 200


def test_the_schema_and_docs_ignore_a_bad_key(anonymous) -> None:
    anonymous.credentials(HTTP_AUTHORIZATION="Bearer dd_wrong")

    assert anonymous.get("/api/schema").status_code == 200
    assert anonymous.get("/api/docs").status_code == 200


def test_a_key_created_now_is_usable_at_once(org, owner, anonymous) -> None:
    _, raw = services.api_key_create(organization=org, by=owner, name="fresh")
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert anonymous.get("/campaign").status_code == 200
    assert ApiKey.objects.get(name="fresh").last_used_at <= timezone.now()
