"""Reads at scale: the live counters at a million calls, the API document, the dashboard's lists.

Server time of each request, timed around Django's test Client in this process (the whole
middleware stack, the view, the template or serializer, the queries; no socket), set up as a web
worker is (config/gunicorn.conf.py's post_worker_init), p95 over --requests requests after a warm-up:
- counters fragment (HX-Request) of a campaign with 1,000,000 customers and 1,000,000 calls:
  target p95 < 10 ms; and GET /campaign/{id} of it, which lists the first 10,000 customers and the
  latest 10,000 calls (Vapi's limit, `truncated` says so): p95 < 150 ms, as the whole document of
  a 10,000-customer campaign; baseline: reading the campaign's 5 counter columns by primary
  key with raw psycopg. Fails if either request runs a COUNT over campaigns_call or campaigns_customer;
- GET /campaign/{id} of a campaign with 10,000 customers and 10,000 calls (the whole document):
  p95 < 150 ms;
- the campaign list page of an organization with 1,000 campaigns, and page 500 of the customers
  page of the 1M campaign, and that page searched for a part of a name (one customer has it, then
  nobody): p95 < 100 ms; the organization overview, one customer's page, the
  wallboard and what-the-dialer-is-doing fragments of the 1M campaign: p95 < 100 ms. Also, for
  information, page 500 of the API's
  GET /campaign/{id}/customers on the same campaign.

The data is written straight into the tables with INSERT ... SELECT generate_series (satisfying
every constraint of the models; foreign-key triggers off during the load), counters set to match,
then VACUUM ANALYZE. It is kept in the bench database and reused by later runs of the same size
(--rebuild forces a new one).

    python bench/bench_reads.py --customers 1000000 --medium 10000 --campaigns 1000 --requests 200
"""

from __future__ import annotations

import argparse
import os
import re
import runpy
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fail, percentile, raw_dsn, report, setup_django  # noqa: E402

