"""Contact lists at scale: import N contacts from a CSV into a list, and start a campaign that
copies a segment holding all N of them, each against the campaign customer import of the same
file measured in the same run (bench_import's figure: the ratio is what the issue asks to keep).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dialdeck_bench_audiences \\
        python bench/bench_audiences.py --rows 1000000
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_import import AREA_CODES, write_csv  # noqa: E402
from bench.common import DEFAULT_DATABASE_URL, draft_campaign, fail, report, setup_django  # noqa: E402


def run(path: Path) -> dict[str, float]:
    from django.db import connection

    from campaigns import services
    from campaigns.importers import parse_customers_csv
    from campaigns.importers.contacts import parse_contacts_csv
    from campaigns.models import Campaign, ContactList, Organization

    org, _ = Organization.objects.get_or_create(slug="bench-audiences", defaults={"name": "Bench audiences"})

    def campaign() -> Campaign:
        return draft_campaign(org, f"bench {uuid.uuid4().hex[:6]}")

    def vacuum() -> None:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE campaigns_customer")
            cursor.execute("VACUUM ANALYZE campaigns_listcontact")

    # 1. The baseline: the campaign customer import of the same file.
    vacuum()
    target = campaign()
    start = time.perf_counter()
    with path.open("rb") as handle:
        imported = services.customers_add(campaign=target, by=None, rows=parse_customers_csv(handle))
    customers_s = time.perf_counter() - start
    # The snapshot below writes into the customer table as the baseline did: as empty of others.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_customer WHERE campaign_id = %s", [target.pk])

    # 2. The same file into a contact list ("plan" becomes an attribute).
    ContactList.objects.filter(organization=org).delete()
    vacuum()
    contact_list = services.contact_list_create(
        organization=org, by=None, name=f"bench {uuid.uuid4().hex[:6]}"
    )
    start = time.perf_counter()
    with path.open("rb") as handle:
        listed = services.contacts_import(contact_list=contact_list, by=None, rows=parse_contacts_csv(handle))
    contacts_s = time.perf_counter() - start

    # 3. A campaign started from a segment holding every contact of the list.
    segment = services.segment_create(
        contact_list=contact_list, by=None, name="all", filter="plan IN (gold, silver)"
    )
    copied = campaign()
    services.campaign_audiences_set(campaign=copied, by=None, list_ids=[], segment_ids=[str(segment.pk)])
    start = time.perf_counter()
    services.campaign_start(campaign=copied, by=None)
    snapshot_s = time.perf_counter() - start
    copied.refresh_from_db()
    if copied.customers_total != listed.added + 1:
        fail(f"the snapshot stored {copied.customers_total - 1} customers, the list has {listed.added}")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_customer WHERE campaign_id IN (%s, %s)", [target.pk, copied.pk])
    Campaign.objects.filter(pk__in=[target.pk, copied.pk]).delete()
    ContactList.objects.filter(pk=contact_list.pk).delete()
    rows = imported.added + imported.duplicates
    return {
        "customers_rows_per_s": rows / customers_s,
        "contacts_rows_per_s": (listed.added + listed.duplicates) / contacts_s,
        "snapshot_rows_per_s": listed.added / snapshot_s,
        "customers_s": customers_s,
        "contacts_s": contacts_s,
        "snapshot_s": snapshot_s,
        "contacts": listed.added,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"{DEFAULT_DATABASE_URL}_audiences")
    setup_django()
    assert AREA_CODES  # the same numbers as bench_import's file
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        write_csv(path, args.rows)
        figures = run(path)
    baseline = figures["customers_rows_per_s"]
    report(
        f"contact list import of {args.rows:,} contacts",
        figures["contacts_rows_per_s"],
        "rows/s",
        baseline,
        note=f"{figures['contacts_s']:.1f}s; baseline: the customer import of the same file, "
        f"{figures['customers_s']:.1f}s",
    )
    report(
        f"campaign start from a segment of {figures['contacts']:,} contacts",
        figures["snapshot_rows_per_s"],
        "rows/s",
        baseline,
        note=f"{figures['snapshot_s']:.1f}s for the start (the snapshot included)",
    )


if __name__ == "__main__":
    main()
