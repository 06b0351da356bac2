"""Customers typed into the builder: one CSV upload or paste, read and checked before anything is saved.

`read_sheet` turns the text into good rows (services.CustomerInput) and bad
rows (line, the line's text, every reason), through the same parser as the
API's bulk import (`importers.parse_customers_csv`), and adds what only a whole
campaign can know: a number listed twice is a bad row, and numbers on the
do-not-call list or impossible ones are counted (the services save those as
skipped, never called).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from django.core.files.uploadedfile import UploadedFile

from campaigns import phone
from campaigns.importers import E164_MESSAGE, parse_customers_csv
from campaigns.models import DoNotCall, Organization
from campaigns.rules.schemas import Checker
from campaigns.services import CustomerInput
from campaigns.services.customers import variable_errors

# The builder is for lists people handle by hand; bigger ones go through the API's bulk import.
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
BAD_ROWS_SHOWN = 500
SAMPLE_ROWS = 10  # good rows shown under a data schema's columns
BIG_LIST_HINT = "use the API's bulk import (POST /campaign/{id}/customers) for lists this large"
_LINE = re.compile(r"^line (\d+)(?:\.(.+))?$")


@dataclass
class BadRow:
    line: int
    text: str
    reasons: list[str] = field(default_factory=list)


@dataclass
class SkippedRow:
    """A row saved but never called: its number is on the do-not-call list, or impossible."""

    line: int
    number: str
    why: str


# The import's column names and messages (Vapi's, for the API) as the dashboard says them.
COLUMN_WORDS = {
    "number": "Phone number",
    "sipUri": "SIP address",
    "externalId": "External id",
    "numberE164CheckEnabled": "Strict number check",
    "name": "Name",
    "email": "Email",
    "extension": "Extension",
}
MESSAGE_WORDS = {
    E164_MESSAGE: "must be a full international number: + then the country code and number"
    " (e.g. +14155550101)",
    "is required when sipUri is not provided": "is required (or a SIP address)",
    "must name a number or a sipUri column": "must name a number column"
    " (or a sipUri column for SIP addresses)",
}


def in_words(key: str, message: str) -> str:
    """An import error as a campaign manager reads it: "Phone number: must be a full …"."""
    words = MESSAGE_WORDS.get(message) or message.replace("sipUri", "SIP address").replace(
        "E.164", "international"
    )
    return f"{COLUMN_WORDS.get(key, key)}: {words}" if key else words


@dataclass
class CustomerSheet:
    """The customers of one upload or paste, checked."""

    label: str
    text: str = ""
    good: list[CustomerInput] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the whole file, not one row
    do_not_call: int = 0
    impossible: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)  # by line, do-not-call and impossible
    columns: list[str] = field(default_factory=list)  # the campaign's data schema's fields

    @property
    def sample(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """The first good rows as the agent will get them: (line, number, (column, value) each)."""
        found = []
        for row in self.good[:SAMPLE_ROWS]:
            variables = (row.assistant_overrides or {}).get("variableValues") or {}
            cells = [(c, "" if variables.get(c) is None else str(variables[c])) for c in self.columns]
            found.append((row.source.removeprefix("line "), row.number or row.sip_uri, cells))
        return found

    @property
    def empty(self) -> bool:
        return not self.text.strip()

    @property
    def blocked(self) -> bool:
        """Problems no "drop the bad rows" can fix (no header, not UTF-8, too big)."""
        return bool(self.problems)

    @property
    def clean(self) -> bool:
        return not self.bad and not self.problems

    @property
    def bad_shown(self) -> list[BadRow]:
        return self.bad[:BAD_ROWS_SHOWN]

    @property
    def rows(self) -> int:
        return len(self.good) + len(self.bad)


def text_from(upload: UploadedFile | None, pasted: str) -> tuple[str, list[str]]:
    """The CSV text: a new upload wins over the paste box. Returns (text, problems)."""
    if upload is None:
        return pasted.replace("\r\n", "\n"), []
    raw = upload.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        return "", [f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: {BIG_LIST_HINT}."]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", ["The file is not UTF-8 text: save it as “CSV UTF-8” and upload it again."]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def _headerless(text: str) -> bool:
    """A pasted column of numbers with no header line (its first cell is a number, and alone)."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    cells = first.replace(";", ",").split(",")
    return len(cells) == 1 and bool(re.fullmatch(r"\s*\+?[\d ()-]+\s*", cells[0]))


