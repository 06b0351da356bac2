"""A campaign's events on its page: what was sent to its own server, what waits, what was given up,
each event's delivery attempts on demand; and the organization's signing secret, which admins
rotate and see once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import SERVER_MESSAGES, AuditEvent, Campaign, CampaignEvent
from campaigns.services.events import DeliveryAttempt, event_attempts_record
from campaigns.services.organization import organization_signing_secret_rotate
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db

POLL = 'hx-trigger="every 5s, campaign-changed from:body"'
SETTINGS = reverse("campaigns:organization-settings")
ROTATE = reverse("campaigns:organization-signing-secret")


def url(name: str, campaign: Campaign, *more: object) -> str:
    return reverse(f"campaigns:{name}", args=[campaign.pk, *more])


@pytest.fixture
def with_server(make_campaign) -> Campaign:
    """A campaign that sends every event to its server (api.vapi.ai stands for a public host)."""
    return make_campaign(
        3,
        name="Renewals",
        strategy={"respect_recipient_time_zone": False, "auto_start": False},
        server={"url": "https://api.vapi.ai/hooks?token=s3cret"},
        server_messages=list(SERVER_MESSAGES),
    )


def attempt(event: CampaignEvent, status: int | None, **outcome: object) -> None:
    at = event.created_at
    event_attempts_record(
        attempts=[
            DeliveryAttempt(
                event_id=event.pk,
                attempted_at=at,
                url="https://api.vapi.ai/hooks?",
                http_status=status,
                duration_ms=42,
                **outcome,
            )
        ]
    )


@pytest.fixture
def events(with_server) -> dict[str, CampaignEvent]:
    """One event delivered, one waiting after a 503, one given up."""
    emit = services.event_emit
    delivered = emit(campaign=with_server, event_type="campaign.started", data={"workflowId": "run-1"})
    waiting = emit(campaign=with_server, event_type="contact.dispatched", data={"contactId": "c-1"})
    given_up = emit(campaign=with_server, event_type="contact.completed", data={"contactId": "c-2"})
    attempt(delivered, 200, delivered=True)
    attempt(waiting, 503, error="answered 503", response="busy, come back later", retry_at=waiting.created_at)
    attempt(given_up, None, error="not sent: the server URL 10.0.0.8 is a private address")
    return {"delivered": delivered, "waiting": waiting, "given_up": given_up}


def test_the_campaign_page_lists_its_events_with_state_attempts_and_last_error(
    as_viewer, with_server, events
) -> None:
    page = as_viewer.get(url("detail", with_server)).content.decode()

    assert 'id="campaign-events"' in page and 'id="event-attempts"' in page
    assert "1 waiting · 1 given up" in page
    for event, state, label in (
        (events["delivered"], "delivered", "Delivered"),
        (events["waiting"], "pending", "Waiting to be delivered"),
        (events["given_up"], "failed", "Given up"),
    ):
        assert f'data-event="{event.pk}"' in page and event.event_type in page
        assert f'data-state="{state}">{label}</span>' in page
    assert "answered 503" in page and "10.0.0.8 is a private address" in page


def test_a_campaign_without_a_server_has_no_events_panel(as_viewer, campaign) -> None:
    assert 'id="campaign-events"' not in as_viewer.get(url("detail", campaign)).content.decode()


def test_the_panel_refreshes_while_events_wait_and_stops_once_all_are_settled(
    as_viewer, with_server, events
) -> None:
    fragment = as_viewer.get(url("events", with_server), **HTMX)
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert POLL in fragment.content.decode()  # not running, but an event waits

    attempt(CampaignEvent.objects.get(pk=events["waiting"].pk), 200, delivered=True)
    settled = as_viewer.get(url("events", with_server), **HTMX).content.decode()
    assert POLL not in settled and 'hx-trigger="campaign-changed from:body"' in settled
    assert "0 waiting · 1 given up" in settled


def test_events_filter_by_state_and_page_newest_first(as_viewer, with_server, events) -> None:
    given_up = as_viewer.get(url("events", with_server) + "?state=failed").content.decode()
    assert "<html" in given_up and f'data-event="{events["given_up"].pk}"' in given_up
    assert f'data-event="{events["waiting"].pk}"' not in given_up

    services.events_emit(
        campaign=with_server,
        event_type="contact.dispatched",
        items=[{"contactId": str(i)} for i in range(25)],
    )
    first = as_viewer.get(url("events", with_server), **HTMX).content.decode()
    assert first.count("<tr data-event=") == 20 and ">Older</a>" in first
    older = first.split("older=", 1)[1].split('"', 1)[0]
    second = as_viewer.get(url("events", with_server) + f"?older={older}", **HTMX).content.decode()
    assert second.count("<tr data-event=") == 8 and "hx-trigger" not in second.split("</h2>", 1)[0]


def test_an_events_attempts_open_on_demand(as_viewer, with_server, events) -> None:
    waiting = events["waiting"]

    fragment = as_viewer.get(url("event", with_server, waiting.pk), **HTMX).content.decode()

    assert "<html" not in fragment and str(waiting.pk) in fragment
    assert "HTTP 503" in fragment and "busy, come back later" in fragment and "answered 503" in fragment
    assert "https://api.vapi.ai/hooks?" in fragment and "s3cret" not in fragment  # no query string logged
    assert "&quot;contactId&quot;: &quot;c-1&quot;" in fragment  # its data, as JSON
    page = as_viewer.get(url("event", with_server, waiting.pk)).content.decode()
    assert "<html" in page and "Breadcrumbs" in page and "HTTP 503" in page


def test_an_event_is_only_found_through_its_own_campaign(
    as_viewer, as_outsider, with_server, events, make_campaign
) -> None:
    other = make_campaign(1, name="Other", strategy={"auto_start": False})
    assert as_viewer.get(url("event", other, events["waiting"].pk)).status_code == 404
    assert as_outsider.get(url("event", with_server, events["waiting"].pk)).status_code == 404
    assert as_outsider.get(url("events", with_server)).status_code == 404


# -- the organization's signing secret -----------------------------------------------------------


def test_an_admin_rotates_the_signing_secret_and_sees_the_new_one_once(as_owner, org) -> None:
    old = org.event_signing_secret
    before = as_owner.get(SETTINGS).content.decode()
    assert org.event_signing_secret_hint in before and old not in before
    assert f'action="{ROTATE}"' in before

    response = as_owner.post(ROTATE)

    assert response.status_code == 201 and "no-store" in response["Cache-Control"]
    org.refresh_from_db()
    new = org.event_signing_secret
    assert new != old and org.event_signing_secret_previous == old
    assert f'data-testid="signing-secret">{new}</code>' in response.content.decode()
    later = as_owner.get(SETTINGS).content.decode()
    assert new not in later and org.event_signing_secret_hint in later
    assert "Rotated the campaign events&#x27; signing secret" in later
    audit = AuditEvent.objects.get(action="organization.signing_secret_rotate")
    assert audit.before == {"event_signing_secret": old[:10] + "…"}
    assert audit.after == {"event_signing_secret": new[:10] + "…"} and new not in str(audit.after)


def test_the_previous_secret_signs_for_a_day_after_a_rotation(org, owner) -> None:
    old = org.event_signing_secret
    org, new = organization_signing_secret_rotate(organization=org, by=owner)
    rotated = org.event_signing_secret_rotated_at
    assert org.event_signing_secrets(rotated + timedelta(hours=23)) == [new, old]
    assert org.event_signing_secrets(rotated + timedelta(hours=24)) == [new]


def test_a_manager_neither_sees_nor_rotates_the_signing_secret(as_manager, org) -> None:
    page = as_manager.get(reverse("campaigns:organization-pause")).content.decode()
    assert 'data-testid="signing-hint"' not in page
    assert as_manager.post(ROTATE).status_code == 403
    secret = org.event_signing_secret
    org.refresh_from_db()
    assert org.event_signing_secret == secret
