"""A campaign's customers with their outcomes, as a streamed CSV file.

Streamed in keyset chunks over (campaign, position), so a million customers
cost constant memory and no long-held cursor. Cells a spreadsheet would run as
a formula (starting with = + - @, tab or carriage return) get a leading
apostrophe; plain numbers such as +14155550100 or -3 are left as they are,
since a spreadsheet reads them as numbers, never as formulas (the rule of
OWASP's CSV-injection guidance and of defusedcsv).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from decimal import Decimal

from django.db.models import Sum
from django.http import StreamingHttpResponse
from django.utils.text import slugify

from campaigns import selectors
from campaigns.models import Call, Campaign, CustomerState
from campaigns.rules.outcomes import classify

CHUNK = 2000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
COLUMNS = [
    "position",
    "number",
    "sipUri",
    "extension",
    "name",
    "email",
    "externalId",
    "state",
    "attempts",
    "lastOutcome",
    "lastEndedReason",
    "reason",
    "reasonDetail",
    "nextAttemptAt",
    "variables",
    "cost",
    "costUnit",
    "objectiveMet",
    "callbackAt",
    "analysis",
]
_OPEN = (CustomerState.PENDING, CustomerState.QUEUED, CustomerState.DIALING)


def neutralise(value: object) -> str:
    """The cell's text, made inert for spreadsheets when it would start a formula."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


# Read as plain tuples: building model instances would double the cost of a large export.
_FIELDS = (
    "position",
    "number",
    "sip_uri",
    "extension",
    "name",
    "email",
    "external_id",
    "state",
    "attempts",
    "last_outcome",
    "reason",
    "reason_detail",
    "next_attempt_at",
    "assistant_overrides",
    "objective_met",
    "callback_at",
    "analysis",
    "id",
)


def _row(values: tuple, costs: dict) -> list[str]:
    (
        *person,
        state,
        attempts,
        last_outcome,
        reason,
        detail,
        next_at,
        overrides,
        met,
        callback_at,
        result,
        pk,
    ) = values
    spent = costs.get(pk, [])
    variables = overrides.get("variableValues") if isinstance(overrides, dict) else None
    cells = [
        *person,
        state,
        attempts,
        classify(last_outcome).value if last_outcome else "",
        last_outcome,
        reason,
        detail,
        next_at.isoformat() if state in _OPEN else "",
        json.dumps(variables, ensure_ascii=False, sort_keys=True) if variables else "",
        "; ".join(f"{amount:.4f}" for _, amount in spent),
        "; ".join(unit for unit, _ in spent),
        "" if met is None else str(met).lower(),
        callback_at.isoformat() if callback_at and state in _OPEN else "",
        json.dumps(result, ensure_ascii=False, sort_keys=True) if result is not None else "",
    ]
    return [neutralise(cell) for cell in cells]


def customer_rows(campaign: Campaign) -> Iterator[list[str]]:
    """The header, then one row per customer in submission order."""
    yield COLUMNS
    customers = selectors.campaign_customers(campaign).values_list(*_FIELDS)
    after = -1
    while True:
        chunk = list(customers.filter(position__gt=after)[:CHUNK])
        costs = _costs([values[-1] for values in chunk])
        for values in chunk:
            yield _row(values, costs)
        if len(chunk) < CHUNK:
            return
        after = chunk[-1][0]


def _costs(customer_ids: list) -> dict[object, list[tuple[str, Decimal]]]:
    """What each customer's calls cost, per unit (one query per chunk): a customer called through
    two providers may have costs in two units, never added together."""
    found: dict[object, list[tuple[str, Decimal]]] = {}
    rows = (
        Call.objects.filter(customer_id__in=customer_ids)
        .exclude(cost_unit="")
        .values("customer_id", "cost_unit")
        .annotate(amount=Sum("cost"))
        .order_by("customer_id", "cost_unit")
    )
    for row in rows:
        found.setdefault(row["customer_id"], []).append((row["cost_unit"], row["amount"]))
    return found


class _Echo:
    """A file-like object whose write returns the text, so csv.writer feeds a generator."""

    def write(self, value: str) -> str:
        return value


def customers_csv_response(campaign: Campaign) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in customer_rows(campaign)), content_type="text/csv; charset=utf-8"
    )
    name = slugify(campaign.name) or "campaign"
    response["Content-Disposition"] = f'attachment; filename="{name}-customers.csv"'
    return response
