"""The dialer's tick over many running campaigns: a pass when nothing is due, and who gets the lines.

1,000 running campaigns in 50 organizations (20 each), every customer waiting (a retry due
tomorrow): what one beat of the dialer costs when there is nothing to dial, measured over
repeated passes (p95), against the raw query that lists the running campaigns (the least a
pass can do), in the same run. Then fairness: one organization with 100 lines and 10 running
campaigns of equal priority, each with more due customers than lines: the calls one pass
queues per campaign, against an even share; and a campaign of higher priority takes its lines
first.

    python bench/bench_tick.py --campaigns 1000 --orgs 50 --passes 30
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fail, percentile, raw_dsn, report, setup_django  # noqa: E402

CUSTOMERS = 10  # per idle campaign: the pass must not look at them anyway


def idle_campaigns(campaigns: int, orgs: int) -> int:
    """`campaigns` running campaigns in `orgs` organizations, every customer waiting until tomorrow.

    Made once and kept (later runs reuse them); written in bulk, counters set as the services
    would have them, since making them is not what is measured.
    """
    import uuid
    from datetime import timedelta

    from django.db import connection

    from campaigns import clock
    from campaigns.models import Campaign, Customer, Organization, PhoneNumber, ProviderAccount

    now = clock.now()
    tomorrow = now + timedelta(days=1)
    per_org = campaigns // orgs
    for o in range(orgs):
        org, _ = Organization.objects.get_or_create(
            slug=f"bench-tick-{o}",
            defaults={
                "name": f"Bench tick {o}",
                "allow_ignoring_recipient_time": True,
                "max_concurrent_calls": 50,
            },
        )
        account, _ = ProviderAccount.objects.get_or_create(organization=org, name="sim", kind="simulated")
        caller, _ = PhoneNumber.objects.get_or_create(
            organization=org, number="+14155550100", deleted_at=None, defaults={"provider_account": account}
        )
        have = Campaign.objects.filter(organization=org, status="in-progress").count()
        made = Campaign.objects.bulk_create(
            [
                Campaign(
                    organization=org,
                    name=f"idle {c}",
                    assistant_id="a",
                    phone_number=caller,
                    status="in-progress",
                    started_at=now,
                    respect_recipient_time_zone=False,
                    customers_total=CUSTOMERS,
                    customers_pending=CUSTOMERS,
                )
                for c in range(have, per_org)
            ]
        )
        Customer.objects.bulk_create(
            [
                Customer(
                    id=uuid.uuid4(),
                    campaign=campaign,
                    position=i,
                    sort_key=i,
                    number=f"+1415{o:02d}{n:03d}{i:02d}",
                    next_attempt_at=tomorrow,
                    attempts=1,
                    reason="retry_delay",
                )
                for n, campaign in enumerate(made)
                for i in range(CUSTOMERS)
            ],
            batch_size=5000,
        )
    Customer.objects.filter(campaign__organization__slug__startswith="bench-tick-", state="pending").update(
        next_attempt_at=tomorrow
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_campaign, campaigns_customer, campaigns_call")
    return Campaign.objects.filter(organization__slug__startswith="bench-tick-", status="in-progress").count()


def idle_pass(passes: int) -> tuple[float, float]:
    """(p95 of a tick, p95 of the raw listing of running campaigns), milliseconds."""
    import psycopg

    from dialer import dispatch

    queued: list[str] = []
    ours = []
    for _ in range(passes):
        start = time.perf_counter()
        dispatch.tick(enqueue=queued.extend)
        ours.append((time.perf_counter() - start) * 1000)
    if queued:
        raise SystemExit(f"FAILED: an idle pass queued {len(queued)} calls")
    raw = []
    with psycopg.connect(raw_dsn(), autocommit=True) as conn:
        for _ in range(passes):
            start = time.perf_counter()
            conn.execute(
                "SELECT id FROM campaigns_campaign WHERE status = 'in-progress' AND deleted_at IS NULL"
            ).fetchall()
            raw.append((time.perf_counter() - start) * 1000)
    return percentile(ours, 95), percentile(raw, 95)


def fairness() -> tuple[dict[str, int], int]:
    """Calls one pass queues per campaign: 10 of equal priority and one of higher priority, sharing
    one organization's 100 lines. Returns (per campaign, lines)."""
    from campaigns import services
    from campaigns.models import Campaign, Organization, PhoneNumber, ProviderAccount
    from dialer import dispatch

    org, _ = Organization.objects.get_or_create(
        slug="bench-fair", defaults={"name": "Bench fairness", "allow_ignoring_recipient_time": True}
    )
    Organization.objects.filter(pk=org.pk).update(max_concurrent_calls=100)
    org.refresh_from_db()
    Campaign.objects.filter(organization=org).delete()
    account, _ = ProviderAccount.objects.get_or_create(organization=org, name="sim", kind="simulated")
    caller, _ = PhoneNumber.objects.get_or_create(
        organization=org, number="+14155550100", deleted_at=None, defaults={"provider_account": account}
    )
    names = [f"equal {i}" for i in range(10)] + ["urgent"]
    for n, name in enumerate(names):
        people = [services.CustomerInput(number=f"+1212{n:02d}{i:05d}", source=str(i)) for i in range(60)]
        strategy = {"respect_recipient_time_zone": False, "max_concurrent_calls": 60, "priority": 5}
        if name == "urgent":
            strategy["priority"] = 9
        campaign = services.campaign_create(
            organization=org,
            by=None,
            data=services.CampaignInput(
                name=name,
                assistant_id="a",
                phone_number_id=str(caller.pk),
                customers=people,
                strategy=strategy,
            ),
        )
        services.campaign_start(campaign=campaign, by=None)
    queued: list[str] = []
    dispatch.tick(enqueue=queued.extend)
    counts = {c.name: c.calls_queued for c in Campaign.objects.filter(organization=org)}
    Campaign.objects.filter(organization=org).delete()  # its queued calls must not outlive the run
    return counts, org.max_concurrent_calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--orgs", type=int, default=50)
    parser.add_argument("--passes", type=int, default=30)
    args = parser.parse_args()
    setup_django()
    from campaigns.models import Campaign

    Campaign.objects.filter(organization__slug="bench-fair").delete()  # a run that was interrupted
    running = idle_campaigns(args.campaigns, args.orgs)
    ours, raw = idle_pass(args.passes)
    report(
        f"dispatch pass over {running:,} running campaigns, nothing due",
        ours,
        "ms p95",
        baseline=raw,
        note=f"{args.passes} passes; baseline: listing the running campaigns; target p95 < 250 ms",
    )
    counts, lines = fairness()
    urgent = counts.pop("urgent")
    if urgent != min(60, lines):  # its cap (60) of the 100 lines, before any campaign of priority 5
        fail(f"the higher-priority campaign got {urgent} of {lines} lines, not its cap of 60 first")
    share = (lines - urgent) / len(counts)
    spread = max(abs(n - share) / share for n in counts.values()) if share else 0.0
    report(
        "fairness: largest gap from an even share of lines, 10 campaigns of equal priority",
        spread * 100,
        "%",
        note=f"per campaign {sorted(counts.values())} of {lines} lines; the higher-priority campaign "
        f"got {urgent} first; target < 10%",
    )


if __name__ == "__main__":
    main()
