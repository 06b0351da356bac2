"""Adding customers to a campaign: canonical numbers, de-duplication, do-not-call, number facts,
dialing order.

Every number is stored in its canonical form (campaigns.phone): that is what is de-duplicated,
compared with the do-not-call list and zoned, whether Vapi's E.164 check was on or off; the
number as submitted is kept beside it when it differs.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import islice

import orjson
from django.db import connection, transaction
from django.db.models import F, QuerySet
from pyroaring import BitMap64

from campaigns import clock, phone, places
from campaigns.models import (
    TERMINAL_STATUSES,
    Campaign,
    Customer,
    CustomerState,
    DialingOrder,
    DialPlanEntry,
    DoNotCall,
    customer_id,
)
from campaigns.rules.reasons import Reason
from campaigns.rules.schemas import Checker
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.inputs import ContactInput, CustomerInput
from campaigns.services.tx import lock_campaigns

CHUNK = 5000
# A multiplicative hash: spreads positions into a fixed pseudo-random order without storing a seed.
_RANDOM_MULTIPLIER = 2654435761


def sort_key_for(order: str, position: int) -> int:
    if order == DialingOrder.LIFO:
        return -position
    if order == DialingOrder.RANDOM:
        return (position * _RANDOM_MULTIPLIER) % 2_147_483_647
    return position


@dataclass
class ImportResult:
    """What a bulk add did: customers added (skipped ones included), rows skipped as duplicates,
    and added customers skipped at once (on the do-not-call list, impossible numbers)."""

    added: int = 0
    duplicates: int = 0
    do_not_call: int = 0
    invalid_numbers: int = 0
    errors: list[FieldError] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """The counts by name (what the audit records)."""
        return {
            "added": self.added,
            "duplicates": self.duplicates,
            "do_not_call": self.do_not_call,
            "invalid_numbers": self.invalid_numbers,
        }


# Columns written by the bulk insert, in table order. Rows are plain tuples: building a
# model instance per customer costs more than the database does at a million rows.
_COLUMNS = (
    "id",
    "campaign_id",
    "dial_plan_entry_id",
    "position",
    "sort_key",
    "number",
    "number_submitted",
    "number_e164_check_enabled",
    "sip_uri",
    "extension",
    "name",
    "email",
    "external_id",
    "assistant_overrides",
    "squad_overrides",
    "time_zones",
    "time_zone",
    "state",
    "attempts",
    "next_attempt_at",
    "last_outcome",
    "reason",
    "reason_detail",
    "updated_at",
    "metadata",
    "region",
    "postal_code",
)


class _Writer:
    """Streams prepared rows into the customer table (or `table`, with its `columns`) until closed.

    PostgreSQL: one COPY for the whole import, so the server builds its indexes while we
    validate the next rows (7-13x faster than INSERT, research/stack.md §3b). SQLite:
    executemany in chunks. No other query may run on the connection while it is open.
    """

    def __init__(self, table: str = "", columns: tuple[str, ...] = _COLUMNS) -> None:
        self.table = table or Customer._meta.db_table
        self.width = len(columns)
        self.columns = ", ".join(columns)
        self.buffer: list[tuple] = []

    def __enter__(self) -> _Writer:
        self.stack = ExitStack()
        self.cursor = self.stack.enter_context(connection.cursor())
        self.copy = None
        if connection.vendor == "postgresql":
            sql = f"COPY {self.table} ({self.columns}) FROM STDIN"
            self.copy = self.stack.enter_context(self.cursor.cursor.copy(sql))
        return self

    def write(self, row: tuple) -> None:
        if self.copy is not None:
            self.copy.write_row(row)
            return
        self.buffer.append(row)
        if len(self.buffer) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        marks = ", ".join(["%s"] * self.width)
        self.cursor.executemany(f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})", self.buffer)
        self.buffer = []

    def __exit__(self, *exc: object) -> None:
        with self.stack:
            if self.buffer and exc[0] is None:
                self._flush()


class _Prepared:
    """Turns validated inputs into insert rows for one campaign; skips what must not be dialed."""

    def __init__(self, campaign: Campaign, entry: DialPlanEntry | None, position: int) -> None:
        # Values in the form the driver takes: psycopg adapts UUIDs and datetimes itself;
        # SQLite stores Django's UUIDs as hex and datetimes as text.
        ops, native = connection.ops, connection.vendor == "postgresql"
        self.new_id = customer_id if native else (lambda: customer_id().hex)
        self.campaign_id = campaign.pk if native else campaign.pk.hex
        self.entry_id = (entry.pk if native else entry.pk.hex) if entry else None
        self.order = campaign.dialing_order
        self.position = position
        self.region = campaign.organization.default_region or None
        now = clock.now()
        self.due = (
            ops.adapt_datetimefield_value(campaign.earliest_at or now)
            if not native
            else (campaign.earliest_at or now)
        )
        self.now = now if native else ops.adapt_datetimefield_value(now)
        self.do_not_call = self.invalid = 0

    def facts(self, item: CustomerInput) -> tuple[str | None, tuple[str, ...]]:
        """The number's canonical form (None when it has none: impossible, or a dialing string
        typed with the E.164 check off) and its time zones."""
        if not item.number:
            return None, ()
        return phone.customer_facts(
            item.number, e164_check=item.number_e164_check_enabled, region=self.region
        )

    def row(self, item: CustomerInput, canonical: str | None, zones: tuple[str, ...], blocked: bool) -> tuple:
        self.position += 1
        state, reason, detail = CustomerState.PENDING, "", ""
        if canonical is None and item.number and item.number_e164_check_enabled:
            state, reason = CustomerState.SKIPPED, Reason.INVALID_NUMBER
            detail = "not a possible phone number"
            self.invalid += 1
        if blocked:
            if reason:
                self.invalid -= 1
            state, reason, detail = CustomerState.SKIPPED, Reason.DO_NOT_CALL, "on the do-not-call list"
            self.do_not_call += 1
        overrides = item.assistant_overrides
        if overrides is not None:
            overrides = orjson.dumps(overrides).decode()
        squad = item.squad_overrides
        if squad is not None:
            squad = orjson.dumps(squad).decode()
        return (
            self.new_id(),
            self.campaign_id,
            self.entry_id,
            self.position,
            sort_key_for(self.order, self.position),
            canonical or item.number,
            item.number if canonical not in (None, item.number) else "",
            item.number_e164_check_enabled,
            item.sip_uri,
            item.extension,
            item.name,
            item.email,
            item.external_id,
            overrides,
            squad,
            _zones_of(item, zones),
            item.time_zone,
            state,
            0,
            self.due,
            "",
            reason,
            detail,
            self.now,
            orjson.dumps(item.metadata).decode() if item.metadata is not None else None,
            item.region,
            item.postal_code,
        )


class NumberSet:
    """The numbers seen so far in an import, for de-duplication in a memory that does not grow
    with the rows: `+<digits>` numbers (every canonical one) as 64-bit integers in a compressed
    bitmap (pyroaring's Roaring bitmap: ten million numbers take a few MB, where a Python set of
    them took ~700 MB and broke the import's 300 MB bound), any other text (a dialing string with
    no canonical form) in a set. `add` says whether the number is new: one lookup per row."""

    __slots__ = ("_digits", "_texts")

    def __init__(self) -> None:
        self._digits = BitMap64()
        self._texts: set[str] = set()

    @classmethod
    def of(cls, rows: QuerySet) -> NumberSet:
        """The numbers of `rows` (a queryset of rows with a `number`), read in chunks."""
        found = cls()
        numbers = rows.values_list("number", flat=True).iterator(chunk_size=20_000)
        for chunk in iter(lambda: list(islice(numbers, 20_000)), []):
            digits = []
            for number in chunk:
                key = _digits_key(number)
                if key is None:
                    found._texts.add(number)
                else:
                    digits.append(key)
            found._digits.update(digits)
        return found

    def __contains__(self, number: str) -> bool:
        key = _digits_key(number)
        return number in self._texts if key is None else key in self._digits

    def add(self, number: str) -> bool:
        """Add `number`; False when it was already there."""
        key = _digits_key(number)
        if key is None:
            if number in self._texts:
                return False
            self._texts.add(number)
            return True
        if key in self._digits:
            return False
        self._digits.add(key)
        return True


def _digits_key(number: str) -> int | None:
    """`+<digits>` as an int when that is exact both ways (ASCII digits, no leading zero, at most
    18 of them: a 64-bit integer); None for any other text."""
    digits = number[1:]
    if (
        number[:1] == "+"
        and 0 < len(digits) <= 18
        and digits.isascii()
        and digits.isdigit()
        and digits[0] != "0"
    ):
        return int(digits)
    return None


def variable_errors(checker: Checker, item: CustomerInput) -> list[FieldError]:
    """A customer's data (its variables: assistantOverrides.variableValues) against the campaign's
    JSON Schema, each failure named by row, path and reason."""
    variables = (item.assistant_overrides or {}).get("variableValues") or {}
    where = f"{item.source}.assistantOverrides.variableValues"
    return [
        FieldError(f"{where}.{path}" if path else where, reason) for path, reason in checker.errors(variables)
    ]


def metadata_errors(checker: Checker, item: CustomerInput) -> list[FieldError]:
    """A customer's metadata against the campaign's metadata schema, by row, path and reason."""
    where = f"{item.source}.metadata"
    return [
        FieldError(f"{where}.{path}" if path else where, reason)
        for path, reason in checker.errors(item.metadata or {})
    ]


def _zones_of(item: CustomerInput, number_zones: tuple[str, ...]) -> str:
    """The zones a customer is called in, stored: their own, else where they live, else the number's."""
    if item.time_zone:
        return item.time_zone
    if item.region or item.postal_code:
        return ",".join(places.zones_for(item.region, item.postal_code) or number_zones)
    return ",".join(number_zones)


