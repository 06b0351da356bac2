"""POST /campaign/{id}/rerun, PUT/DELETE /campaign/{id}/recurrence and GET /campaign/{id}/series:
the services through Vapi's error envelope, documented in the OpenAPI schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns import services
from campaigns.models import Campaign, CampaignSeries, Customer
from tests.api.conftest import messages
from tests.campaigns.test_reruns import STRATEGY, finished  # noqa: F401 (a fixture)


def test_a_rerun_answers_201_with_the_new_campaigns_document_linked_to_the_old(api, finished):  # noqa: F811
    response = api.post(
        f"/campaign/{finished.pk}/rerun", {"who": ["failed"], "name": "Try again"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["status"], body["rerunOfCampaignId"], body["rerunWho"]) == (
        "Try again",
        "scheduled",
        str(finished.pk),
        ["failed"],
    )
    assert len(body["customers"]) == 1
    assert body["analysisSchema"] == finished.analysis_schema


def test_a_bad_rerun_is_refused_naming_the_field(api, finished):  # noqa: F811
    response = api.post(f"/campaign/{finished.pk}/rerun", {"who": ["everyone"]}, format="json")
    assert response.status_code == 400
    assert messages(response) == ["who.0 must be one of not-answered, failed, objective-not-met"]
    response = api.post(f"/campaign/{finished.pk}/rerun", {}, format="json")
    assert (response.status_code, messages(response)) == (400, ["who should not be empty"])
    assert Campaign.objects.count() == 1


def test_a_running_campaign_is_not_rerun_409(api, make_campaign, owner):
    running = services.campaign_start(campaign=make_campaign(2, strategy=STRATEGY), by=owner)
    response = api.post(f"/campaign/{running.pk}/rerun", {"who": ["failed"]}, format="json")
    assert response.status_code == 409, response.content


def test_another_organizations_campaign_is_not_found(other_api, finished):  # noqa: F811
    response = other_api.post(f"/campaign/{finished.pk}/rerun", {"who": ["failed"]}, format="json")
    assert response.status_code == 404


def numbers(campaign: Campaign) -> list[tuple[str, str]]:
    return list(
        Customer.objects.filter(campaign=campaign).order_by("position").values_list("number", "state")
    )


RECUR = {"frequency": "daily", "timeZone": "America/Chicago", "at": "09:30", "maxRuns": 3}


def test_a_campaign_made_to_recur_reports_its_series(api, make_campaign):
    campaign = make_campaign(2, strategy=STRATEGY)
    response = api.put(f"/campaign/{campaign.pk}/recurrence", RECUR, format="json")
    assert response.status_code == 201, response.content
    series = response.json()
    assert (series["frequency"], series["timeZone"], series["at"], series["maxRuns"]) == (
        "daily",
        "America/Chicago",
        "09:30",
        3,
    )
    assert [r["campaignId"] for r in series["runs"]] == [str(campaign.pk)]
    assert series["totals"]["customers"] == 2
    next_run = datetime.fromisoformat(series["nextRunAt"])
    assert next_run > datetime.now(UTC) and next_run.astimezone().minute == 30
    document = api.get(f"/campaign/{campaign.pk}").json()
    assert (document["seriesId"], document["seriesRunOn"]) == (series["id"], series["firstOn"])
    # A second run, made when due, shows in the report with its own counters.
    services.series_run_due(series_id=series["id"], now=next_run + timedelta(seconds=1))
    report = api.get(f"/campaign/{campaign.pk}/series").json()
    assert len(report["runs"]) == 2 and report["totals"]["customers"] == 4
    assert report["runs"][1]["runOn"] > report["runs"][0]["runOn"]
    # Stopped: no next run; stopping twice is a conflict.
    stopped = api.delete(f"/campaign/{campaign.pk}/recurrence")
    assert (stopped.status_code, stopped.json()["nextRunAt"]) == (200, None)
    assert api.delete(f"/campaign/{campaign.pk}/recurrence").status_code == 409


def test_a_bad_recurrence_is_refused_naming_each_field_and_nothing_is_made(api, make_campaign):
    campaign = make_campaign(2, strategy=STRATEGY)
    body = {"frequency": "hourly", "timeZone": "Mars/Olympus", "at": "25:00"}
    response = api.put(f"/campaign/{campaign.pk}/recurrence", body, format="json")
    assert response.status_code == 400
    assert messages(response) == [
        "frequency must be one of the following values: daily, weekly, monthly",
        "at must be a time as HH:MM (24-hour)",
    ]
    response = api.put(
        f"/campaign/{campaign.pk}/recurrence", {**RECUR, "timeZone": "Mars/Olympus"}, format="json"
    )
    assert messages(response) == ["timeZone must be an IANA time zone such as Europe/Berlin"]
    response = api.put(f"/campaign/{campaign.pk}/recurrence", {**RECUR, "maxRuns": None}, format="json")
    assert messages(response) == ["endsOn or a number of runs is required: a series must end"]
    assert not CampaignSeries.objects.exists()
    assert api.get(f"/campaign/{campaign.pk}/series").status_code == 404


def test_the_openapi_document_lists_the_new_operations(api):
    paths = api.get("/api/schema", {"format": "json"}).json()["paths"]
    assert "post" in paths["/campaign/{id}/rerun"]
    assert {"put", "delete"} <= set(paths["/campaign/{id}/recurrence"])
    assert "get" in paths["/campaign/{id}/series"]


def test_customers_of_a_series_run_are_the_first_runs_afresh(api, make_campaign):
    campaign = make_campaign(3, strategy=STRATEGY)
    series = api.put(f"/campaign/{campaign.pk}/recurrence", RECUR, format="json").json()
    run = services.series_run_due(series_id=series["id"], now=datetime.fromisoformat(series["nextRunAt"]))
    assert run is not None and run.earliest_at == datetime.fromisoformat(series["nextRunAt"])
    assert numbers(run) == numbers(campaign)


def test_a_series_whose_first_run_was_deleted_makes_no_more_runs(api, make_campaign, owner):
    campaign = make_campaign(2, strategy=STRATEGY)
    series = api.put(f"/campaign/{campaign.pk}/recurrence", RECUR, format="json").json()
    services.campaign_delete(campaign=campaign, by=owner)
    assert (
        services.series_run_due(series_id=series["id"], now=datetime.fromisoformat(series["nextRunAt"]))
        is None
    )
    stopped = CampaignSeries.objects.get(pk=series["id"])
    assert (stopped.next_run_at, stopped.stopped_at is not None) == (None, True)
    assert Campaign.objects.filter(series_id=series["id"]).count() == 1


def test_a_dial_plan_campaign_is_rerun_with_its_caller_ids(api, org, owner, caller_id, second_caller_id):
    plan = [
        services.DialPlanInput(
            str(caller_id.pk), [services.CustomerInput(number="+14155550001", source="a")]
        ),
        services.DialPlanInput(
            str(second_caller_id.pk), [services.CustomerInput(number="+14155550002", source="b")]
        ),
    ]
    data = services.CampaignInput(name="Plan", assistant_id="asst-1", dial_plan=plan, strategy=STRATEGY)
    campaign = services.campaign_create(organization=org, by=owner, data=data)
    Customer.objects.filter(campaign=campaign).update(state="failed", last_outcome="customer-busy")
    services.campaign_end(campaign=campaign, by=owner)
    body = api.post(f"/campaign/{campaign.pk}/rerun", {"who": ["not-answered"]}, format="json").json()
    assert [(e["phoneNumberId"], [c["number"] for c in e["customers"]]) for e in body["dialPlan"]] == [
        (str(caller_id.pk), ["+14155550001"]),
        (str(second_caller_id.pk), ["+14155550002"]),
    ]
