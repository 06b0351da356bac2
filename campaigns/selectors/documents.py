"""What Vapi's Campaign document lists: the customers as submitted, the `calls` map, the dial plan.

Vapi's Campaign requires `calls`, and a campaign holds at most 10,000 customers there. Ours may
hold more (bulk imports): their document lists the first DOCUMENT_LIMIT customers (in the order
of GET /campaign/{id}/customers) and the DOCUMENT_LIMIT most recent calls (in the order of GET
/campaign/{id}/calls, newest first), and says it did (`Document.customers_truncated`,
`calls_truncated`), so a client knows where the rest is. Nothing here writes.

On PostgreSQL a truncated document's `calls` entries come written as JSON by the database
(`CallEntry`, a `WrittenCall` each): 10,000 calls and their customers, each turned into a tuple
and then a dict only to be written out again, were half of that document's time.
"""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import NotSupportedError, connection
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.functions import Cast

from campaigns.models import CALL_TYPES, Call, CallDirection, Campaign, Customer, DialPlanEntry

DOCUMENT_LIMIT = 10_000
# The rows are plain tuples, not model instances: a 10,000-customer document reads 20,000 rows,
# and model instantiation would cost more than the queries.
# What the document echoes of a customer: what Vapi's CreateCustomerDTO holds, squadOverrides
# included. `echo` holds all of it but the overrides, as JSON text the database keeps
# (models.customer.SubmittedEcho; api.serializers.customer.document_echo adds the overrides).
_ECHO_FIELDS = ("echo", "assistant_overrides", "squad_overrides")
# A listed customer: its echo, and where it belongs (its campaign, its dial plan entry).
EchoRow = namedtuple("EchoRow", ("id", "campaign_id", "dial_plan_entry_id", *_ECHO_FIELDS))
# A call's customer, read with the call: the echo alone (its id is the call's customer_id).
CallEchoRow = namedtuple("CallEchoRow", _ECHO_FIELDS)
# An entry of the `calls` map, its customer aside.
CallRow = namedtuple(
    "CallRow",
    (
        "id",
        "campaign_id",
        "customer_id",
        "status",
        "ended_reason",
        "started_at",
        "ended_at",
        "analysis",
        "direction",
        "caller_id_choice",
    ),
)
# An entry of the `calls` map as the database wrote it (CallEntry): its id and its JSON text.
WrittenCall = namedtuple("WrittenCall", ("id", "entry"))
_IDS = {"id", "campaign_id", "dial_plan_entry_id", "customer_id"}
_TIMESTAMPS = {"started_at", "ended_at"}
_JSON = {"assistant_overrides", "squad_overrides", "analysis"}


@dataclass
class Document:
    """One campaign's document lists. `customers` are in submission order, `calls` oldest first
    (CallRows, or WrittenCalls: entries the database wrote); `echoes` has every customer a
    CallRow names (beyond the listed ones when truncated), by id."""

    customers: list[Any]
    calls: list[Any]
    dial_plan: list[DialPlanEntry]
    echoes: dict[Any, Any]
    customers_truncated: bool = False
    calls_truncated: bool = False


def campaign_documents(campaigns: list[Campaign]) -> list[Campaign]:
    """Attach `.document` (a Document) to each campaign; returns `campaigns`.

    Campaigns of up to DOCUMENT_LIMIT customers are read together, in three queries for any
    number of them (customers, calls, dial plan entries); each larger one in two queries of its
    own (its first customers; its latest calls, each with its customer).
    """
    small = [c for c in campaigns if c.customers_total <= DOCUMENT_LIMIT]
    customers: dict[str, list[Any]] = defaultdict(list)
    calls: dict[str, list[Any]] = defaultdict(list)
    if small:
        ids = [c.pk for c in small]
        rows = Customer.objects.filter(campaign_id__in=ids).order_by("campaign_id", "position")
        for customer in _document_rows(rows, EchoRow):
            customers[str(customer.campaign_id)].append(customer)
        for call in _document_rows(
            Call.objects.filter(campaign_id__in=ids).order_by("created_at", "id"), CallRow
        ):
            calls[str(call.campaign_id)].append(call)
    plans = _dial_plans([c for c in campaigns if c.uses_dial_plan])
    for campaign in campaigns:
        if campaign.customers_total <= DOCUMENT_LIMIT:
            listed = customers[str(campaign.pk)]
            echoes = {c.id: c for c in listed}
            campaign.document = Document(listed, calls[str(campaign.pk)], plans[campaign.pk], echoes)
        else:
            campaign.document = _truncated(campaign, plans[campaign.pk])
    return campaigns