ORG_SLUG = "bench-reads"
PAGE_SIZE = 25  # the dashboard's customers page
CUSTOMERS_PAGE = 500
# Customers' ids are time-ordered, as the import writes them (models.customer.customer_id, a
# UUIDv7): 16 to a millisecond, in the order of their position. Calls' ids are random, as the
# model's default.
# Call outcome by position % 100: 2% queued, 3% in progress, 5% voicemail, 90% answered.
CUSTOMERS_SQL = """
INSERT INTO campaigns_customer (id, campaign_id, dial_plan_entry_id, position, sort_key, number,
    number_submitted, number_e164_check_enabled, sip_uri, extension, name, email, external_id,
    assistant_overrides, time_zones, time_zone, region, postal_code,
    state, attempts, next_attempt_at, last_outcome, reason, reason_detail, updated_at)
SELECT (lpad(to_hex(floor(extract(epoch FROM now()) * 1000)::bigint - %(size)s / 16 + g / 16), 12, '0')
        || '7' || to_hex(g %% 16) || substr(md5(g::text), 1, 2) || '8' || substr(md5(g::text), 3, 15))::uuid,
    %(campaign)s, NULL, g, g, '+1' || (2122000000 + g)::text, '', true, '', '',
    'Customer ' || g, 'c' || g || '@example.com', 'crm-' || g, NULL, 'America/New_York', '', '', '',
    CASE WHEN g %% 100 < 2 THEN 'queued' WHEN g %% 100 < 5 THEN 'dialing'
         WHEN g %% 100 < 10 THEN 'voicemail' ELSE 'completed' END,
    1, now(),
    CASE WHEN g %% 100 < 5 THEN '' WHEN g %% 100 < 10 THEN 'voicemail' ELSE 'customer-ended-call' END,
    '', '', now()
FROM generate_series(0, %(size)s - 1) AS g
"""
CALLS_SQL = """
INSERT INTO campaigns_call (id, organization_id, campaign_id, customer_id, phone_number_id,
    provider_account_id, attempt, status, ended_reason, provider_call_id, created_at, placing_at, placed_at,
    started_at, ended_at, duration_seconds, cost, summary, transcript, recording_url, stereo_recording_url,
    analysis, report_received, cost_unit)
SELECT gen_random_uuid(), %(org)s, c.campaign_id, c.id, %(phone)s, %(account)s, 1,
    CASE c.state WHEN 'queued' THEN 'queued' WHEN 'dialing' THEN 'in-progress' ELSE 'ended' END,
    CASE WHEN c.state IN ('queued', 'dialing') THEN '' ELSE c.last_outcome END,
    'p-' || c.id::text,
    t.at, t.at, t.at, t.at + interval '3 s',
    CASE WHEN c.state IN ('queued', 'dialing') THEN NULL ELSE t.at + interval '40 s' END,
    CASE WHEN c.state IN ('queued', 'dialing') THEN NULL ELSE 37.0 END,
    CASE WHEN c.state IN ('queued', 'dialing') THEN NULL ELSE 0.12 END,
    CASE WHEN c.state = 'completed' THEN 'The customer confirmed the appointment.' ELSE '' END,
    '', '', '', NULL, c.state IN ('completed', 'voicemail'),
    CASE WHEN c.state IN ('queued', 'dialing') THEN '' ELSE 'USD' END
FROM campaigns_customer c, LATERAL (SELECT now() - (%(size)s - c.position) * interval '10 ms' AS at) t
WHERE c.campaign_id = %(campaign)s
"""
COUNTERS_SQL = """
WITH calls AS (
    SELECT count(*) FILTER (WHERE status = 'queued') AS queued,
           count(*) FILTER (WHERE status IN ('ringing', 'in-progress', 'forwarding')) AS in_progress,
           count(*) FILTER (WHERE status = 'ended') AS ended,
           count(*) FILTER (WHERE status = 'ended' AND ended_reason = 'voicemail') AS voicemail
    FROM campaigns_call WHERE campaign_id = %(campaign)s
), customers AS (
    SELECT count(*) AS final FROM campaigns_customer
    WHERE campaign_id = %(campaign)s AND state IN ('completed', 'voicemail', 'failed', 'skipped', 'cancelled')
)
UPDATE campaigns_campaign SET calls_queued = calls.queued, calls_in_progress = calls.in_progress,
    calls_ended = calls.ended, calls_ended_voicemail = calls.voicemail,
    customers_total = %(size)s, customers_final = customers.final
FROM calls, customers WHERE id = %(campaign)s
"""
COUNT_OVER_BIG_TABLES = re.compile(r"count\(.*\bfrom \"?campaigns_(call|customer)\"?\b", re.I | re.S)


# -- the data -------------------------------------------------------------------------------------


def _org():
    from django.contrib.auth import get_user_model

    from campaigns.models import ApiKey, Membership, Organization, PhoneNumber, ProviderAccount

    org, _ = Organization.objects.get_or_create(slug=ORG_SLUG, defaults={"name": "Bench reads"})
    user, _ = get_user_model().objects.get_or_create(username="bench-reads")
    Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "manager"})
    account, _ = ProviderAccount.objects.get_or_create(organization=org, name="sim", kind="simulated")
    phone, _ = PhoneNumber.objects.get_or_create(
        organization=org, number="+14155550100", deleted_at=None, defaults={"provider_account": account}
    )
    ApiKey.objects.filter(organization=org).delete()
    raw, prefix, hashed = ApiKey.generate()
    ApiKey.objects.create(organization=org, name="bench", prefix=prefix, hashed_key=hashed)
    return org, user, account, phone, raw


def _campaign(org, phone, name: str, **fields):
    from campaigns.models import Campaign

    return Campaign.objects.create(
        organization=org, name=name, assistant_id="bench-assistant", phone_number=phone, **fields
    )


def _drop_campaigns(org) -> None:
    from campaigns.models import Campaign

    _drop_campaigns_in(Campaign.objects.filter(organization=org))


def _drop_campaigns_in(campaigns) -> None:
    """Calls and customers go by SQL first: the ORM's cascade would load a million rows. Foreign-key
    triggers are off meanwhile; what references these rows (call logs, calls) goes first."""
    from django.db import connection, transaction

    from campaigns.models import Campaign

    ids = list(campaigns.values_list("pk", flat=True))
    if ids:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "DELETE FROM campaigns_calllog WHERE call_id IN "
                "(SELECT id FROM campaigns_call WHERE campaign_id = ANY(%s))",
                [ids],
            )
            cursor.execute("DELETE FROM campaigns_call WHERE campaign_id = ANY(%s)", [ids])
            cursor.execute("DELETE FROM campaigns_customer WHERE campaign_id = ANY(%s)", [ids])
        Campaign.objects.filter(pk__in=ids).delete()


