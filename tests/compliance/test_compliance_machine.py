"""A stateful property test of every compliance rule (hypothesis RuleBasedStateMachine).

Hypothesis interleaves what users, providers and the dialer do to one organization: imports
(numbers in any spelling, the E.164 check on or off), do-not-call additions, start, pause,
resume, end and delete, strategy edits, the organization-wide stop, dispatch ticks, placement
batches (some taken by a worker that then stalls), webhook events (duplicated, out of order,
with hostile timestamps), the reaper, and a clock that moves by minutes or hours. After every
step it checks:

- no call passed the last gate while its campaign was not running or the organization was
  stopped, for a number on the do-not-call list (in canonical form), outside any callee zone's
  window at the instant it left, or beyond the campaign's attempt budget;
- at most one live call per customer;
- every counter equals a recount;
- nobody is left pending, and no call waits unconfirmed, in an ended campaign.

The figures (runs, steps, calls placed, invariants checked) are printed at the end.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule

from campaigns import clock, phone, services
from campaigns.models import Call, Campaign, Customer, Organization, PhoneNumber, ProviderAccount
from campaigns.rules import contacts
from campaigns.rules.hours import every_day, is_open
from campaigns.services.inputs import CallEvent
from dialer import claims, dispatch, placement

pytestmark = pytest.mark.django_db(transaction=True)

# Numbers in several zones, each with spellings that must all be one number.
PEOPLE = {
    "+12125550101": ["+12125550101", "12125550101"],  # New York; check off without +
    "+12125550102": ["+12125550102"],
    "+14155550103": ["+14155550103", "14155550103"],  # San Francisco
    "+442079460104": ["+442079460104", "+4402079460104"],  # London, with its trunk 0
    "+4930901820105": ["+4930901820105", "+49030901820105"],  # Berlin, with its trunk 0
    "+61291920106": ["+61291920106", "+610291920106"],  # Sydney
    "+14155550107": ["+14155550107"],
    "+12125550108": ["+12125550108"],
}
DNC_SPELLINGS = {
    "+12125550101": ["+1 (212) 555-0101", "001 212 555 0101"],
    "+442079460104": ["+44 (0)20 7946 0104", "0044 20 7946 0104"],
    "+4930901820105": ["+49 30 90182 0105", "+49 (0)30 901820105"],
    "+14155550107": ["+1.415.555.0107"],
}
START = datetime(2026, 12, 7, 15, 0, tzinfo=ZoneInfo("UTC"))  # a Monday: 10:00 in New York
OUTCOMES = [
    "customer-busy",
    "customer-did-not-answer",
    "voicemail",
    "customer-ended-call",
    "customer-opted-out",
]
HOSTILE = [
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Etc/GMT+12")),
    datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC")),
]
FINAL = ["completed", "voicemail", "failed", "skipped", "cancelled"]
FIGURES = {"runs": 0, "steps": 0, "checks": 0, "calls": 0, "refused_at_gate": 0}


class ComplianceMachine(RuleBasedStateMachine):
    campaigns = Bundle("campaigns")

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        clock.set_now(lambda: self.now)
        tag = uuid.uuid4().hex[:10]
        self.org = Organization.objects.create(name=f"Machine {tag}", slug=f"machine-{tag}")
        account = ProviderAccount.objects.create(
            organization=self.org, name="Sim", kind="simulated", settings={"seed": 7}
        )
        self.caller = PhoneNumber.objects.create(
            organization=self.org, provider_account=account, number="+12025550100"
        )
        self.owner = None
        self.queued: list[str] = []  # the broker: call ids handed to placement, not yet placed
        self.seen_confirmed: set = set()
        FIGURES["runs"] += 1

    def teardown(self) -> None:
        clock.set_now(None)

    # -- users ---------------------------------------------------------------------------------

    @rule(
        target=campaigns,
        chosen=st.lists(st.sampled_from(sorted(PEOPLE)), min_size=1, max_size=5, unique=True),
        data=st.data(),
        attempts=st.integers(1, 3),
        delay=st.sampled_from([0, 60, 3600]),
    )
    def create(self, chosen, data, attempts, delay):
        rows = []
        for number in chosen:
            spelling = data.draw(st.sampled_from(PEOPLE[number]))
            rows.append(
                services.CustomerInput(
                    number=spelling, number_e164_check_enabled=spelling.startswith("+"), source=spelling
                )
            )
        strategy = {
            "max_attempts": attempts,
            "retry_delays": {"busy": delay, "noAnswer": delay, "voicemail": delay, "failed": delay},
            "max_concurrent_calls": 10,
        }
        if data.draw(st.booleans()):  # a real Monday-to-Friday office day in New York
            days = ("mon", "tue", "wed", "thu", "fri")
            strategy |= {
                "time_zone": "America/New_York",
                "calling_hours": [{"day": day, "start": "09:00", "end": "17:30"} for day in days],
            }
        campaign = services.campaign_create(
            organization=self.org,
            by=self.owner,
            data=services.CampaignInput(
                name="M",
                assistant_id="a",
                phone_number_id=str(self.caller.pk),
                customers=rows,
                strategy=strategy,
            ),
        )
        if data.draw(st.booleans()):
            services.campaign_start(campaign=campaign, by=self.owner)
        return campaign.pk

    @rule(campaign=campaigns, chosen=st.lists(st.sampled_from(sorted(PEOPLE)), min_size=1, max_size=3))
    def import_more(self, campaign, chosen):
        rows = [
            services.CustomerInput(
                number=PEOPLE[n][-1], number_e164_check_enabled=PEOPLE[n][-1].startswith("+")
            )
            for n in chosen
        ]
        with contextlib.suppress(services.InvalidTransition, services.ValidationFailed):
            services.customers_add(campaign=Campaign.objects.get(pk=campaign), by=self.owner, rows=rows)

    @rule(number=st.sampled_from(sorted(DNC_SPELLINGS)), data=st.data())
    def do_not_call(self, number, data):
        spelling = data.draw(st.sampled_from(DNC_SPELLINGS[number]))
        services.dnc_add(organization=self.org, by=self.owner, numbers=[(spelling, "")])

    @rule(campaign=campaigns, action=st.sampled_from(["start", "pause", "resume", "end", "delete"]))
    def lifecycle(self, campaign, action):
        change = getattr(services, f"campaign_{action}")
        with contextlib.suppress(services.InvalidTransition):
            change(campaign=Campaign.objects.get(pk=campaign), by=self.owner)

    @rule(
        campaign=campaigns,
        attempts=st.integers(1, 3),
        start=st.sampled_from([None, time(9, 0), time(10, 30)]),
    )
    def edit_strategy(self, campaign, attempts, start):
        strategy = {"max_attempts": attempts, "recipient_earliest": start}
        with contextlib.suppress(services.InvalidTransition, services.ValidationFailed):
            services.campaign_update(
                campaign=Campaign.objects.get(pk=campaign),
                by=self.owner,
                changes=services.CampaignChanges(fields={"strategy"}, strategy=strategy),
            )

    @rule(paused=st.booleans())
    def organization_stop(self, paused):
        change = services.organization_pause if paused else services.organization_resume
        with contextlib.suppress(services.InvalidTransition):
            change(organization=self.org, by=self.owner)

    # -- the dialer and the providers -------------------------------------------------------------

    @rule(minutes=st.sampled_from([1, 7, 45, 180, 600, 1440]))
    def clock_moves(self, minutes):
        """Time passes, and the dialer runs meanwhile."""
        self.now += timedelta(minutes=minutes)
        self.dial()

    @rule()
    def tick(self):
        dispatch.tick(enqueue=self.queued.extend)

    @rule()
    def dial(self):
        """Callbacks, a tick and its placement, back to back: what workers and beat do every second."""
        placement.deliver_simulated_events(now=self.now + timedelta(days=365))
        dispatch.tick(enqueue=self.queued.extend)
        batch, self.queued = self.queued, []
        placement.place_many(batch)
        self.check_what_left()

    @rule(size=st.integers(1, 6), stall=st.booleans())
    def place(self, size, stall):
        batch, self.queued = self.queued[:size], self.queued[size:]
        if stall:  # a worker takes them and dies before its gate; the reaper hands them back
            claims.take(batch)
            services.call_release_stalled(taken_before=self.now + timedelta(days=1))
            self.queued += batch
            return
        placement.place_many(batch)
        self.check_what_left()

    @rule(
        pick=st.integers(0, 999),
        status=st.sampled_from(["ringing", "in-progress", "ended"]),
        outcome=st.sampled_from(OUTCOMES),
        duplicate=st.booleans(),
        hostile=st.sampled_from([None, *HOSTILE]),
    )
    def webhook(self, pick, status, outcome, duplicate, hostile):
        # Every draw is made up front, whatever the database holds (hypothesis replays the draws, and
        # the rows differ between runs): the call is an index into the calls there are.
        calls = list(Call.objects.filter(organization=self.org, confirmed_at__isnull=False).order_by("pk"))
        if not calls:
            return
        call = calls[pick % len(calls)]
        when = hostile or self.now
        event = CallEvent(
            kind="status-update",
            status=status,
            call_id=str(call.pk),
            ended_reason=outcome if status == "ended" else "",
            at=when,
            started_at=when,
        )
        for _ in range(2 if duplicate else 1):
            services.record_call_event(account=call.provider_account, event=event)

    @rule()
    def simulated_callbacks(self):
        placement.deliver_simulated_events(now=self.now + timedelta(days=365))

    @rule()
    def reaper(self):
        placement.reap_stale_calls()

    # -- what must always hold --------------------------------------------------------------------

    def check_what_left(self) -> None:
        """Every call confirmed at the gate in this step was allowed at this instant."""
        new = Call.objects.filter(organization=self.org, confirmed_at__isnull=False).exclude(
            pk__in=self.seen_confirmed
        )
        dnc = set(self.org.do_not_call.values_list("number", flat=True))
        self.org.refresh_from_db()
        for call in new.select_related("campaign", "customer"):
            self.seen_confirmed.add(call.pk)
            FIGURES["calls"] += 1
            campaign, customer = call.campaign, call.customer
            assert campaign.status == "in-progress", "a call left a campaign that is not running"
            assert self.org.dialing_paused_at is None, "a call left while the organization was stopped"
            assert customer.number not in dnc, "a call left for a number on the do-not-call list"
            assert call.attempt <= campaign.max_attempts, "a call left beyond the attempt budget"
            canonical = phone.canonical_or_none(customer.number)
            assert canonical == customer.number, "a customer's number is not in canonical form"
            zones = phone.time_zones_for(customer.number)
            assert zones, "a call left for a number with no known zone"
            start = max(
                campaign.recipient_earliest or self.org.recipient_earliest, self.org.recipient_earliest
            )
            end = min(campaign.recipient_latest or self.org.recipient_latest, self.org.recipient_latest)
            for zone in zones:
                assert is_open(every_day(start, end), zone, self.now), f"a call left outside {zone}'s window"
            FIGURES["checks"] += 8

    @invariant()
    def one_live_call_per_customer(self):
        FIGURES["steps"] += 1
        live = (
            Call.objects.filter(organization=self.org)
            .exclude(status="ended")
            .values("customer")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        assert not live.exists()
        FIGURES["checks"] += 1

    @invariant()
    def counters_equal_a_recount(self):
        for campaign in Campaign.objects.filter(organization=self.org):
            by_status = dict(
                Call.objects.filter(campaign=campaign).values_list("status").annotate(n=Count("id"))
            )
            assert campaign.calls_queued == by_status.get("queued", 0)
            assert campaign.calls_in_progress == sum(by_status.get(s, 0) for s in ("ringing", "in-progress"))
            assert campaign.calls_ended == by_status.get("ended", 0)
            assert campaign.customers_total == campaign.customers.count()
            assert campaign.customers_final == campaign.customers.filter(state__in=FINAL).count()
            buckets = Counter(
                contacts.bucket(state, reason)
                for state, reason in campaign.customers.values_list("state", "reason")
            )
            for field in contacts.BUCKETS:
                assert getattr(campaign, field) == buckets[field], field
            assert campaign.customers_dialed == campaign.customers.filter(dialed_at__isnull=False).count()
            assert (
                campaign.customers_connected == campaign.customers.filter(connected_at__isnull=False).count()
            )
            spent = Call.objects.filter(campaign=campaign).aggregate(
                cost=Sum("cost"), seconds=Sum("duration_seconds")
            )
            assert campaign.calls_cost == (spent["cost"] or 0)
            assert abs(campaign.calls_duration_seconds - (spent["seconds"] or 0)) < 1e-6
            FIGURES["checks"] += 7 + len(contacts.BUCKETS)

    @invariant()
    def nothing_waits_in_an_ended_campaign(self):
        ended = Campaign.objects.filter(organization=self.org, status="ended")
        assert not Customer.objects.filter(campaign__in=ended, state="pending").exists()
        assert not Call.objects.filter(
            campaign__in=ended, status="queued", confirmed_at__isnull=True
        ).exists()
        FIGURES["checks"] += 2

    @initialize()
    def an_admin(self):
        self.owner = None


ComplianceMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_no_call_ever_breaks_a_rule(transactional_db) -> None:
    run = ComplianceMachine.TestCase("runTest")
    run.runTest()
    print(
        f"\ncompliance machine: {FIGURES['runs']} runs, {FIGURES['steps']} steps, "
        f"{FIGURES['calls']} calls placed through the gate, {FIGURES['checks']} invariant checks"
    )
    assert FIGURES["calls"] > 0  # the machine really dialed
