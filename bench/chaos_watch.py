"""The chaos run's watcher: samples the invariants from the database while the campaign runs.

Every `interval` seconds, on a connection of its own:
1. customers with two live calls (the partial unique index should make this impossible);
2. live calls per organization and per campaign, against their caps;
3. every `drift_every` samples, the campaign's counters against a recount of its rows, read in one
   REPEATABLE READ snapshot: counters move in the same transaction as the rows they count, so
   they must be equal in any snapshot, not just once the campaign is quiet.
"""

from __future__ import annotations

import threading
import time
import traceback

import psycopg

TWO_LIVE = """
SELECT customer_id::text, count(*) FROM campaigns_call WHERE status <> 'ended'
GROUP BY customer_id HAVING count(*) > 1
"""
LIVE_BY_ORG = "SELECT count(*) FROM campaigns_call WHERE status <> 'ended' AND organization_id = %s"
LIVE_BY_CAMPAIGN = """
SELECT count(*), count(*) FILTER (WHERE status = 'queued' AND placing_at IS NULL)
FROM campaigns_call WHERE status <> 'ended' AND campaign_id = %s
"""
COUNTERS = """
SELECT calls_scheduled, calls_queued, calls_in_progress, calls_ended, calls_ended_voicemail,
       customers_final, status, customers_total
FROM campaigns_campaign WHERE id = %s
"""
RECOUNT = """
SELECT
  count(*) FILTER (WHERE status = 'scheduled'),
  count(*) FILTER (WHERE status = 'queued'),
  count(*) FILTER (WHERE status IN ('ringing', 'in-progress', 'forwarding')),
  count(*) FILTER (WHERE status = 'ended'),
  count(*) FILTER (WHERE status = 'ended' AND ended_reason = 'voicemail')
FROM campaigns_call WHERE campaign_id = %s
"""
FINAL = """
SELECT count(*) FROM campaigns_customer WHERE campaign_id = %s
AND state IN ('completed', 'voicemail', 'failed', 'skipped', 'cancelled')
"""
NAMES = ("calls_scheduled", "calls_queued", "calls_in_progress", "calls_ended", "calls_ended_voicemail")


class Watcher(threading.Thread):
    def __init__(
        self, dsn: str, *, org_id: str, campaign_id: str, interval: float = 0.5, drift_every: int = 4
    ):
        super().__init__(name="chaos-watcher", daemon=True)
        self.dsn, self.org_id, self.campaign_id = dsn, org_id, campaign_id
        self.interval, self.drift_every = interval, drift_every
        self.stopping = threading.Event()
        self.samples = self.drift_checks = 0
        self.two_live: list[dict] = []  # {t, customer_id, live}
        self.drift: list[dict] = []  # {t, counters, recount}
        self.max_live_org = self.max_live_campaign = 0
        self.max_untaken = 0  # queued calls no worker has taken yet (their slots are held meanwhile)
        self.status, self.final, self.total = "", 0, 0
        self.errors: list[str] = []
        self.began = time.monotonic()

    def run(self) -> None:
        conn = None
        while not self.stopping.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.dsn, autocommit=True)
                self._sample(conn)
            except Exception:  # noqa: BLE001 - a failed sample is recorded, the watch goes on
                self.errors.append(traceback.format_exc(limit=2)[-400:])
                conn = None
            self.stopping.wait(self.interval)
        if conn is not None:
            conn.close()

    def _sample(self, conn: psycopg.Connection) -> None:
        now = round(time.monotonic() - self.began, 2)
        for customer_id, live in conn.execute(TWO_LIVE).fetchall():  # 1.
            self.two_live.append({"t": now, "customer_id": customer_id, "live": live})
        org = conn.execute(LIVE_BY_ORG, (self.org_id,)).fetchone()[0]  # 2.
        campaign, untaken = conn.execute(LIVE_BY_CAMPAIGN, (self.campaign_id,)).fetchone()
        self.max_untaken = max(self.max_untaken, untaken)
        self.max_live_org, self.max_live_campaign = (
            max(self.max_live_org, org),
            max(self.max_live_campaign, campaign),
        )
        self.samples += 1
        if self.samples % self.drift_every == 0:  # 3.
            self._check_drift(conn, now)

    def _check_drift(self, conn: psycopg.Connection, now: float) -> None:
        with conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute(COUNTERS, (self.campaign_id,)).fetchone()
            calls = conn.execute(RECOUNT, (self.campaign_id,)).fetchone()
            final = conn.execute(FINAL, (self.campaign_id,)).fetchone()[0]
        counters = dict(zip((*NAMES, "customers_final"), row[:6], strict=True))
        recount = dict(zip((*NAMES, "customers_final"), (*calls, final), strict=True))
        self.status, self.final, self.total = row[6], final, row[7]
        self.drift_checks += 1
        if counters != recount:
            self.drift.append({"t": now, "counters": counters, "recount": recount})

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