# Indexes that back no constraint: dropped for a big load and built again after it, in the same
# transaction (a sort per index instead of a million random inserts into each; a failure rolls back).
DROPPABLE_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS (
    SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x'))
"""


def _fill(campaign, size: int, org, account, phone) -> None:
    """`size` customers, each with one call, and counters that match them."""
    from django.db import connection, transaction

    params = {"campaign": campaign.pk, "size": size, "org": org.pk, "account": account.pk, "phone": phone.pk}
    steps, indexes = [], []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no per-row foreign-key triggers
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        if size >= 100_000:
            for table in ("campaigns_customer", "campaigns_call"):
                cursor.execute(DROPPABLE_INDEXES, [table])
                indexes += cursor.fetchall()
            for name, _ in indexes:
                cursor.execute(f"DROP INDEX {name}")
        for name, sql in (("customers", CUSTOMERS_SQL), ("calls", CALLS_SQL), ("counters", COUNTERS_SQL)):
            start = time.perf_counter()
            cursor.execute(sql, params)
            steps.append(f"{name} {time.perf_counter() - start:.1f}s")
        start = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        if indexes:
            steps.append(f"{len(indexes)} indexes {time.perf_counter() - start:.1f}s")
    print(f"  {size:,}: {', '.join(steps)}", flush=True)


def build(args) -> dict:
    """The organization and its campaigns; what is already there at these sizes is kept."""
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Campaign

    org, user, account, phone, key = _org()
    started = time.perf_counter()
    if args.rebuild:
        _drop_campaigns(org)
    campaigns = Campaign.objects.filter(organization=org)
    big_name, medium_name = f"bench reads {args.customers:,}", f"bench reads {args.medium:,}"
    big = campaigns.filter(name=big_name, customers_total=args.customers).first()
    medium = campaigns.filter(name=medium_name, customers_total=args.medium).first()
    keep = [c.pk for c in (big, medium) if c]
    stale = campaigns.exclude(pk__in=keep).exclude(name__startswith="bench filler ")
    _drop_campaigns_in(stale)
    filler = list(campaigns.filter(name__startswith="bench filler ").values_list("pk", flat=True))
    wanted = max(0, args.campaigns - 2)
    if len(filler) > wanted:
        Campaign.objects.filter(pk__in=filler[wanted:]).delete()
    Campaign.objects.bulk_create(
        [
            Campaign(
                organization=org,
                name=f"bench filler {i}",
                assistant_id="bench-assistant",
                phone_number=phone,
                status="ended" if i % 3 else "scheduled",
                ended_reason="campaign.ended.success" if i % 3 else "",
                auto_start=False,
            )
            for i in range(len(filler), wanted)
        ],
        batch_size=500,
    )
    running = {"status": "in-progress", "started_at": timezone.now()}
    built = []
    if medium is None:
        medium = _campaign(org, phone, medium_name, **running)
        _fill(medium, args.medium, org, account, phone)
        built.append(f"{args.medium:,}")
    if big is None:
        print(f"building the {args.customers:,}-customer campaign (kept for later runs)", flush=True)
        big = _campaign(org, phone, big_name, **running)
        _fill(big, args.customers, org, account, phone)
        built.append(f"{args.customers:,}")
    if built:
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for table in ("campaigns_customer", "campaigns_call", "campaigns_campaign"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        print(f"  vacuum analyze {time.perf_counter() - start:.1f}s", flush=True)
    big.refresh_from_db()
    medium.refresh_from_db()
    what = f"built the {' and '.join(built)} campaigns" if built else "reused the data"
    print(f"{what} in {time.perf_counter() - started:.1f}s ({campaigns.count():,} campaigns)", flush=True)
    return {"org": org, "user": user, "key": key, "big": big, "medium": medium}


# -- timing ---------------------------------------------------------------------------------------


def timed(get, requests: int, warmup: int = 10, budget: float = 20.0) -> list[float]:
    """Milliseconds of up to `requests` calls of get(), after up to `warmup` untimed ones.

    A slow endpoint stops early: warm-up after 2 s, timing after `budget` seconds (with at least
    10 samples), so the whole run keeps to its time however slow the product is.
    """
    start = time.perf_counter()
    for _ in range(warmup):
        get()
        if time.perf_counter() - start > 2.0:
            break
    samples: list[float] = []
    start = time.perf_counter()
    for _ in range(requests):
        began = time.perf_counter()
        get()
        samples.append((time.perf_counter() - began) * 1000)
        if len(samples) >= 10 and time.perf_counter() - start > budget:
            break
    return samples


def client_get(client, url: str, check=None, headers: dict | None = None):
    """A timed GET: fails on anything but 200. `check(response)` runs once, on the first answer
    (outside the timed requests: reading a 4 MB document back is the client's cost, not ours)."""
    unchecked = [check] if check else []

    def get():
        response = client.get(url, headers=headers or {})
        if response.status_code != 200:
            fail(f"GET {url} answered {response.status_code}: {response.content[:300]!r}")
        while unchecked:
            unchecked.pop()(response)
        return response

    return get


def no_count_over_big_tables(label: str, get) -> int:
    """Run get() with queries captured; fail on a COUNT over calls or customers. Returns the query count."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get()
    for query in captured.captured_queries:
        if COUNT_OVER_BIG_TABLES.search(query["sql"]):
            fail(f"{label} runs a COUNT over a big table on its hot path: {query['sql'][:300]}")
    return len(captured.captured_queries)


def raw_counters(campaign_id: object, requests: int) -> list[float]:
    import psycopg

    with psycopg.connect(raw_dsn(), autocommit=True) as conn:
        sql = (
            "SELECT calls_scheduled, calls_queued, calls_in_progress, calls_ended, calls_ended_voicemail"
            " FROM campaigns_campaign WHERE id = %s"
        )
        return timed(lambda: conn.execute(sql, (campaign_id,)).fetchone(), requests)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers", type=int, default=1_000_000, help="the big campaign (default 1,000,000)"
    )
    parser.add_argument("--medium", type=int, default=10_000, help="the document campaign (default 10,000)")
    parser.add_argument(
        "--campaigns", type=int, default=1000, help="campaigns in the organization (default 1000)"
    )
    parser.add_argument("--requests", type=int, default=200, help="timed requests per figure (default 200)")
    parser.add_argument("--rebuild", action="store_true", help="build the data again even if it is there")
    args = parser.parse_args()
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # the product's INFO lines would drown the figures
    setup_django()
    from django.test import Client
    from django.urls import reverse

    import bench.wsgi_bench  # noqa: F401 - the bench URLconf, as gunicorn serves it

    data = build(args)
    # What a web worker does once it has loaded the application, before serving (its gunicorn hook).
    runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))["post_worker_init"](None)
    big, medium, n = data["big"], data["medium"], args.requests
    page = Client(HTTP_HOST="127.0.0.1")
    page.force_login(data["user"])
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {data['key']}")
    failures = []

    def target(
        name: str, samples: list[float], limit: float, baseline: list[float] | None = None, note=""
    ) -> None:
        p95 = percentile(samples, 95)
        extra = f"median {percentile(samples, 50):.2f} ms, {len(samples)} requests; target p95 < {limit:g} ms"
        report(name, p95, "ms p95", percentile(baseline, 95) if baseline else None, note=f"{extra}{note}")
        if p95 >= limit:
            failures.append(f"{name}: p95 {p95:.1f} ms is not below {limit:g} ms")

    def truncated(response) -> None:
        # Vapi's document lists at most 10,000: the first customers and the latest calls, and our
        # `truncated` extension says where the lists go on (issue 14).
        body = response.json()
        listed = (len(body.get("customers", [])), len(body.get("calls", {})))
        if "truncated" not in body or listed != (10_000, 10_000):
            fail(f"GET /campaign/{{id}} of a 1M campaign listed {listed}, truncated={body.get('truncated')}")

    def whole_document(response) -> None:
        body = response.json()
        if len(body.get("customers", [])) != args.medium or len(body.get("calls", {})) != args.medium:
            fail(f"GET /campaign/{{id}} of the {args.medium:,} campaign did not list every customer and call")

    counters = client_get(page, reverse("campaigns:counters", args=[big.pk]), headers={"HX-Request": "true"})
    document = client_get(api, f"/campaign/{big.pk}", check=truncated)
    queries = {
        "counters fragment": no_count_over_big_tables("the counters fragment", counters),
        "GET /campaign/{id}": no_count_over_big_tables("GET /campaign/{id}", document),
    }
    baseline = raw_counters(big.pk, n)
    size = f"{args.customers:,}"
    target(
        f"counters fragment at {size} calls",
        timed(counters, n),
        10,
        baseline,
        f", {queries['counters fragment']} queries, no COUNT over calls",
    )
    target(
        f"GET /campaign/{{id}} with 10,000 of {size} customers and calls listed (truncated)",
        timed(document, n),
        150,
        None,
        f", {queries['GET /campaign/{id}']} queries, no COUNT over calls",
    )
    medium_doc = client_get(api, f"/campaign/{medium.pk}", check=whole_document)
    target(f"GET /campaign/{{id}} with {args.medium:,} customers and calls", timed(medium_doc, n), 150)
    campaign_list = client_get(page, reverse("campaigns:list"))
    target(f"campaign list page, {args.campaigns:,} campaigns", timed(campaign_list, n), 100)
    after = (CUSTOMERS_PAGE - 1) * PAGE_SIZE - 1  # positions run from 0: page 500 follows this one
    customers = client_get(page, f"{reverse('campaigns:customers', args=[big.pk])}?after={after}")
    target(f"customers page {CUSTOMERS_PAGE} of a {size}-customer campaign", timed(customers, n), 100)

    # The search box: a part of a name that one customer has, and one nobody has (on PostgreSQL
    # through the trigram index customer_name_trgm; without it, the whole campaign was read).
    def finds(name: str | None):
        def check(response) -> None:
            text = response.content.decode()
            rows = text.count('data-customer="')
            if rows != (1 if name else 0) or (name and name not in text):
                fail(f"the search found {rows} customers, not {name or 'none'}")

        return check

    # A number with as many digits as the biggest: no longer name starts with it, at any size.
    one = args.customers - 12_346
    searches = (
        ("a part of one customer's name", f"mer+{one}", f"Customer {one}"),
        ("a name nobody has", "Nobody+Here", None),
    )
    for what, q, name in searches:
        url = f"{reverse('campaigns:customers', args=[big.pk])}?q={q}"
        samples = timed(client_get(page, url, check=finds(name)), n)
        target(f"customers page searched for {what}, a {size}-customer campaign", samples, 100)
    overview = client_get(page, reverse("campaigns:overview"))
    target(f"organization overview, a {size}-customer campaign running", timed(overview, n), 100)
    from campaigns.models import Customer

    someone = Customer.objects.filter(campaign=big, position=CUSTOMERS_PAGE * PAGE_SIZE).first()
    customer_page = client_get(page, reverse("campaigns:customer", args=[big.pk, someone.pk]))
    target(f"customer page in a {size}-customer campaign", timed(customer_page, n), 100)
    wallboard = client_get(
        page, reverse("campaigns:wallboard", args=[big.pk]), headers={"HX-Request": "true"}
    )
    target(f"wallboard fragment of a {size}-call campaign", timed(wallboard, n), 100)
    waiting = client_get(page, reverse("campaigns:waiting", args=[big.pk]), headers={"HX-Request": "true"})
    target(f"what-the-dialer-is-doing fragment of a {size}-customer campaign", timed(waiting, n), 100)
    api_customers = client_get(api, f"/campaign/{big.pk}/customers?page={CUSTOMERS_PAGE}&limit={PAGE_SIZE}")
    samples = timed(api_customers, max(10, n // 10), warmup=2, budget=5.0)
    report(
        f"API GET /campaign/{{id}}/customers?page={CUSTOMERS_PAGE} of a {size}-customer campaign",
        percentile(samples, 95),
        "ms p95",
        note=f"for information (same target as the page, < 100 ms), {len(samples)} requests",
    )
    if failures:
        fail("targets missed:\n  " + "\n  ".join(failures))


if __name__ == "__main__":
    main()
