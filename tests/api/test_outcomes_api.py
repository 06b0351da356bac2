"""Dialdeck's outcome settings through the API: accepted, echoed and documented in camelCase,
refused with a 400 naming the field; results per customer and call, filtered and summarised."""

from __future__ import annotations

from campaigns import services
from campaigns.models import Campaign
from campaigns.services.inputs import CallEvent
from tests.api.conftest import messages

SCHEMA = {
    "type": "object",
    "properties": {
        "objectiveMet": {"type": "boolean"},
        "mood": {"enum": ["happy", "neutral", "angry"]},
        "callbackAt": {"type": "string"},
    },
}
OUTCOMES = {
    "objective": "Book a renewal call.",
    "analysisSchema": SCHEMA,
    "outcomeRules": [
        {"when": {"objectiveMet": True}, "then": "completed"},
        {"when": {"outcome": "voicemail"}, "then": "retry", "retryInSeconds": 14400, "maxAttempts": 2},
        {"when": {"endedReason": "customer-busy", "field": "mood", "equals": "angry"}, "then": "do-not-call"},
    ],
    "hangUpIsOptOut": True,
    "hangUpOptOutSeconds": 4,
    "maxCallbacks": 1,
    "voicemailPlan": {
        "action": "leave-message",
        "recordingUrl": "https://cdn.example.com/vm.mp3",
        "then": "retry",
    },
}


def test_outcome_settings_are_stored_and_echoed_as_given(create) -> None:
    body = create(**OUTCOMES)
    for key, value in OUTCOMES.items():
        assert body[key] == value
    campaign = Campaign.objects.get(pk=body["id"])
    assert campaign.outcome_rules[2]["when"] == {
        "ended_reason": "customer-busy",
        "field": "mood",
        "equals": "angry",
    }
    assert campaign.voicemail_plan["recording_url"] == "https://cdn.example.com/vm.mp3"


def test_a_campaign_without_them_shows_none(create) -> None:
    body = create()
    assert not {"objective", "analysisSchema", "outcomeRules", "voicemailPlan"} & set(body)


def test_a_bad_schema_is_a_400_naming_the_field_and_nothing_is_created(api, campaign_body) -> None:
    bad = {"type": "object", "properties": {"mood": {"enum": "happy"}}}
    response = api.post("/campaign", campaign_body(analysisSchema=bad), format="json")
    assert response.status_code == 400
    [message] = messages(response)
    assert message.startswith("analysisSchema.properties.mood.enum is not a valid JSON Schema (2020-12)")
    assert not Campaign.objects.exists()


def test_bad_rules_are_named_in_camel_case(api, campaign_body) -> None:
    rules = [
        {"when": {"endedReason": ""}, "then": "completed"},
        {"when": {"field": "colour", "equals": "red"}, "then": "retry", "retryInSeconds": 10},
    ]
    response = api.post("/campaign", campaign_body(maxCallbacks=99), format="json")
    assert messages(response) == ["maxCallbacks must not be greater than 10"]
    response = api.post("/campaign", campaign_body(analysisSchema=SCHEMA, outcomeRules=rules), format="json")
    assert response.status_code == 400
    found = messages(response)
    assert any(m.startswith("outcomeRules.0.when.endedReason must be an endedReason") for m in found)
    assert "outcomeRules.1.when.field is not a property of the analysis schema" in found
    assert "outcomeRules.1.retryInSeconds must be an integer from 60 to 2592000" in found


def test_patch_changes_them_and_checks_them_whole(api, create) -> None:
    body = create(analysisSchema=SCHEMA)
    response = api.patch(f"/campaign/{body['id']}", {"objectiveField": "mood"}, format="json")
    assert response.status_code == 400
    assert messages(response) == ["objectiveField must name a boolean property of analysisSchema"]
    response = api.patch(f"/campaign/{body['id']}", {"objective": "Sell.", "maxCallbacks": 0}, format="json")
    assert response.status_code == 200
    assert (response.json()["objective"], response.json()["maxCallbacks"]) == ("Sell.", 0)


def _report(call, result) -> None:
    for event in (
        CallEvent(kind="status-update", status="in-progress", call_id=str(call.pk)),
        CallEvent(
            kind="end-of-call-report",
            status="ended",
            call_id=str(call.pk),
            ended_reason="customer-ended-call",
            analysis={"structuredData": result},
            structured_data=result,
        ),
    ):
        services.record_call_event(account=call.provider_account, event=event)


def test_results_per_customer_and_call_filtered_and_summarised(api, create, dial) -> None:
    body = create(4, analysisSchema=SCHEMA, dialingStrategy={"respectRecipientTimeZone": False})
    calls = dial(Campaign.objects.get(pk=body["id"]))
    by_position = {c.customer.position: c for c in calls}
    _report(by_position[0], {"objectiveMet": True, "mood": "happy"})
    _report(by_position[1], {"objectiveMet": False, "mood": "angry"})
    _report(by_position[2], {"objectiveMet": "maybe"})

    met = api.get(f"/campaign/{body['id']}/customers?objective=met").json()["results"]
    assert [(c["number"], c["objectiveMet"], c["analysis"]["mood"]) for c in met] == [
        ("+14155550000", True, "happy")
    ]
    assert len(api.get(f"/campaign/{body['id']}/customers?objective=not-met").json()["results"]) == 1
    assert len(api.get(f"/campaign/{body['id']}/customers?objective=unknown").json()["results"]) == 2
    response = api.get(f"/campaign/{body['id']}/customers?objective=perhaps")
    assert response.status_code == 400 and messages(response)[0].startswith("objective must be one of")

    listed = {c["customerId"]: c for c in api.get(f"/campaign/{body['id']}/calls").json()["results"]}
    invalid = listed[str(by_position[2].customer_id)]
    assert invalid["structuredDataValid"] is False
    assert invalid["structuredDataError"] == "objectiveMet: 'maybe' is not of type 'boolean'"

    summary = api.get(f"/campaign/{body['id']}/outcomes").json()
    assert (summary["analysed"], summary["objectiveMet"], summary["objectiveMetRate"]) == (2, 1, 0.5)
    assert summary["fields"] == [  # by name
        {
            "name": "mood",
            "counts": [
                {"value": "happy", "customers": 1},
                {"value": "neutral", "customers": 0},
                {"value": "angry", "customers": 1},
            ],
        },
        {
            "name": "objectiveMet",
            "counts": [{"value": True, "customers": 1}, {"value": False, "customers": 1}],
        },
    ]
    assert summary["optOuts"] == 0


def test_the_openapi_document_describes_them(anonymous) -> None:
    schema = anonymous.get("/api/schema?format=json").json()
    create = schema["components"]["schemas"]["CreateCampaignDTORequest"]["properties"]
    assert {"objective", "analysisSchema", "outcomeRules", "hangUpIsOptOut", "voicemailPlan"} <= set(create)
    assert create["outcomeRules"]["items"]["properties"]["then"]["enum"] == [
        "completed",
        "callback",
        "do-not-call",
        "retry",
    ]
    assert "/campaign/{id}/outcomes" in schema["paths"]
    shown = schema["components"]["schemas"]["Campaign"]["properties"]
    assert {"objective", "analysisSchema", "outcomeRules", "voicemailPlan"} <= set(shown)