def _dial_plans(campaigns: list[Campaign]) -> dict[Any, list[DialPlanEntry]]:
    plans: dict[Any, list[DialPlanEntry]] = defaultdict(list)
    if campaigns:
        entries = DialPlanEntry.objects.filter(campaign_id__in=[c.pk for c in campaigns])
        for entry in entries.order_by("campaign_id", "position"):
            plans[entry.campaign_id].append(entry)
    return plans


def _truncated(campaign: Campaign, dial_plan: list[DialPlanEntry]) -> Document:
    """The document of a campaign beyond DOCUMENT_LIMIT customers: its first customers by position,
    and its most recent calls (one more, to know whether there are others), each read with its
    customer, through the (campaign, position) and (campaign, -created_at) indexes."""
    first = Customer.objects.filter(campaign_id=campaign.pk).order_by("position")[:DOCUMENT_LIMIT]
    listed = list(_document_rows(first, EchoRow))
    echoes = {c.id: c for c in listed}
    # The calls and their customers in one read (a join, one primary-key probe each): naming the
    # customers by id afterwards sent 10,000 ids to be parsed and planned (200 ms at a million),
    # and reading the calls twice, once for themselves and once for their customers, cost a
    # second scan and its rows.
    latest = Call.objects.filter(campaign_id=campaign.pk).order_by("-created_at", "-id")[: DOCUMENT_LIMIT + 1]
    if connection.vendor == "postgresql":  # each entry written by the database, its customer in it
        written = list(map(WrittenCall._make, latest.values_list(Cast("id", TextField()), CallEntry())))
        more = len(written) > DOCUMENT_LIMIT
        recent = written[:DOCUMENT_LIMIT][::-1]
        return Document(listed, recent, dial_plan, echoes, customers_truncated=True, calls_truncated=more)
    rows = list(_document_rows(latest, CallRow, CallEchoRow))
    calls_truncated = len(rows) > DOCUMENT_LIMIT
    recent = []
    for call, customer in reversed(rows[:DOCUMENT_LIMIT]):
        recent.append(call)
        echoes.setdefault(call.customer_id, customer)
    return Document(
        listed, recent, dial_plan, echoes, customers_truncated=True, calls_truncated=calls_truncated
    )


class _UtcIso(Func):
    """A timestamp as Vapi writes it (2026-10-01T09:12:30.117Z), formatted by PostgreSQL."""

    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')"""
    output_field = TextField()


