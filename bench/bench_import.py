"""Import N customers from a CSV into a campaign, against a raw COPY of the same rows.

Ours: campaigns.importers.parse_customers_csv -> services.customers_add (E.164 validation,
de-duplication, do-not-call filtering, time-zone lookup, one transaction).
Baseline: psycopg COPY of the same rows into a bare table with the same indexes.
Peak RSS of the import is measured in a child process of its own. Runs in a database of its own
(`dialdeck_bench_import` unless DATABASE_URL is set), so the customer table holds only its rows.

    python bench/bench_import.py --rows 1000000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from uuid_utils.compat import uuid7

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DEFAULT_DATABASE_URL, fail, raw_dsn, report, setup_django  # noqa: E402

AREA_CODES = ["212", "312", "415", "303", "305", "206", "617", "702", "808", "907", "214", "404"]


def write_csv(path: Path, rows: int, seed: int = 1) -> None:
    """`rows` customers with ~0.5% duplicates, a sprinkle of extra columns (variableValues)."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["number", "name", "email", "externalId", "plan"])
        for i in range(rows):
            n = i if rng.random() > 0.005 else max(0, i - 1)
            area = AREA_CODES[n % len(AREA_CODES)]
            writer.writerow(
                [
                    f"+1{area}{2000000 + n // len(AREA_CODES):07d}",
                    f"Customer {n}",
                    f"c{n}@example.com",
                    f"crm-{n}",
                    "gold" if n % 3 else "silver",
                ]
            )


def same_indexes(conn) -> list[str]:
    """CREATE INDEX statements for bench_raw_customer: the customer table's own, unnamed."""
    rows = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'campaigns_customer'"
        " AND indexname <> 'campaigns_customer_pkey'"
    ).fetchall()
    found = []
    for (definition,) in rows:
        head, _, tail = definition.partition(" ON public.campaigns_customer ")
        found.append(" ".join(head.split()[:-1]) + " ON bench_raw_customer " + tail)
    if not found:
        fail("the customer table has no index to copy: is the database migrated?")
    return found