def place_errors(item: CustomerInput | ContactInput) -> list[FieldError]:
    """Put the row's place (region, postal code) in its canonical form, the region filled in from
    a US ZIP (campaigns.places, the one normaliser): [] or the problem, named by row and field."""
    if not (item.region or item.postal_code):
        return []
    try:
        item.region, item.postal_code = places.place(item.region, item.postal_code)
    except places.InvalidPlace as error:
        return [FieldError(f"{item.source}.{error.field}" if item.source else error.field, error.reason)]
    return []


def customers_insert(
    *,
    campaign: Campaign,
    rows: Iterable[CustomerInput],
    entry: DialPlanEntry | None = None,
    reject_duplicates: bool = True,
) -> ImportResult:
    """Insert customers into `campaign` inside the caller's transaction, streaming.

    Duplicates (within the rows or already in the campaign) are errors when
    `reject_duplicates`, and are otherwise skipped and counted. Numbers on the
    do-not-call list, and impossible ones, are stored as skipped with the reason.
    With a campaign data schema, each row's variables must meet it (`variable_errors`).
    `rows` may carry an `errors` list it fills while streaming (see importers);
    those are raised too. Raises ValidationFailed with every problem found; the
    caller's atomic block then saves nothing. Moves `customers_total` and
    `customers_final`.
    """
    result = ImportResult()
    first_seen: dict[str, str] = {}  # only kept when duplicates are errors (small requests)
    seen = NumberSet()
    last = Customer.objects.filter(campaign=campaign).order_by("-position").values_list("position", flat=True)
    prepared = _Prepared(campaign, entry, last.first() if last.exists() else -1)
    # Looked up once, before the stream opens: a million keys stay well under 100 MB.
    existing = NumberSet.of(Customer.objects.filter(campaign=campaign).exclude(number=""))
    blocked = NumberSet.of(DoNotCall.objects.filter(organization_id=campaign.organization_id))
    source_errors = getattr(rows, "errors", None)  # a parser reporting bad lines as it streams
    typed = Checker(campaign.data_schema) if campaign.data_schema else None
    described = Checker(campaign.metadata_schema) if campaign.metadata_schema else None
    with _Writer() as writer:
        for item in rows:
            if typed is not None:
                result.errors += variable_errors(typed, item)
            if described is not None:
                result.errors += metadata_errors(described, item)
            result.errors += place_errors(item)
            canonical, zones = prepared.facts(item)
            key = (canonical or item.number) if item.number else None
            if key is not None:
                if key in existing or not seen.add(key):
                    if reject_duplicates:
                        first = first_seen.get(key, "a customer already in this campaign")
                        result.errors.append(FieldError(f"{item.source}.number", f"duplicates {first}"))
                    else:
                        result.duplicates += 1
                    continue
                if reject_duplicates:
                    first_seen[key] = item.source or item.number
            if result.errors or source_errors:
                continue  # keep reading so every bad row is reported; nothing will be kept
            writer.write(prepared.row(item, canonical, zones, key is not None and key in blocked))
            result.added += 1
    errors = list(getattr(rows, "errors", None) or []) + result.errors
    if errors:
        raise ValidationFailed(errors)
    result.do_not_call, result.invalid_numbers = prepared.do_not_call, prepared.invalid
    skipped = result.do_not_call + result.invalid_numbers
    Campaign.objects.filter(pk=campaign.pk).update(
        customers_total=F("customers_total") + result.added,
        customers_final=F("customers_final") + skipped,
        customers_pending=F("customers_pending") + result.added - skipped,
        customers_skipped=F("customers_skipped") + skipped,
    )
    return result


