"""The chaos run's verdict: the invariants checked once the campaign has ended and the provider is quiet.

Each check adds figures to `figures` and, when an invariant is broken, a line to `violations`
with enough detail (ids, counts, a few examples) to start reproducing it.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, F, Q

from bench.chaos_fake import ChaosVapi, max_overlap, people_rung_twice_at_once, provider_intervals
from bench.chaos_providers import ChaosRest
from bench.chaos_watch import Watcher
from campaigns.models import Call, CallLog, Campaign, Customer
from dialer.placement import REAPED_REASON
from dialer.providers.rest import NOT_FOUND
from tests.fakes.dialdeck_side import FINAL_STATES, counters, recount

EXAMPLES = 5
Fake = ChaosVapi | ChaosRest


class Verdict:
    def __init__(self) -> None:
        self.figures: dict = {}
        self.violations: list[str] = []
        self.findings: list[str] = []  # worth a look, but no invariant of the run is broken

    def finding(self, what: str, examples: list | None = None) -> None:
        self.findings.append(what + (f" e.g. {examples[:EXAMPLES]}" if examples else ""))

    def broken(self, what: str, examples: list | None = None) -> None:
        self.violations.append(what + (f" e.g. {examples[:EXAMPLES]}" if examples else ""))


def judge(campaign: Campaign, fake: Fake, watcher: Watcher, *, cap: int) -> Verdict:
    """Every check, on the rows once the campaign has ended and on what the watcher sampled."""
    v = Verdict()
    check_customers(v, campaign)
    check_live_calls(v, campaign, watcher.two_live)
    check_provider(v, campaign, fake, cap)
    check_reaper(v, campaign, fake)
    check_counters(v, campaign, watcher.drift, watcher.drift_checks)
    check_webhooks(v, campaign, fake)
    if watcher.max_live_org > cap or watcher.max_live_campaign > cap:
        v.broken(f"live calls sampled above the cap {cap}: {watcher.max_live_org} in the organization")
    if watcher.errors:
        v.broken(f"{len(watcher.errors)} watcher samples failed", watcher.errors)
    return v


def check_customers(v: Verdict, campaign: Campaign) -> None:
    """Every customer final; attempts within max_attempts and equal to the calls made for them."""
    campaign.refresh_from_db()
    states = dict(campaign.customers.values_list("state").annotate(n=Count("id")))
    v.figures["customers_by_state"] = states
    v.figures["campaign"] = {"status": campaign.status, "ended_reason": campaign.ended_reason}
    if campaign.status != "ended" or campaign.ended_reason != "campaign.ended.success":
        v.broken(f"campaign is {campaign.status!r} ({campaign.ended_reason!r}), not ended with success")
    open_ = list(campaign.customers.exclude(state__in=FINAL_STATES).values_list("id", "state")[:EXAMPLES])
    if open_:
        v.broken(f"{sum(n for s, n in states.items() if s not in FINAL_STATES)} customers not final", open_)
    cap = campaign.max_attempts
    over = campaign.customers.filter(attempts__gt=cap).count()
    calls_over = Call.objects.filter(campaign=campaign, attempt__gt=cap).count()
    per = Customer.objects.filter(campaign=campaign).annotate(n=Count("calls"))
    too_many = per.filter(n__gt=cap).count()
    mismatched = list(per.exclude(n=F("attempts")).values_list("id", "attempts", "n")[:EXAMPLES])
    v.figures["attempts"] = {"max_attempts": cap, "customers_over": over, "calls_over": calls_over}
    if over or calls_over or too_many:
        v.broken(
            f"attempts beyond max_attempts={cap}: {over} customers, {calls_over} calls, {too_many} >cap calls"
        )
    if mismatched:
        v.broken(
            "customer.attempts differs from the calls recorded for them (id, attempts, calls)", mismatched
        )


def check_live_calls(v: Verdict, campaign: Campaign, two_live: list[dict]) -> None:
    """No live call left; no customer ever seen in two live calls; the database enforces it too."""
    live = Call.objects.filter(campaign=campaign).exclude(status="ended").count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'call_one_live_per_customer'")
        constraint = cursor.fetchone() is not None
    v.figures["duplicates_found"] = len(two_live)
    v.figures["live_calls_left"] = live
    if live:
        v.broken(f"{live} calls still live after the campaign ended")
    if two_live:
        v.broken(f"{len(two_live)} samples saw a customer in two live calls", two_live)
    if not constraint:
        v.broken("the partial unique index call_one_live_per_customer is missing")


def check_provider(v: Verdict, campaign: Campaign, fake: Fake, cap: int) -> None:
    """Each call placed once; every ended provider call reflected with the endedReason its final
    record means (Vapi's own; another provider's mapped by campaigns.rules.provider_outcomes); the
    cap held."""
    calls = {str(c.pk): c for c in Call.objects.filter(campaign=campaign)}
    placed = fake.placed_counts()
    twice = [(k, n) for k, n in placed.items() if n > 1]
    anonymous, unknown = placed.get(None, 0), [k for k in placed if k and k not in calls]
    v.figures["placed_at_provider"] = sum(placed.values())
    if twice:
        v.broken(f"{len(twice)} of our call ids placed at the provider more than once", twice)
    if anonymous or unknown:
        v.broken(
            f"provider calls without our id ({anonymous}) or naming no call of ours ({len(unknown)})", unknown
        )
    # A call the provider never had may end with the provider's own refusal, or as an attempt when
    # its worker died in mid-request (the outcome is unknown to us). One we know never left (no
    # request sent, or each refused) closed by the reaper spent a customer's attempt on nothing.
    reaped = (
        Call.objects.filter(campaign=campaign, ended_reason=REAPED_REASON)
        .annotate(
            sent=Count("log", filter=Q(log__kind="request")),
            refused=Count("log", filter=Q(log__kind="response", log__http_status__gte=400)),
        )
        .values_list("pk", "sent", "refused")
    )
    unplaced = [(str(pk), sent, refused) for pk, sent, refused in reaped if not placed.get(str(pk))]
    spent = [pk for pk, sent, refused in unplaced if sent <= refused]
    v.figures["reaped_outcome_unknown"] = len(unplaced) - len(spent)
    if spent:
        v.broken(
            f"{len(spent)} calls that never left us were closed by the reaper as attempts "
            "(a customer's attempt spent without a call)",
            spent,
        )
    provider_calls = fake.provider_view()
    with fake._lock:
        heard = {d.provider_call_id for d in fake.webhooks if str(d.answer).isdigit() and int(d.answer) < 300}
    lost, unreachable, wrong_id, still_live = [], [], [], []
    for pcall in provider_calls:
        ours = calls.get(pcall["ours"])
        if ours is None:
            continue
        if not pcall["ended"]:
            still_live.append(pcall["id"])
        elif ours.status != "ended" or ours.ended_reason not in pcall["accepted"]:
            row = (str(ours.pk), ours.status, ours.ended_reason, pcall["ended_reason"])
            # A double fault: the worker died between the provider's answer and storing its id, and
            # every webhook of the call was lost, so nothing told us the provider's id to ask about.
            alone = not ours.provider_call_id and pcall["id"] not in heard
            (unreachable if alone else lost).append(row)
        if ours.provider_call_id and ours.provider_call_id != pcall["id"]:
            wrong_id.append((str(ours.pk), ours.provider_call_id, pcall["id"]))
    if still_live:
        v.broken(f"{len(still_live)} calls still live at the provider after the run", still_live)
    v.figures["outcomes_unreachable"] = len(unreachable)
    if unreachable:
        v.finding(
            f"{len(unreachable)} provider outcomes could not reach us: the worker died before storing "
            "the provider's id and every webhook of the call was lost (call, ours, provider's)",
            unreachable,
        )
    if lost:
        v.broken(f"{len(lost)} provider outcomes not reflected (call, our status, ours, provider's)", lost)
    if wrong_id:
        v.broken(f"{len(wrong_id)} calls store another provider id than the one placed", wrong_id)
    intervals = provider_intervals(provider_calls)
    v.figures["max_concurrency_at_provider"] = max_overlap(intervals)
    if v.figures["max_concurrency_at_provider"] > cap:
        v.broken(f"the provider had {v.figures['max_concurrency_at_provider']} calls at once (cap {cap})")
    rung = people_rung_twice_at_once(intervals)
    if rung:
        v.broken(f"{len(rung)} people rung by two calls at the same time", rung)


def check_reaper(v: Verdict, campaign: Campaign, fake: Fake) -> None:
    """What the reaper had to do: reconcile through GET /call, or close calls the provider never saw."""
    calls = Call.objects.filter(campaign=campaign)
    polled = calls.filter(log__kind="poll").distinct()
    never_sent = calls.filter(ended_reason=REAPED_REASON).exclude(log__kind="request")
    silenced = Call.objects.filter(provider_call_id__in=list(fake.silenced))
    v.figures["reaper"] = {
        "calls_polled": polled.count(),
        "reconciled_from_provider": polled.exclude(ended_reason__in=(REAPED_REASON, NOT_FOUND)).count(),
        "closed_without_outcome": calls.filter(ended_reason=REAPED_REASON).count(),
        "closed_never_sent_to_provider": never_sent.count(),
        "closed_not_found": calls.filter(ended_reason=NOT_FOUND).count(),
        "silenced_calls_reconciled": silenced.filter(log__kind="poll").distinct().count(),
    }
    wasted = (
        Customer.objects.filter(campaign=campaign, state="failed")
        .annotate(real=Count("calls", filter=Q(calls__log__kind="request"), distinct=True))
        .filter(real__lt=F("attempts"))
        .count()
    )
    v.figures["reaper"]["failed_customers_with_attempts_never_sent"] = wasted


def check_counters(v: Verdict, campaign: Campaign, drift: list[dict], drift_checks: int) -> None:
    final_counters, final_recount = counters(campaign), recount(campaign)
    v.figures["counters"] = final_counters
    v.figures["drift"] = {"snapshots_checked": drift_checks, "snapshots_drifting": len(drift)}
    if final_counters != final_recount:
        v.broken(f"counters {final_counters} differ from the recount {final_recount}")
    if drift:
        v.broken(f"{len(drift)} snapshots where counters differed from a recount", drift)


def check_webhooks(v: Verdict, campaign: Campaign, fake: Fake) -> None:
    answers = fake.delivery_answers()
    with fake._lock:
        gave_up = list(fake.gave_up)
    refused = {a: n for a, n in answers.items() if a.isdigit() and not 200 <= int(a) < 300}
    v.figures["webhooks"] = {
        "posts_answered_2xx": sum(n for a, n in answers.items() if a.isdigit() and 200 <= int(a) < 300),
        "posts_refused": refused,
        "connection_failures": {a: n for a, n in answers.items() if not a.isdigit()},
        "deliveries_retried": fake.retries,
        "deliveries_given_up": len(gave_up),
        "messages_dropped": len(fake.dropped),
        "calls_silenced": len(fake.silenced),
        "events_recorded": CallLog.objects.filter(call__campaign=campaign, kind="webhook").count(),
    }
    if refused:
        v.broken(f"our webhook answered non-2xx to valid provider events: {refused}")
    if gave_up:
        v.broken(f"{len(gave_up)} deliveries could not connect for {fake.retry_window:.0f}s", gave_up)


def outcomes(campaign: Campaign) -> dict[str, int]:
    rows = Call.objects.filter(campaign=campaign).values_list("ended_reason").annotate(n=Count("id"))
    return dict(sorted(rows, key=lambda r: -r[1]))