def baseline(path: Path) -> float:
    """Raw COPY of the same rows into a bare table with the customer table's indexes. Rows/s."""
    import psycopg

    with psycopg.connect(raw_dsn(), autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_customer")
        conn.execute("CREATE TABLE bench_raw_customer (LIKE campaigns_customer INCLUDING DEFAULTS)")
        conn.execute("ALTER TABLE bench_raw_customer ADD PRIMARY KEY (id)")
        # Every index of the real table, read from the catalogue (so the baseline never falls
        # behind the schema: three sort indexes added later once halved the ratio unseen).
        for sql in same_indexes(conn):
            conn.execute(sql)
        campaign, now, seen = uuid.uuid4(), "2026-01-01T00:00:00Z", set()
        start = time.perf_counter()
        with (
            conn.transaction(),
            conn.cursor() as cur,
            cur.copy(
                "COPY bench_raw_customer (id, campaign_id, position, sort_key, number, number_submitted,"
                " number_e164_check_enabled, sip_uri, extension, name, email, external_id, time_zones,"
                " state, attempts, next_attempt_at, last_outcome, reason, reason_detail, updated_at,"
                " time_zone, region, postal_code) FROM STDIN"
            ) as copy,
            path.open(newline="") as handle,
        ):
            reader = csv.reader(handle)
            next(reader)
            for position, (number, name, email, external, _plan) in enumerate(reader):
                if number in seen:  # the raw table has the same unique index
                    continue
                seen.add(number)
                copy.write_row(
                    (
                        uuid7(),  # ids of the kind the import gives (models.customer.customer_id)
                        campaign,
                        position,
                        position,
                        number,
                        "",
                        True,
                        "",
                        "",
                        name,
                        email,
                        external,
                        "",
                        "pending",
                        0,
                        now,
                        "",
                        "",
                        "",
                        now,
                        "",
                        "",
                        "",
                    )
                )
        elapsed = time.perf_counter() - start
        count = conn.execute("SELECT count(*) FROM bench_raw_customer").fetchone()[0]
        conn.execute("DROP TABLE bench_raw_customer")
    return count / elapsed


def peak_rss_mb() -> float:
    """This process's own peak resident memory, MB: VmHWM, the high-water mark of the memory it
    has had since it was exec'd. Not getrusage's ru_maxrss: Linux hands a child started by
    vfork + exec (subprocess) its parent's peak as its own, so the import was reported with the
    baseline's 10M-number Python set in the parent (949 MB at 10M rows, 177-249 MB at 1M, while
    the import itself stayed under 90 MB)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def ours(path: Path) -> dict:
    """Run in a child process: the real import. Prints a JSON line with its figures."""
    setup_django()
    from django.db import connection

    from campaigns import services
    from campaigns.importers import parse_customers_csv
    from campaigns.models import Campaign, DoNotCall, Organization, PhoneNumber, ProviderAccount

    org, _ = Organization.objects.get_or_create(slug="bench-import", defaults={"name": "Bench import"})
    account, _ = ProviderAccount.objects.get_or_create(organization=org, name="sim", kind="simulated")
    caller, _ = PhoneNumber.objects.get_or_create(
        organization=org, number="+14155550100", deleted_at=None, defaults={"provider_account": account}
    )
    DoNotCall.objects.filter(organization=org).delete()
    DoNotCall.objects.bulk_create(  # 1,000 numbers of the file are on the do-not-call list
        [
            DoNotCall(
                organization=org,
                number=f"+1{AREA_CODES[i % 12]}{2000000 + i * 37 // 12:07d}",
                source="import",
            )
            for i in range(0, 37_000, 37)
        ],
        ignore_conflicts=True,
    )
    campaign = services.campaign_create(
        organization=org,
        by=None,
        data=services.CampaignInput(
            name=f"bench {uuid.uuid4().hex[:6]}",
            assistant_id="a",
            phone_number_id=str(caller.pk),
            customers=[services.CustomerInput(number="+14155550000", source="seed")],
        ),
    )
    # Earlier runs deleted their million rows: clear them, as autovacuum would on a live system,
    # so this run does not insert into indexes full of the last one's dead entries.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_customer")
    start = time.perf_counter()
    with path.open("rb") as handle:
        result = services.customers_add(campaign=campaign, by=None, rows=parse_customers_csv(handle))
    elapsed = time.perf_counter() - start
    peak_mb = peak_rss_mb()
    campaign.refresh_from_db()
    if campaign.customers_total != result.added + 1:
        fail(f"customers_total {campaign.customers_total} != {result.added + 1}")
    stored = campaign.customers.count()
    if stored != campaign.customers_total:
        fail(f"{stored} rows stored, counter says {campaign.customers_total}")
    with connection.cursor() as cursor:  # clean up without loading every row into Python
        # Statistics first: those of the VACUUM ANALYZE above say the campaign has one row, and
        # the planner then deleted its million through an index, for minutes (10 s with a scan).
        cursor.execute("ANALYZE campaigns_customer")
        cursor.execute("DELETE FROM campaigns_customer WHERE campaign_id = %s", [campaign.pk])
    Campaign.objects.filter(pk=campaign.pk).delete()
    return {
        "rows_per_s": (result.added + result.duplicates) / elapsed,
        "seconds": elapsed,
        "peak_mb": peak_mb,
        **result.as_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # A database of its own (unless DATABASE_URL names one): the customer table then holds this
    # run's rows only, like the baseline's bare table, not the reads benchmark's million.
    os.environ.setdefault("DATABASE_URL", f"{DEFAULT_DATABASE_URL}_import")
    if args.child:
        print(json.dumps(ours(Path(args.child))))
        return
    setup_django()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "customers.csv"
        write_csv(path, args.rows)
        raw = baseline(path)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(path)], capture_output=True, text=True
        )
        if child.returncode != 0:
            fail(child.stderr[-3000:])
        figures = json.loads(child.stdout.strip().splitlines()[-1])
    report(
        f"import {args.rows:,} customers from CSV",
        figures["rows_per_s"],
        "rows/s",
        raw,
        note=f"{figures['seconds']:.1f}s, added {figures['added']:,}, duplicates {figures['duplicates']:,}, "
        f"do-not-call {figures['do_not_call']:,}",
    )
    report(
        f"import {args.rows:,} customers: peak RSS", figures["peak_mb"], "MB", None, note="target < 300 MB"
    )
    if figures["peak_mb"] >= 300:
        fail(f"peak RSS {figures['peak_mb']:.0f} MB is not below 300 MB")


if __name__ == "__main__":
    main()
