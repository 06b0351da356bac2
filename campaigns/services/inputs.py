"""Plain values the services take. Adapters (API serializers, forms, importers) build them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
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
    # Where the row came from, for error messages ("customers.3" or "line 7").
    source: str = ""


@dataclass
class DialPlanInput:
    phone_number_id: str
    customers: list[CustomerInput]


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
    # Model field names of the dialing strategy (see STRATEGY_FIELDS); None = Vapi's behaviour.
    strategy: dict[str, Any] | None = None


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
    end: bool = False