def customers_add(*, campaign: Campaign, by: Actor, rows: Iterable[CustomerInput]) -> ImportResult:
    """Bulk-add customers to a campaign that has not ended: all rows or none.

    Duplicates are skipped and counted (a re-sent file adds only what is new). The campaign row
    is held (KEY SHARE, campaigns.services.tx) for the whole import: an end or the dialer's
    finish that comes meanwhile waits for it and then sees the new customers, so none is left
    pending in an ended campaign; an import that comes after the end is refused.
    Raises InvalidTransition for an ended or deleted campaign, ValidationFailed for one using a
    dial plan.
    """
    with transaction.atomic():
        lock_campaigns([campaign.pk], "key_share")
        campaign = Campaign.objects.select_related("organization").get(pk=campaign.pk)
        if campaign.status in TERMINAL_STATUSES or campaign.deleted_at:
            raise InvalidTransition(
                action="add customers to", current="deleted" if campaign.deleted_at else campaign.status
            )
        if campaign.uses_dial_plan:
            raise ValidationFailed.one("customers", "cannot be added to a campaign that uses a dial plan")
        result = customers_insert(campaign=campaign, rows=rows, reject_duplicates=False)
        audit_record(
            organization=campaign.organization,
            by=by,
            action="campaign.customers_add",
            target=campaign,
            after=result.as_dict(),
        )
    return result