def read_sheet(
    text: str,
    *,
    label: str,
    seen: dict[str, str],
    problems: list[str] | None = None,
    schema: dict | None = None,
) -> CustomerSheet:
    """Parse one sheet. `seen` maps numbers already read (in this campaign) to where; it is updated.
    With the campaign's data `schema`, each row's variables must meet it (a row that does not is a
    bad row, each failure named by field), and its fields are the preview's columns."""
    checker = Checker(schema) if schema else None
    sheet = CustomerSheet(
        label=label, text=text, problems=list(problems or []), columns=checker.fields() if checker else []
    )
    if sheet.problems or sheet.empty:
        return sheet
    offset = 1 if _headerless(text) else 0
    source = parse_customers_csv(io.StringIO(("number\n" if offset else "") + text))
    lines = text.split("\n")
    by_line: dict[int, BadRow] = {}

    def bad(line: int, reason: str) -> None:
        row = by_line.get(line)
        if row is None:
            row = by_line[line] = BadRow(line, lines[line - 1][:200] if 0 < line <= len(lines) else "")
        row.reasons.append(reason)

    for row in source:
        line = int(_LINE.match(row.source).group(1)) - offset
        row.source = f"line {line}"
        if row.number and row.number in seen:
            bad(line, f"number {row.number} is already on {seen[row.number]}")
            continue
        failures = variable_errors(checker, row) if checker is not None else []
        for failure in failures:  # "line 3.assistantOverrides.variableValues.plan" -> "plan"
            where = failure.field.split("variableValues", 1)[1].lstrip(".")
            bad(line, f"{where or 'The data'}: {failure.message}")
        if failures:
            continue
        if row.number:
            seen[row.number] = f"line {line}" + (f" of {label}" if label != "Customers" else "")
        sheet.good.append(row)
        if len(sheet.good) > MAX_ROWS:
            sheet.problems.append(f"The list has more than {MAX_ROWS:,} rows: {BIG_LIST_HINT}.")
            return sheet
    for error in source.errors:
        match = _LINE.match(error.field)
        if match is None or int(match.group(1)) - offset < 1 or (match.group(1) == "1" and not offset):
            where = "The header line" if error.field == "line 1" else "The list"
            hint = (
                " (the first line must name the columns, e.g. number,name,email)"
                if "column" in error.message
                else ""
            )
            sheet.problems.append(f"{where} {in_words('', error.message)}{hint}.")
            continue
        key = match.group(2)
        bad(int(match.group(1)) - offset, in_words(key, error.message))
    sheet.bad = sorted(by_line.values(), key=lambda r: r.line)
    return sheet


def count_skips(organization: Organization, sheets: list[CustomerSheet]) -> None:
    """Count, per sheet, numbers the services will save as skipped: do-not-call and impossible ones.

    Numbers are compared in canonical form, as the services store them (campaigns.phone)."""
    region = organization.default_region or None
    for sheet in sheets:
        rows = [r for r in sheet.good if r.number]
        canonical = [
            phone.customer_number(r.number, e164_check=r.number_e164_check_enabled, region=region)
            for r in rows
        ]
        numbers = [n for n in canonical if n is not None]
        blocked: set[str] = set()
        for start in range(0, len(numbers), 2000):
            blocked |= set(
                DoNotCall.objects.filter(
                    organization=organization, number__in=numbers[start : start + 2000]
                ).values_list("number", flat=True)
            )
        sheet.do_not_call = len(blocked)
        sheet.skipped = []
        for row, number in zip(rows, canonical, strict=True):
            line = int(row.source.removeprefix("line ")) if row.source.startswith("line ") else 0
            if number is None and row.number_e164_check_enabled:
                sheet.skipped.append(
                    SkippedRow(line, row.number, "not a possible phone number (too short or too long)")
                )
            elif number in blocked:
                sheet.skipped.append(SkippedRow(line, row.number, "on the do-not-call list"))
        sheet.impossible = sum(1 for s in sheet.skipped if s.why.startswith("not a possible"))
