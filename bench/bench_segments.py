"""A segment of a big contact list, counted for the pre-flight: what the list page, the campaign
page's audiences (a scheduled campaign targeting the segment) and GET /segment/{id} show, against
the COUNT over the list that answered before the count was stored (Segment.contacts_total).

The list (--contacts, 1,000,000 by default; `make bench-large`: 10,000,000) is written straight
into the table with INSERT ... SELECT generate_series, attributes {"plan", "state"}, and kept in
the bench database for later runs of the same size (--rebuild forces a new one). The segments
are made through the service each run: that is when the list is counted, once (figure for
information). Checks: every stored count equals the COUNT of the contacts its filter holds.

    python bench/bench_segments.py --contacts 10000000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_reads import client_get, timed  # noqa: E402
from bench.common import (  # noqa: E402
    DEFAULT_DATABASE_URL,
    draft_campaign,
    fail,
    percentile,
    report,
    setup_django,
)

ORG_SLUG = "bench-segments"
CONTACTS_SQL = """
INSERT INTO campaigns_listcontact (id, contact_list_id, position, number, number_submitted, name,
    email, external_id, attributes, metadata, consent_source, consent_at, time_zone, time_zones,
    created_at, region, postal_code)
SELECT gen_random_uuid(), %(list)s, g, '+1' || (2122000000 + g)::text, '', 'Contact ' || g,
    'c' || g || '@example.com', 'crm-' || g,
    jsonb_build_object('plan', (ARRAY['gold', 'silver', 'bronze'])[g %% 3 + 1],
                       'state', (ARRAY['CA', 'NV', 'NY', 'TX', 'IL'])[g %% 5 + 1]),
    '{}'::jsonb, '', NULL, '', 'America/New_York', now(), '', ''
FROM generate_series(1, %(size)s) AS g
"""


def build(size: int, rebuild: bool):
    """The organization, its list of `size` contacts (kept), 1,000 numbers on its do-not-call
    list, a user and an API key."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from campaigns import services
    from campaigns.models import ApiKey, ContactList, DoNotCall, Membership, Organization

    org, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "Bench segments"})
    user, _ = get_user_model().objects.get_or_create(username="bench-segments")
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "manager"})
    ApiKey.objects.filter(organization=org).delete()
    raw, prefix, hashed = ApiKey.generate()
    ApiKey.objects.create(organization=org, name="bench", prefix=prefix, hashed_key=hashed)
    DoNotCall.objects.bulk_create(
        [
            DoNotCall(organization=org, number=f"+1{2122000000 + g}", source="import")
            for g in range(1, size, max(1, size // 1000))
        ],
        ignore_conflicts=True,
    )
    name = f"bench segments {size:,}"
    kept = ContactList.objects.filter(organization=org, name=name, contacts_total=size).first()
    if kept and not rebuild:
        print(f"reused the {size:,}-contact list", flush=True)
        return org, user, raw, kept
    for old in ContactList.objects.filter(organization=org):
        with connection.cursor() as cursor:  # the ORM's cascade would load every contact
            cursor.execute("DELETE FROM campaigns_listcontact WHERE contact_list_id = %s", [old.pk])
        services.contact_list_delete(contact_list=old, by=None)
    contact_list = services.contact_list_create(organization=org, by=None, name=name)
    print(f"building the {size:,}-contact list (kept for later runs)", flush=True)
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(CONTACTS_SQL, {"list": contact_list.pk, "size": size})
        cursor.execute(
            "UPDATE campaigns_contactlist SET contacts_total = %s WHERE id = %s", [size, contact_list.pk]
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE campaigns_listcontact")
    print(f"  built in {time.perf_counter() - start:.1f}s", flush=True)
    contact_list.refresh_from_db()
    return org, user, raw, contact_list


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the list (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per figure (default 100)")
    parser.add_argument("--rebuild", action="store_true", help="build the list again even if it is there")
    args = parser.parse_args()
    os.environ.setdefault("DATABASE_URL", f"{DEFAULT_DATABASE_URL}_segments")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    setup_django()
    from django.test import Client
    from django.urls import reverse

    from campaigns import selectors, services
    from campaigns.models import Campaign, Segment
    from campaigns.rules import segments

    org, user, key, contact_list = build(args.contacts, args.rebuild)
    size = f"{args.contacts:,}"
    Segment.objects.filter(contact_list=contact_list).delete()
    made, counted = [], []
    for name, text in (("Gold", "plan = gold"), ("West", "plan IN (gold, silver) AND state IN (CA, NV)")):
        start = time.perf_counter()
        made.append(services.segment_create(contact_list=contact_list, by=None, name=name, filter=text))
        counted.append((time.perf_counter() - start) * 1000)
    gold, west = made

    # The baseline: the COUNT over the list that answered each of these before (three runs).
    def count_over_the_list() -> int:
        node = segments.parse(west.filter)
        return selectors.list_contacts(contact_list).filter(selectors.segment_q(node)).count()

    recounts = []
    for _ in range(3):
        start = time.perf_counter()
        recounted = count_over_the_list()
        recounts.append((time.perf_counter() - start) * 1000)
    if recounted != west.contacts_total:
        fail(f"the segment stores {west.contacts_total:,} contacts, the COUNT finds {recounted:,}")
    gold_held = selectors.list_contacts(contact_list).filter(selectors.segment_q(segments.parse(gold.filter)))
    if gold_held.count() != gold.contacts_total or gold.contacts_total != args.contacts // 3:
        fail(f"the Gold segment stores {gold.contacts_total:,} contacts, not a third of {size}")

    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {key}")
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(user)

    def counts(response) -> None:
        if response.json().get("contacts") != west.contacts_total:
            fail(f"GET /segment/{{id}} said {response.json().get('contacts')}, not {west.contacts_total:,}")

    one = timed(client_get(api, f"/segment/{west.pk}", check=counts), args.requests)
    baseline = sorted(recounts)[1]
    report(
        f"segment of a {size}-contact list counted (GET /segment/{{id}})",
        percentile(one, 95),
        "ms p95",
        baseline,
        note=f"baseline: the COUNT over the list it ran before, median of 3; segment creation "
        f"(counts once) {max(counted):,.0f} ms; {west.contacts_total:,} contacts; target < 1 s",
    )
    if percentile(one, 95) >= 1000:
        fail("the segment count is not below 1 s")

    # The pre-flight: a scheduled campaign targeting the segment (its page lists what it will copy).
    Campaign.objects.filter(organization=org).delete()
    campaign = draft_campaign(org, "bench segments")
    services.campaign_audiences_set(campaign=campaign, by=None, list_ids=[], segment_ids=[str(west.pk)])

    def shows(response) -> None:
        if f"{west.contacts_total:,} contacts" not in response.content.decode():
            fail(f"the campaign page does not show the segment's {west.contacts_total:,} contacts")

    campaign_page = client_get(page, reverse("campaigns:detail", args=[campaign.pk]), check=shows)
    detail = timed(campaign_page, args.requests)
    report(
        f"campaign page targeting a segment of a {size}-contact list",
        percentile(detail, 95),
        "ms p95",
        note=f"median {percentile(detail, 50):.1f} ms; for information: the page shows the stored count",
    )
    listed = timed(client_get(page, reverse("campaigns:audience", args=[contact_list.pk])), args.requests)
    report(
        f"contact list page of {size} contacts, its segments counted",
        percentile(listed, 95),
        "ms p95",
        note=f"median {percentile(listed, 50):.1f} ms; for information: the counts are stored",
    )


if __name__ == "__main__":
    main()
