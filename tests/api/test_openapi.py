"""Our OpenAPI document (drf-spectacular): valid, Vapi's 2026-08 operations, parameters and fields
exactly (every shared operation, compared key by key with Vapi's own document), our extensions
described as Dialdeck's, and our own responses valid against it. Docs served without a CDN."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.conf import settings
from django.core.management import call_command

from campaigns.models import Campaign
from tests.api.conftest import DOCUMENT_EXTENSIONS, PHONE_NUMBERS_2026, SPEC

# Vapi's PhoneNumber operations (its full document); only the ones we serve are compared.
VAPI_PHONE_OPERATIONS = {
    "PhoneNumberController_findAll",
    "PhoneNumberController_findAllPaginated",
    "PhoneNumberController_findOne",
    "PhoneNumberController_create",
    "PhoneNumberController_remove",
    "PhoneNumberController_update",
}
# Vapi's optional keys we never send, by Vapi component, and why.
NEVER_SENT = {
    "PaginationMeta": {
        "nextCursor": "no campaign endpoint takes a cursor (Vapi documents none either)",
        "itemsBeyondRetention": "nothing is dropped by a retention period",
    },
    "ByoPhoneNumber": {
        key: "inbound calls are not Dialdeck's: a caller ID only places calls"
        for key in ("fallbackDestination", "hooks", "assistantId", "workflowId", "squadId", "server")
    }
    | {"numberE164CheckEnabled": "caller IDs are always E.164 (the default, true)"},
}
NUMBER_TYPES = {"number": {"number", "integer"}, "integer": {"integer"}}


@pytest.fixture
def schema(anonymous) -> dict:
    response = anonymous.get("/api/schema?format=json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture(scope="session")
def vapi_documents(vapi_openapi_2026) -> list[dict]:
    return [vapi_openapi_2026, json.loads((SPEC / PHONE_NUMBERS_2026).read_text())]


def vapi_operations(documents: list[dict]) -> list[tuple[dict, str, str, dict]]:
    """(document, path, method, operation) for every operation of Vapi's we serve."""
    return [
        (document, path, method, operation)
        for document in documents
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def resolve(document: dict, schema: dict, name: str = "") -> tuple[dict, str]:
    """`schema` with its $ref (and a lone allOf, as drf-spectacular wraps refs) followed, and the
    name of the component it ends at ("" for none)."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = document["components"]["schemas"][name]
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = {**{k: v for k, v in schema.items() if k != "allOf"}, **schema["allOf"][0]}
        elif "oneOf" in schema:  # Vapi's PhoneNumber: ours is the bring-your-own number
            members = [resolve(document, s) for s in schema["oneOf"]]
            schema, name = next(
                m for m in members if "byo-phone-number" in m[0]["properties"]["provider"]["enum"]
            )
        else:
            return schema, name


def compare(vapi_doc: dict, vapi: dict, our_doc: dict, ours: dict, where: str, request: bool) -> list[str]:
    """How our schema differs from Vapi's where a Vapi client would notice: a property missing, a
    required one optional, another type, other bounds (requests), values beyond Vapi's enum
    (responses) or short of it (requests)."""
    (vapi, component), (ours, _) = resolve(vapi_doc, vapi), resolve(our_doc, ours)
    never = {} if request else NEVER_SENT.get(component, {})
    problems = []
    kind = vapi.get("type")
    if kind and kind not in ("object",) and ours.get("type") not in NUMBER_TYPES.get(kind, {kind}):
        problems.append(f"{where}: type {ours.get('type')} for Vapi's {kind}")
    if "enum" in vapi and "enum" in ours:
        extra, missing = set(ours["enum"]) - set(vapi["enum"]), set(vapi["enum"]) - set(ours["enum"])
        if (extra and not request) or (missing and request):
            problems.append(f"{where}: enum {sorted(ours['enum'])} for Vapi's {sorted(vapi['enum'])}")
    if request:
        for bound in ("maxLength", "minLength", "minimum", "maximum", "minItems", "maxItems"):
            if bound in vapi and ours.get(bound) != vapi[bound]:
                problems.append(f"{where}: {bound} {ours.get(bound)} for Vapi's {vapi[bound]}")
    for name, prop in vapi.get("properties", {}).items():
        if name in never:
            continue
        if name not in ours.get("properties", {}):
            problems.append(f"{where}.{name}: missing")
            continue
        problems += compare(vapi_doc, prop, our_doc, ours["properties"][name], f"{where}.{name}", request)
    required = set(vapi.get("required", [])) - set(ours.get("required", []))
    if required and not request:
        problems.append(f"{where}: {sorted(required)} not required")
    if "items" in vapi and "items" in ours:
        problems += compare(vapi_doc, vapi["items"], our_doc, ours["items"], f"{where}[]", request)
    return problems


def test_the_schema_validates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=io.StringIO(), stderr=io.StringIO())


def test_vapis_operations_keep_their_paths_and_operation_ids(schema, vapi_documents) -> None:
    operations = vapi_operations(vapi_documents)

    assert {op["operationId"] for _, _, _, op in operations} >= {
        "CampaignController_create",
        "CampaignController_findAll",
        "CampaignController_findOne",
        "CampaignController_update",
        "CampaignController_remove",
        "CampaignController_createV2",
        "CampaignController_findAllV2",
        "CampaignController_findOneV2",
        "CampaignController_updateV2",
        "CampaignController_removeV2",
        "CampaignController_getCampaignV2Contacts",
        "PhoneNumberController_findAll",
        "PhoneNumberController_findAllPaginated",
    }
    for _, path, method, operation in operations:
        assert schema["paths"][path][method]["operationId"] == operation["operationId"], (method, path)


def test_every_vapi_parameter_is_documented_alike(schema, vapi_documents) -> None:
    problems = []
    for vapi_doc, path, method, operation in vapi_operations(vapi_documents):
        ours = {(p["name"], p["in"]): p for p in schema["paths"][path][method].get("parameters", [])}
        for parameter in operation.get("parameters", []):
            where = f"{method.upper()} {path} {parameter['name']}"
            mine = ours.get((parameter["name"], parameter["in"]))
            if mine is None:
                problems.append(f"{where}: missing")
                continue
            problems += compare(vapi_doc, parameter["schema"], schema, mine["schema"], where, request=True)

    assert not problems, problems


def test_every_vapi_request_and_response_body_has_its_fields_alike(schema, vapi_documents) -> None:
    problems = []
    for vapi_doc, path, method, operation in vapi_operations(vapi_documents):
        where = f"{method.upper()} {path}"
        mine = schema["paths"][path][method]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            our_body = mine["requestBody"]["content"]["application/json"]["schema"]
            problems += compare(vapi_doc, body["schema"], schema, our_body, f"{where} body", request=True)
        for status, answer in operation["responses"].items():
            our_answer = mine["responses"][status]["content"]["application/json"]["schema"]
            vapi_answer = answer["content"]["application/json"]["schema"]
            problems += compare(vapi_doc, vapi_answer, schema, our_answer, f"{where} {status}", request=False)

    assert not problems, problems


def test_the_campaign_component_adds_only_our_documented_extensions(schema, vapi_openapi_2026) -> None:
    ours = schema["components"]["schemas"]["Campaign"]
    vapi = vapi_openapi_2026["components"]["schemas"]["Campaign"]

    assert set(ours["properties"]) - set(vapi["properties"]) == DOCUMENT_EXTENSIONS
    assert set(vapi["required"]) <= set(ours["required"])
    assert "10,000" in ours["description"]


def test_operations_vapi_lacks_are_documented_as_dialdecks(schema, vapi_documents) -> None:
    vapis = {(path, method) for _, path, method, _ in vapi_operations(vapi_documents)}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if (path, method) in vapis or path.startswith("/api/"):
                continue
            if operation["operationId"] in VAPI_PHONE_OPERATIONS:  # Vapi's, bodies of ours
                assert "Dialdeck" in operation["description"], (method, path)
                continue
            assert any("Dialdeck" in tag for tag in operation["tags"]), (method, path)


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


def our_problems(schema: dict, method: str, path: str, status: int, body: Any) -> list[str]:
    answer = schema["paths"][path][method]["responses"][str(status)]["content"]["application/json"]
    validator = jsonschema.Draft202012Validator({"components": schema["components"], **answer["schema"]})
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_our_responses_are_valid_against_our_schema(api, create, create_v2, dial, schema, owner) -> None:
    body = create(3, dialingStrategy={"respectRecipientTimeZone": False})
    dial(
        Campaign.objects.get(pk=body["id"]),
        {0: [("in-progress", "", None), ("ended", "voicemail", {"summary": "vm"})]},
    )
    api.post(f"/campaign/{body['id']}/pause")
    v2 = create_v2(2, server={"url": "http://127.0.0.1:9/hooks"}, serverMessages=["campaign.started"])
    api.post("/dnc", {"number": "+14155550170", "note": "n"}, format="json")
    number = api.get("/phone-number").json()[0]["id"]

    for method, path, template, status in (
        ("get", f"/campaign/{body['id']}", "/campaign/{id}", 200),
        ("get", "/campaign", "/campaign", 200),
        ("get", f"/campaign/{body['id']}/customers", "/campaign/{id}/customers", 200),
        ("get", f"/campaign/{body['id']}/calls?include=log", "/campaign/{id}/calls", 200),
        ("get", "/v2/campaign?includeCounters=true", "/v2/campaign", 200),
        ("get", f"/v2/campaign/{v2['id']}?includeCounters=true", "/v2/campaign/{id}", 200),
        ("get", f"/v2/campaign/{body['id']}/contacts", "/v2/campaign/{id}/contacts", 200),
        ("patch", f"/v2/campaign/{v2['id']}", "/v2/campaign/{id}", 200),
        ("delete", f"/v2/campaign/{v2['id']}", "/v2/campaign/{id}", 200),
        ("post", f"/v2/campaign/{v2['id']}/unarchive", "/v2/campaign/{id}/unarchive", 200),
        ("get", "/phone-number", "/phone-number", 200),
        ("get", f"/phone-number/{number}", "/phone-number/{id}", 200),
        ("get", "/v2/phone-number", "/v2/phone-number", 200),
        ("get", "/dnc", "/dnc", 200),
    ):
        data = {"status": "cancelled"} if method == "patch" else None
        response = getattr(api, method)(path, data, format="json")
        assert response.status_code == status, (path, response.json())
        assert not our_problems(schema, method, template, status, response.json()), path


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
