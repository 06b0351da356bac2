"""Our OpenAPI document (drf-spectacular): valid, Vapi's operations and fields exactly, our
extensions described, and our own responses valid against it. Docs served without a CDN."""

from __future__ import annotations

import io
import re
from pathlib import Path

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command

from campaigns.models import Campaign
from tests.api.conftest import EXTENSION_KEYS

VAPI_OPERATIONS = {
    ("/campaign", "post"): "CampaignController_create",
    ("/campaign", "get"): "CampaignController_findAll",
    ("/campaign/{id}", "get"): "CampaignController_findOne",
    ("/campaign/{id}", "patch"): "CampaignController_update",
    ("/campaign/{id}", "delete"): "CampaignController_remove",
}


@pytest.fixture
def schema(anonymous) -> dict:
    response = anonymous.get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


def validator(schema: dict, name: str) -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(
        {"components": schema["components"], "$ref": f"#/components/schemas/{name}"}
    )


def test_the_schema_validates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO(), stderr=io.StringIO())


def test_vapis_operations_keep_their_paths_and_operation_ids(schema, vapi_openapi) -> None:
    for (path, method), operation_id in VAPI_OPERATIONS.items():
        assert schema["paths"][path][method]["operationId"] == operation_id
        assert vapi_openapi["paths"][path][method]["operationId"] == operation_id


def test_every_operation_is_documented_with_bodies_and_bearer_security(schema) -> None:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("operationId"), where
            if path.startswith("/api/"):
                continue
            assert {"bearer": []} in operation["security"], where
            assert "401" in operation["responses"], where
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success and all("content" in operation["responses"][c] for c in success), where


def test_the_campaign_component_has_every_vapi_field(schema, vapi_openapi) -> None:
    ours = schema["components"]["schemas"]["Campaign"]
    vapi = vapi_openapi["components"]["schemas"]["Campaign"]

    assert set(vapi["properties"]) <= set(ours["properties"])
    assert set(ours["properties"]) - set(vapi["properties"]) == EXTENSION_KEYS
    # `calls` is left out of campaigns above 10,000 customers, as the description says.
    assert set(vapi["required"]) - {"calls"} <= set(ours["required"])
    assert "10,000" in ours["description"]


def test_the_request_bodies_have_every_vapi_field_and_limit(schema, vapi_openapi) -> None:
    components = schema["components"]["schemas"]
    for vapi_name, our_name, extra in (
        ("CreateCampaignDTO", "CreateCampaignDTORequest", EXTENSION_KEYS),
        ("UpdateCampaignDTO", "PatchedUpdateCampaignDTORequest", EXTENSION_KEYS),
        ("CreateCustomerDTO", "CreateCustomerDTORequest", set()),
    ):
        vapi = vapi_openapi["components"]["schemas"][vapi_name]["properties"]
        ours = components[our_name]["properties"]
        assert set(ours) == set(vapi) | extra, our_name
        for field, rules in vapi.items():
            for rule in ("maxLength", "minLength"):
                if rule in rules:
                    assert ours[field].get(rule) == rules[rule], f"{our_name}.{field}.{rule}"


def test_our_extension_responses_are_valid_against_our_schema(api, create, dial, schema, provider) -> None:
    body = create(3, dialingStrategy={"respectRecipientTimeZone": False})
    dial(
        Campaign.objects.get(pk=body["id"]),
        {0: [("in-progress", "", None), ("ended", "voicemail", {"summary": "vm"})]},
    )
    api.post("/dnc", {"number": "+14155550170", "note": "n"}, format="json")

    for path, component in (
        (f"/campaign/{body['id']}", "Campaign"),
        ("/campaign", "CampaignPaginatedResponse"),
        (f"/campaign/{body['id']}/customers", "CampaignCustomerPaginatedResponse"),
        (f"/campaign/{body['id']}/calls?include=log", "CampaignCallPaginatedResponse"),
        ("/phone-number", "PhoneNumberPaginatedResponse"),
        ("/dnc", "DoNotCallPaginatedResponse"),
    ):
        response = api.get(path)
        errors = list(validator(schema, component).iter_errors(response.json()))
        assert not errors, (path, [e.message for e in errors])


def test_the_docs_page_uses_vendored_swagger_ui_and_no_cdn(anonymous) -> None:
    page = anonymous.get("/api/docs").content.decode()

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))], assets
    vendored = [a for a in assets if "/vendor/swagger-ui/" in a]
    assert {Path(a).name for a in vendored} >= {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
    }
    static_dir = Path(settings.STATICFILES_DIRS[0]) / "vendor" / "swagger-ui"
    assert all((static_dir / Path(a).name).is_file() for a in vendored)
    assert "/api/schema" in page
