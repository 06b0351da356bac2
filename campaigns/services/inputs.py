"""Plain values the services take. Adapters (API serializers, forms, importers) build them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass
class CustomerInput:
    """One row of Vapi's CreateCustomerDTO, already shape-checked by the caller."""

    number: str = ""
    sip_uri: str = ""
    extension: str = ""
    name: str = ""
    email: str = ""
    external_id: str = ""
    number_e164_check_enabled: bool = True
    assistant_overrides: dict | None = None
    squad_overrides: dict | None = None  # Vapi 2026, for squad campaigns
    time_zone: str = ""  # ours: the callee's IANA zone, which wins over the number's zones
    # Ours: where the callee lives, canonical (campaigns.places); its zones win over the number's.
    region: str = ""
    postal_code: str = ""
    metadata: dict | None = None  # ours: kept for reporting, never sent to the provider
    # Where the row came from, in the words of whoever read it, for error messages
    # ("customers.3", "line 7"): a duplicate is reported as "<source>.number duplicates <source>".
    source: str = ""


@dataclass
class DialPlanInput:
    phone_number_id: str
    customers: list[CustomerInput]


@dataclass
class CallerPoolInput:
    """Our callerIdPool: caller IDs besides the campaign's own (its default), and how to choose."""

    phone_number_ids: list[str]
    mode: str = "local-presence"  # rules.caller_ids.Mode
    weights: dict[str, Any] | None = None  # split mode: provider account id -> weight


@dataclass
class CampaignInput:
    name: str
    assistant_id: str | None = None
    workflow_id: str | None = None
    squad_id: str | None = None
    phone_number_id: str | None = None
    customers: list[CustomerInput] | None = None
    dial_plan: list[DialPlanInput] | None = None
    earliest_at: datetime | None = None
    latest_at: datetime | None = None
    # The dialing strategy by model field name (rules.strategy.FIELDS); None = Vapi's behaviour.
    strategy: dict[str, Any] | None = None
    # Vapi 2026: campaign-wide overrides, the campaign's own server and the events it wants there,
    # the pre-dial check, and the campaign to copy (its settings and, unless `customers` is given,
    # its customers). `given` lists which of these the caller set (a copy keeps the others).
    assistant_overrides: dict | None = None
    squad_overrides: dict | None = None
    server: dict | None = None
    server_messages: list[str] | None = None
    predial_plan: dict | None = None
    duplicate_from_id: str | None = None
    # Outcome settings given (services.outcome_settings.OUTCOME_FIELDS, model field names).
    outcomes: dict[str, Any] = field(default_factory=dict)
    caller_id_pool: CallerPoolInput | None = None
    api_version: int = 1
    given: set[str] = field(default_factory=set)


@dataclass
class CampaignChanges:
    """A partial update. Only the attributes listed in `fields` are applied."""

    fields: set[str] = field(default_factory=set)
    name: str = ""
    target: tuple[str, str] | None = None  # ("assistant_id" | "workflow_id" | "squad_id", value)
    phone_number_id: str | None = None
    dial_plan: list[DialPlanInput] | None = None
    earliest_at: datetime | None = None
    latest_at: datetime | None = None
    strategy: dict[str, Any] | None = None
    # The 2026 settings given (field name -> value, None clears): assistant_overrides,
    # squad_overrides, server, server_messages, predial_plan.
    settings: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, Any] = field(default_factory=dict)  # with "outcomes" in fields
    caller_id_pool: CallerPoolInput | None = None  # with "caller_id_pool" in fields; None removes it
    end: bool = False
    end_status: str = "ended"  # or "cancelled": Vapi's PATCH status says which


# The kind of a CallEvent that is one final line of a call's live transcript (services.transcripts).
TRANSCRIPT = "transcript"


@dataclass(frozen=True)
class CallEvent:
    """One thing a provider said about one call, in Vapi's vocabulary: what providers
    (dialer.providers) turn their callbacks and answers into, and what
    services.record_call_event records."""

    kind: str  # "status-update" | "end-of-call-report" | TRANSCRIPT
    status: str  # a Call.status value; "ended" for end-of-call reports; "" for a transcript line
    call_id: str = ""  # ours, echoed back in metadata
    provider_call_id: str = ""
    ended_reason: str = ""
    at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    cost: Decimal | None = None
    cost_unit: str = ""  # what cost is in: a currency ("USD") or the provider's unit ("credits")
    summary: str = ""
    transcript: str = ""
    recording_url: str = ""
    stereo_recording_url: str = ""
    analysis: dict[str, Any] | None = None  # the provider's own analysis object, stored as given
    # The structured result the voice agent extracted (Vapi: analysis.structuredData), checked
    # against the campaign's analysis schema; any provider may fill it.
    structured_data: dict[str, Any] | None = None
    raw: str = ""  # the body as received (truncated when stored)
    # A live transcript's line (kind TRANSCRIPT): who said `transcript` (TranscriptRole), at `at`.
    role: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v not in ("", None)}
        for key in ("at", "started_at", "ended_at"):
            if key in data:
                data[key] = data[key].isoformat()
        if "cost" in data:
            data["cost"] = str(data["cost"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallEvent:
        values = {"status": "", **data}  # to_json leaves out a transcript line's empty status
        for key in ("at", "started_at", "ended_at"):
            if values.get(key):
                values[key] = datetime.fromisoformat(values[key])
        if values.get("cost") is not None:
            values["cost"] = Decimal(values["cost"])
        return cls(**values)

    @property
    def dedupe_key(self) -> str:
        """Delivering the same event twice changes nothing: (call, kind, status) is recorded once."""
        return f"{self.kind}:{self.status}"


@dataclass
class ContactInput:
    """One contact of a contact list, shape-checked by the caller (campaigns.importers.contacts);
    the service puts its number in canonical form."""

    number: str
    name: str = ""
    email: str = ""
    external_id: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    consent_source: str = ""
    consent_at: datetime | None = None
    time_zone: str = ""
    region: str = ""  # canonical (campaigns.places), as CustomerInput's
    postal_code: str = ""
    source: str = ""  # "contacts.3", "line 7": how errors name the row


@dataclass(frozen=True)
class CustomerFilter:
    """The customers list's filter, for an action on every customer it matches (not only a page):
    the same values as selectors.campaign_customers takes ("" for any)."""

    state: str = ""
    reason: str = ""
    objective: str = ""
    q: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"state": self.state, "reason": self.reason, "objective": self.objective, "q": self.q}