class CallEntry(Func):
    """A call as the campaign document's `calls` map lists it, written as JSON text by PostgreSQL:
    what api.serializers.call.call_entry writes of a CallRow and its customer's document echo,
    key for key, in the same order (a test holds the two equal). Its customer's stored echo
    (models.customer.SubmittedEcho) is spliced in, its overrides appended when it has any; the
    other keys are there when call_entry writes them (a value Python holds false, absent).
    """

    output_field = TextField()
    FIELDS = (
        "id",
        "status",
        "direction",
        "ended_reason",
        "started_at",
        "ended_at",
        "analysis",
        "caller_id_choice",
        "customer__echo",
        "customer__assistant_overrides",
        "customer__squad_overrides",
    )
    # JSON values Python holds false (None, {}, [], "", 0, False): call_entry leaves them out.
    FALSE = ("null", "{}", "[]", '""', "0", "false")

    def __init__(self) -> None:
        super().__init__(*(F(field) for field in self.FIELDS))

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"CallEntry has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context) -> tuple[str, list]:
        columns = dict(
            zip(self.FIELDS, (compiler.compile(e)[0] for e in self.get_source_expressions()), strict=True)
        )
        echo = columns["customer__echo"]

        def text(field: str, key: str) -> str:  # a string key, when not empty
            value = columns[field]
            return f"""CASE WHEN {value} <> '' THEN ',"{key}":' || to_json({value})::text ELSE '' END"""

        def moment(field: str, key: str) -> str:  # a timestamp key, as _UtcIso writes it
            value = columns[field]
            written = _UtcIso(F(field)).template % {"expressions": value}
            return f"""CASE WHEN {value} IS NOT NULL THEN ',"{key}":"' || {written} || '"' ELSE '' END"""

        def present(value: str) -> str:  # an override the customer has (JSON null: none)
            return f"({value} IS NOT NULL AND {value} <> 'null'::jsonb)"

        overrides = [
            (columns["customer__assistant_overrides"], "assistantOverrides"),
            (columns["customer__squad_overrides"], "squadOverrides"),
        ]
        appended = ", ".join(
            f"""CASE WHEN {present(value)} THEN '"{key}":' || {value}::text END""" for value, key in overrides
        )
        customer = (
            f"CASE WHEN NOT ({' OR '.join(present(value) for value, _ in overrides)}) THEN {echo}"
            f" ELSE left({echo}, -1) || CASE WHEN {echo} = '{{}}' THEN '' ELSE ',' END"
            f" || concat_ws(',', {appended}) || '}}' END"
        )
        analysis = columns["analysis"]
        false = ", ".join(f"'{value}'::jsonb" for value in self.FALSE)
        sql = " || ".join(
            [
                f"""'{{"id":"' || {columns["id"]}::text || '","customer":' || {customer}""",
                f"""',"status":' || to_json({columns["status"]})::text""",
                f"CASE WHEN {columns['direction']} = %s THEN %s ELSE '' END",
                text("ended_reason", "endedReason"),
                moment("started_at", "startedAt"),
                moment("ended_at", "endedAt"),
                f"""CASE WHEN {analysis} IS NULL OR {analysis} IN ({false}) THEN ''"""
                f""" ELSE ',"analysis":' || {analysis}::text END""",
                text("caller_id_choice", "callerIdChoice"),
                "'}'",
            ]
        )
        inbound = f',"type":{orjson.dumps(CALL_TYPES[CallDirection.INBOUND]).decode()}'
        return f"({sql})", [CallDirection.INBOUND.value, inbound]


def _document_rows(
    queryset: QuerySet, row: type[tuple], customer: type[tuple] | None = None
) -> Iterator[Any]:
    """`queryset`'s rows as `row` tuples; with `customer` (a queryset of calls), each as a pair of
    the call's `row` and its customer's `customer`, read in the same query (a join).

    On PostgreSQL, ids and timestamps come back as the text the document shows (parsing
    20,000 UUIDs and datetimes only to format them again was most of a document's time), and
    JSON as text decoded here, so Django has no converter to run per row. Elsewhere they stay
    objects (the serializers accept both).
    """
    names = [*row._fields, *(f"customer__{name}" for name in (customer._fields if customer else ()))]
    split = len(row._fields)
    values = _as_text(queryset, names) if connection.vendor == "postgresql" else queryset.values_list(*names)
    if customer is None:
        yield from map(row._make, values)
        return
    for value in values:
        yield row._make(value[:split]), customer._make(value[split:])


def _as_text(queryset: QuerySet, names: list[str]) -> Iterator[tuple]:
    """The values of `names` (fields, or a related row's: "customer__id") as PostgreSQL writes
    ids and timestamps, JSON decoded by orjson."""
    columns = []
    for name in names:
        field = name.rpartition("__")[2]
        if field in _IDS | _JSON:
            columns.append(Cast(name, TextField()))
        elif field in _TIMESTAMPS:
            columns.append(_UtcIso(F(name)))
        else:
            columns.append(name)
    json_at = [i for i, name in enumerate(names) if name.rpartition("__")[2] in _JSON]
    for values in queryset.values_list(*columns):
        for i in json_at:
            if values[i] is not None:
                values = (*values[:i], orjson.loads(values[i]), *values[i + 1 :])
        yield values
