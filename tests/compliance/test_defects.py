"""Each defect of «Compliance holes», reproduced as it was found, and held.

Calls are placed in this process through the real dispatcher, the real last gate and the
simulated provider; the clock is moved where a rule depends on the hour.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import Count

from campaigns import services
from campaigns.models import (
    AuditEvent,
    Call,
    Campaign,
    Customer,
    DoNotCall,
    Membership,
    ProviderAccount,
    Role,
)
from campaigns.services.inputs import CallEvent
from dialer import claims, dispatch, placement
from dialer.models import SimulatedEvent
from tests.compliance.conftest import customer, dial, dispatched, state
from tests.conftest import _member

pytestmark = pytest.mark.django_db(transaction=True)

ONE_ATTEMPT = {"max_attempts": 1}
FINAL = ["completed", "voicemail", "failed", "skipped", "cancelled"]


def overdue(*calls: Call) -> None:
    """As if the calls had left two hours ago and the provider had forgotten them since."""
    then = datetime.now(ZoneInfo("UTC")) - timedelta(hours=2)
    ids = [call.pk for call in calls]
    Call.objects.filter(pk__in=ids).update(created_at=then, placing_at=then, placed_at=then)
    SimulatedEvent.objects.filter(payload__call_id__in=[str(i) for i in ids]).delete()


def recount(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    by_status = dict(Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id")))
    stored = {
        "calls_queued": campaign.calls_queued,
        "calls_in_progress": campaign.calls_in_progress,
        "calls_ended": campaign.calls_ended,
        "customers_final": campaign.customers_final,
    }
    counted = {
        "calls_queued": by_status.get("queued", 0),
        "calls_in_progress": sum(by_status.get(s, 0) for s in ("ringing", "in-progress", "forwarding")),
        "calls_ended": by_status.get("ended", 0),
        "customers_final": campaign.customers.filter(state__in=FINAL).count(),
    }
    assert stored == counted
    return counted


# -- 1. numberE164CheckEnabled: false ------------------------------------------------------------


def test_defect_1_numbers_typed_with_the_e164_check_off_keep_calling_hours_and_do_not_call(
    make_campaign, org, owner, moved_clock
) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155551240", "")])
    moved_clock.set("2026-12-02 22:36", "America/Los_Angeles")
    campaign = make_campaign(
        customers=[customer("+14155551235", check=False), customer("14155551240", check=False)],
        strategy=ONE_ATTEMPT,
    )
    campaign = services.campaign_start(campaign=campaign, by=owner)

    assert dial(campaign) == []  # 22:36 in San Francisco: nobody is called
    assert state(campaign, "+14155551235") == ("pending", "recipient_local_time")
    # Typed without +, stored in canonical form, and so matched with the do-not-call list.
    assert state(campaign, "+14155551240") == ("skipped", "do_not_call")
    assert Customer.objects.get(campaign=campaign, number="+14155551240").number_submitted == "14155551240"

    moved_clock.set("2026-12-03 10:00", "America/Los_Angeles")
    [call] = dial(campaign)
    assert call.customer.number == "+14155551235"
    recount(campaign)


def test_defect_1_a_number_whose_zone_cannot_be_known_waits_unless_the_organization_allows_it(
    make_campaign, org, owner, moved_clock
) -> None:
    moved_clock.set("2026-12-02 12:00", "UTC")
    hours = [{"day": day, "start": "09:00", "end": "17:00"} for day in ("mon", "tue", "wed", "thu", "fri")]
    campaign = make_campaign(
        customers=[customer("trunk42", check=False)],
        strategy={**ONE_ATTEMPT, "calling_hours": hours, "time_zone": "UTC"},
    )
    campaign = services.campaign_start(campaign=campaign, by=owner)
    assert dial(campaign) == []
    assert state(campaign, "trunk42") == ("pending", "unknown_time_zone")

    services.organization_update(
        organization=org,
        by=owner,
        changes=services.OrganizationChanges(
            fields={"call_numbers_without_time_zone"}, call_numbers_without_time_zone=True
        ),
    )
    assert AuditEvent.objects.filter(action="organization.update", actor=owner).exists()
    moved_clock.set("2026-12-02 18:00", "UTC")  # after the campaign's hours: still waits
    assert dial(campaign) == []
    moved_clock.set("2026-12-03 09:30", "UTC")  # inside them: called
    [call] = dial(campaign)
    assert call.customer.number == "trunk42"


# -- 2. national trunk prefixes -----------------------------------------------------------------


def test_defect_2_a_trunk_prefix_changes_neither_the_zone_nor_the_do_not_call_match(
    make_campaign, org, owner, moved_clock
) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+49030111222333", "")])
    assert list(DoNotCall.objects.values_list("number", flat=True)) == ["+4930111222333"]
    moved_clock.set("2026-12-02 07:44", "Europe/Berlin")
    campaign = make_campaign(
        customers=[customer("+49030123456789"), customer("+49030111222333")], strategy=ONE_ATTEMPT
    )
    berlin = Customer.objects.get(campaign=campaign, number="+4930123456789")
    assert (berlin.number_submitted, berlin.zone_list) == ("+49030123456789", ("Europe/Berlin",))
    assert state(campaign, "+4930111222333") == ("skipped", "do_not_call")

    campaign = services.campaign_start(campaign=campaign, by=owner)
    assert dial(campaign) == []  # 07:44 in Berlin
    assert state(campaign, "+4930123456789") == ("pending", "recipient_local_time")
    moved_clock.set("2026-12-02 09:00", "Europe/Berlin")
    [call] = dial(campaign)
    assert call.customer.number == "+4930123456789"


def test_defect_2_a_do_not_call_entry_added_in_another_spelling_skips_the_customer(
    make_campaign, org, owner
) -> None:
    campaign = make_campaign(customers=[customer("+49030111222333")], strategy=ONE_ATTEMPT)
    services.dnc_add(organization=org, by=owner, numbers=[("+49 (0)30 111 222 333", "")])
    assert state(campaign, "+4930111222333") == ("skipped", "do_not_call")
    recount(campaign)


# -- 4. the last gate ---------------------------------------------------------------------------


def _change(what: str, campaign: Campaign, org, owner, moved_clock) -> None:
    if what == "end":
        services.campaign_end(campaign=campaign, by=owner)
    elif what == "pause":
        services.campaign_pause(campaign=campaign, by=owner)
    elif what == "do_not_call":
        numbers = campaign.customers.values_list("number", flat=True)
        services.dnc_add(organization=org, by=owner, numbers=[(n, "") for n in numbers])
    elif what == "organization_pause":
        services.organization_pause(organization=org, by=owner)
    elif what == "window":
        moved_clock.set("2026-12-02 21:00", "America/Los_Angeles")


GATE_CASES = {
    "end": ("cancelled", "cancelled"),
    "pause": ("pending", "campaign_paused"),
    "do_not_call": ("skipped", "do_not_call"),
    "organization_pause": ("pending", "organization_paused"),
    "window": ("pending", "recipient_local_time"),
}


@pytest.mark.parametrize("what", list(GATE_CASES))
def test_defect_4_calls_a_worker_took_before_a_change_are_stopped_at_the_gate(
    what, make_campaign, org, owner, moved_clock
) -> None:
    moved_clock.set("2026-12-02 20:59", "America/Los_Angeles")
    campaign = make_campaign(4, strategy=ONE_ATTEMPT)
    campaign = services.campaign_start(campaign=campaign, by=owner)
    taken = claims.take(dispatched(campaign))  # a worker has them, about to send
    assert len(taken) == 4
    _change(what, campaign, org, owner, moved_clock)

    assert claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken]) == []
    assert not Call.objects.filter(campaign=campaign, log__kind="request").exists()
    assert set(campaign.customers.values_list("state", "reason")) == {GATE_CASES[what]}
    assert set(campaign.customers.values_list("attempts", flat=True)) == {0}  # no attempt spent
    recount(campaign)


def test_defect_4_customers_held_back_by_a_pause_are_due_the_moment_it_lifts(
    make_campaign, owner, moved_clock
) -> None:
    moved_clock.set("2026-12-02 12:00", "America/Los_Angeles")
    campaign = services.campaign_start(campaign=make_campaign(2, strategy=ONE_ATTEMPT), by=owner)
    taken = claims.take(dispatched(campaign))
    services.campaign_pause(campaign=campaign, by=owner)
    claims.confirm_at_gate([(call, "POST /call", "{}") for call in taken])
    services.campaign_resume(campaign=campaign, by=owner)
    assert len(dial(campaign)) == 2


def test_defect_4_the_attempt_budget_is_checked_again_at_the_gate(make_campaign, owner, moved_clock) -> None:
    moved_clock.set("2026-12-02 12:00", "America/Los_Angeles")
    strategy = {"max_attempts": 2, "retry_delays": {"busy": 0, "noAnswer": 0, "voicemail": 0, "failed": 0}}
    campaign = services.campaign_start(campaign=make_campaign(1, strategy=strategy), by=owner)
    [first] = dial(campaign)
    event = CallEvent(
        kind="status-update", status="ended", call_id=str(first.pk), ended_reason="customer-busy"
    )
    services.record_call_event(account=first.provider_account, event=event)
    moved_clock.set("2026-12-02 12:01", "America/Los_Angeles")
    [second] = claims.take(dispatched(campaign))
    assert second.attempt == 2
    services.campaign_pause(campaign=campaign, by=owner)  # a manager lowers the budget meanwhile
    services.campaign_update(
        campaign=campaign,
        by=owner,
        changes=services.CampaignChanges(fields={"strategy"}, strategy={"max_attempts": 1}),
    )
    services.campaign_resume(campaign=campaign, by=owner)
    assert claims.confirm_at_gate([(second, "POST /call", "{}")]) == []
    assert state(campaign, campaign.customers.get().number) == ("failed", "max_attempts")
    recount(campaign)


# -- 5. hostile provider timestamps, and periodic jobs isolated per row ----------------------------


def test_defect_5_a_timestamp_from_the_year_9999_is_dropped_and_the_reaper_keeps_working(
    make_campaign, owner, client
) -> None:
    campaign = services.campaign_start(
        campaign=make_campaign(2, strategy={"respect_recipient_time_zone": False}), by=owner
    )
    calls = dial(campaign)
    hostile = datetime.fromisoformat("9999-12-31T23:59:59-12:00")
    for call in calls:
        event = CallEvent(
            kind="status-update", status="in-progress", call_id=str(call.pk), started_at=hostile, at=hostile
        )
        services.record_call_event(account=call.provider_account, event=event)
    call = Call.objects.get(pk=calls[0].pk)
    assert call.status == "in-progress"
    assert call.started_at is None or abs(call.started_at - datetime.now(ZoneInfo("UTC"))) < timedelta(days=1)
    overdue(*calls)
    assert placement.reap_stale_calls() == 2  # no outcome within ring + duration + grace: closed
    client.force_login(owner)
    assert client.get(f"/app/campaigns/{campaign.pk}").status_code == 200
    assert client.get(f"/app/campaigns/{campaign.pk}/calls/{call.pk}").status_code == 200


def test_defect_5_one_campaign_that_fails_in_the_tick_does_not_stop_the_others(make_campaign, owner) -> None:
    anytime = {"respect_recipient_time_zone": False}
    broken = services.campaign_start(campaign=make_campaign(2, strategy=anytime, name="Broken"), by=owner)
    healthy = services.campaign_start(campaign=make_campaign(2, strategy=anytime, name="Healthy"), by=owner)
    # Broken data in one campaign (a zone the tz database no longer has) makes its policy raise.
    Campaign.objects.filter(pk=broken.pk).update(time_zone="Mars/Olympus_Mons", priority=10)
    queued: list[str] = []
    dispatch.tick(enqueue=queued.extend)
    assert Call.objects.filter(campaign=healthy).count() == 2
    assert not Call.objects.filter(campaign=broken).exists()


def test_defect_5_one_call_the_reaper_cannot_handle_does_not_stop_the_others(
    make_campaign, owner, org
) -> None:
    campaign = services.campaign_start(
        campaign=make_campaign(2, strategy={"respect_recipient_time_zone": False}), by=owner
    )
    first, second = dial(campaign)
    overdue(first, second)
    gone = ProviderAccount.objects.create(organization=org, name="Retired kind", kind="retired")
    Call.objects.filter(pk=first.pk).update(provider_account=gone)  # its provider cannot be loaded
    assert placement.reap_stale_calls() == 1
    assert Call.objects.get(pk=second.pk).status == "ended"
    assert Call.objects.get(pk=first.pk).status != "ended"


# -- 6. an import racing the dialer's finish ---------------------------------------------------------


def test_defect_6_customers_imported_while_the_campaign_would_finish_keep_it_open(
    make_campaign, owner
) -> None:
    campaign = services.campaign_start(
        campaign=make_campaign(1, strategy={"respect_recipient_time_zone": False}), by=owner
    )
    [call] = dial(campaign)
    services.record_call_event(
        account=call.provider_account,
        event=CallEvent(
            kind="status-update", status="ended", call_id=str(call.pk), ended_reason="customer-ended-call"
        ),
    )
    assert services.campaign_is_exhausted(campaign)  # what the tick sees before the import commits
    importing, imported = threading.Event(), threading.Event()

    def rows():
        yield customer("+14155550001")
        importing.set()
        imported.wait(10)
        for i in range(2, 200):
            yield customer(f"+1415555{i:04d}")

    def add() -> None:
        try:
            services.customers_add(campaign=campaign, by=owner, rows=rows())
        finally:
            connection.close()

    adder = threading.Thread(target=add)
    adder.start()
    assert importing.wait(10)
    finisher = threading.Thread(target=lambda: (dispatch.tick(enqueue=lambda ids: None), connection.close()))
    finisher.start()  # the tick tries to finish the campaign while the import holds it
    imported.set()
    adder.join(30)
    finisher.join(30)
    campaign.refresh_from_db()
    assert campaign.status == "in-progress"
    assert (
        campaign.customers.filter(state="pending").count() + campaign.customers.filter(state="queued").count()
        == 199
    )


def test_defect_6_an_import_into_an_ended_campaign_is_refused(make_campaign, owner) -> None:
    campaign = services.campaign_end(campaign=make_campaign(1), by=owner)
    with pytest.raises(services.InvalidTransition, match="ended"):
        services.customers_add(campaign=campaign, by=owner, rows=[customer("+14155550001")])
    assert campaign.customers.count() == 1


# -- 8. the callee-local floor belongs to the organization ----------------------------------------


def test_defect_8_a_campaign_cannot_turn_off_the_callee_local_floor_unless_an_admin_allowed_it(
    other_org, outsider, moved_clock
) -> None:
    account = ProviderAccount.objects.create(organization=other_org, name="Sim", kind="simulated")
    caller = other_org.phone_numbers.create(provider_account=account, number="+12125550100")
    data = services.CampaignInput(
        name="Night owls",
        assistant_id="asst",
        phone_number_id=str(caller.pk),
        customers=[customer("+12125550123")],
        strategy={"respect_recipient_time_zone": False},
    )
    with pytest.raises(services.ValidationFailed, match="strategy.respect_recipient_time_zone"):
        services.campaign_create(organization=other_org, by=outsider, data=data)

    # A campaign stored that way earlier (or in an organization that no longer allows it) is
    # still held to the floor: a New York number is not called at 01:50.
    data.strategy = {"max_attempts": 1}
    campaign = services.campaign_create(organization=other_org, by=outsider, data=data)
    Campaign.objects.filter(pk=campaign.pk).update(respect_recipient_time_zone=False)
    moved_clock.set("2026-12-03 01:50", "America/New_York")
    campaign = services.campaign_start(campaign=campaign, by=outsider)
    assert dial(campaign) == []
    assert state(campaign, "+12125550123") == ("pending", "recipient_local_time")


# -- the same class, elsewhere --------------------------------------------------------------------


def test_numbers_that_differ_only_by_their_first_character_are_not_merged_as_duplicates(
    make_campaign,
) -> None:
    campaign = make_campaign(customers=[customer("14155551240", check=False), customer("+4155551240")])
    assert campaign.customers.count() == 2


def test_two_admins_demoting_each_other_at_once_leave_the_organization_an_admin(org, owner) -> None:
    second = _member(org, "adele", Role.ADMIN)
    memberships = [Membership.objects.get(user=owner), Membership.objects.get(user=second)]
    start, outcomes = threading.Barrier(2), []

    def demote(membership: Membership, by) -> None:
        start.wait()
        try:
            services.member_set_role(membership=membership, by=by, role=Role.MANAGER)
            outcomes.append("demoted")
        except services.ValidationFailed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=demote, args=(memberships[0], second)),
        threading.Thread(target=demote, args=(memberships[1], owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["demoted", "refused"]
    assert Membership.objects.filter(organization=org, role=Role.ADMIN).count() == 1
