"""The campaign lifecycle as a table: valid transitions succeed and are audited,
invalid ones raise with the current status and change nothing."""

from __future__ import annotations

import pytest

from campaigns import services
from campaigns.models import AuditEvent, Campaign, Customer

SERVICES = {
    "start": services.campaign_start,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "end": services.campaign_end,
    "delete": services.campaign_delete,
}

PATHS = {
    "scheduled": [],
    "in-progress": ["start"],
    "paused": ["start", "pause"],
    "ended": ["end"],
}

# (from, action) -> (status after, endedReason after) or None when refused.
TABLE = {
    ("scheduled", "start"): ("in-progress", ""),
    ("scheduled", "pause"): None,
    ("scheduled", "resume"): None,
    ("scheduled", "end"): ("ended", "campaign.scheduled.ended-by-user"),
    ("scheduled", "delete"): ("ended", "campaign.scheduled.ended-by-user"),
    ("in-progress", "start"): None,
    ("in-progress", "pause"): ("paused", ""),
    ("in-progress", "resume"): None,
    ("in-progress", "end"): ("ended", "campaign.in-progress.ended-by-user"),
    ("in-progress", "delete"): ("ended", "campaign.in-progress.ended-by-user"),
    ("paused", "start"): None,
    ("paused", "pause"): None,
    ("paused", "resume"): ("in-progress", ""),
    ("paused", "end"): ("ended", "campaign.in-progress.ended-by-user"),
    ("paused", "delete"): ("ended", "campaign.in-progress.ended-by-user"),
    ("ended", "start"): None,
    ("ended", "pause"): None,
    ("ended", "resume"): None,
    ("ended", "end"): None,
    ("ended", "delete"): ("ended", "campaign.scheduled.ended-by-user"),
}


def campaign_in(status: str, make_campaign, owner) -> Campaign:
    campaign = make_campaign(3)
    for step in PATHS[status]:
        campaign = SERVICES[step](campaign=campaign, by=owner)
    assert campaign.status == status
    return campaign


@pytest.mark.parametrize(("start", "action"), list(TABLE), ids=[f"{s}-{a}" for s, a in TABLE])
def test_lifecycle_transition(start, action, make_campaign, owner) -> None:
    campaign = campaign_in(start, make_campaign, owner)
    audits_before = AuditEvent.objects.filter(target_id=str(campaign.pk)).count()
    expected = TABLE[start, action]
    if expected is None:
        with pytest.raises(services.InvalidTransition) as refused:
            SERVICES[action](campaign=campaign, by=owner)
        assert refused.value.current == start
        assert start in str(refused.value)
        campaign.refresh_from_db()
        assert campaign.status == start
        assert AuditEvent.objects.filter(target_id=str(campaign.pk)).count() == audits_before
        return
    result = SERVICES[action](campaign=campaign, by=owner)
    result.refresh_from_db()
    assert (result.status, result.ended_reason) == expected
    assert (result.deleted_at is not None) == (action == "delete")
    event = AuditEvent.objects.filter(target_id=str(campaign.pk)).first()
    assert event.action == f"campaign.{action}"
    assert event.actor == owner
    assert event.after["status"] == expected[0]


def test_deleting_twice_is_refused(make_campaign, owner) -> None:
    campaign = services.campaign_delete(campaign=make_campaign(1), by=owner)
    with pytest.raises(services.InvalidTransition) as refused:
        services.campaign_delete(campaign=campaign, by=owner)
    assert refused.value.current == "deleted"


def test_ending_cancels_customers_not_yet_dialed(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(4), by=owner)
    services.campaign_end(campaign=campaign, by=owner)
    states = set(Customer.objects.filter(campaign=campaign).values_list("state", "reason"))
    assert states == {("cancelled", "cancelled")}
    campaign.refresh_from_db()
    assert campaign.customers_final == campaign.customers_total == 4


def test_the_audit_event_records_before_and_after(make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(1), by=owner)
    services.campaign_pause(campaign=campaign, by=owner)
    event = AuditEvent.objects.filter(target_id=str(campaign.pk), action="campaign.pause").get()
    assert (event.before["status"], event.after["status"]) == ("in-progress", "paused")


def test_starting_before_earliest_at_moves_the_schedule_to_now(make_campaign, owner) -> None:
    from django.utils import timezone

    later = timezone.now() + timezone.timedelta(days=2)
    campaign = make_campaign(2, earliest_at=later)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    assert campaign.earliest_at <= timezone.now()
    assert not Customer.objects.filter(campaign=campaign, next_attempt_at__gt=timezone.now()).exists()
