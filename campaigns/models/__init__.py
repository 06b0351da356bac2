"""The domain. Split by area; import everything from here."""

from __future__ import annotations

from campaigns.models.audit import AuditEvent
from campaigns.models.call import (
    STATUS_COUNTER,
    STATUS_RANK,
    Call,
    CallLog,
    CallLogKind,
    CallStatus,
)
from campaigns.models.campaign import (
    COUNTER_FIELDS,
    Campaign,
    CampaignEndedReason,
    CampaignStatus,
    DialingOrder,
    DialPlanEntry,
)
from campaigns.models.customer import Customer, CustomerState
from campaigns.models.org import ApiKey, Membership, Organization, Role, hash_api_key
from campaigns.models.telephony import (
    DoNotCall,
    DoNotCallSource,
    PhoneNumber,
    ProviderAccount,
    ProviderKind,
)

__all__ = [
    "COUNTER_FIELDS",
    "STATUS_COUNTER",
    "STATUS_RANK",
    "ApiKey",
    "AuditEvent",
    "Call",
    "CallLog",
    "CallLogKind",
    "CallStatus",
    "Campaign",
    "CampaignEndedReason",
    "CampaignStatus",
    "Customer",
    "CustomerState",
    "DialPlanEntry",
    "DialingOrder",
    "DoNotCall",
    "DoNotCallSource",
    "Membership",
    "Organization",
    "PhoneNumber",
    "ProviderAccount",
    "ProviderKind",
    "Role",
    "hash_api_key",
]
