"""The customers CSV export: streamed, every customer with its outcome, formulas made inert."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.export import neutralise
from campaigns.models import Customer

pytestmark = pytest.mark.django_db


def rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("+14155550100", "+14155550100"),  # a plain number is never run as a formula
        ("-3", "-3"),
        ("Ada", "Ada"),
        ("", ""),
        (None, ""),
    ],
)
def test_cells_that_would_start_a_formula_get_a_leading_apostrophe(value, expected) -> None:
    assert neutralise(value) == expected


def test_the_export_streams_every_customer_with_state_and_outcome(as_viewer, org, owner, caller_id) -> None:
    campaign = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Export me",
            assistant_id="a",
            phone_number_id=str(caller_id.pk),
            customers=[
                services.CustomerInput(
                    number="+14155550101",
                    name="=1+1",
                    external_id="@crm",
                    assistant_overrides={"variableValues": {"plan": "-gold"}},
                ),
                services.CustomerInput(number="+14155550102", name="Bob"),
            ],
        ),
    )
    Customer.objects.filter(number="+14155550102").update(
        state="failed", attempts=3, last_outcome="customer-busy", reason="max_attempts"
    )
    response = as_viewer.get(reverse("campaigns:export", args=[campaign.pk]))
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="export-me-customers.csv"'
    first, second = rows(response)
    assert first["number"] == "+14155550101" and first["name"] == "'=1+1" and first["externalId"] == "'@crm"
    assert (
        first["state"] == "pending" and first["nextAttemptAt"] and first["variables"] == '{"plan": "-gold"}'
    )
    assert second["state"] == "failed" and second["attempts"] == "3"
    assert second["lastOutcome"] == "busy" and second["lastEndedReason"] == "customer-busy"
    assert second["reason"] == "max_attempts" and second["nextAttemptAt"] == ""


def test_a_large_campaign_is_exported_in_chunks_in_order(as_viewer, make_campaign, monkeypatch) -> None:
    monkeypatch.setattr("campaigns.export.CHUNK", 7)
    campaign = make_campaign(30)
    numbers = [row["number"] for row in rows(as_viewer.get(reverse("campaigns:export", args=[campaign.pk])))]
    assert numbers == [f"+1415555{i:04d}" for i in range(30)]
