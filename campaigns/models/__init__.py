"""The domain. Split by area; import everything from here."""

from __future__ import annotations

from campaigns.models.audience import CampaignAudience, ContactList, ListContact, Segment
from campaigns.models.audit import AuditEvent
from campaigns.models.call import (
    CALL_TYPES,
    STATUS_COUNTER,
    STATUS_RANK,
    Call,
    CallDirection,
    CallLog,
    CallLogKind,
    CallStatus,
    TranscriptLine,
    TranscriptRole,
)
from campaigns.models.campaign import (
    COUNTER_FIELDS,
    CUSTOMER_COUNTER_FIELDS,
    OUTCOME_COUNTER_FIELDS,
    TERMINAL_STATUSES,
    CallerIdPoolEntry,
    Campaign,
    CampaignEndedReason,
    CampaignStatus,
    DialingOrder,
    DialPlanEntry,
)
from campaigns.models.customer import Customer, CustomerState, customer_id
from campaigns.models.events import (
    ALWAYS_SENT,
    SERVER_MESSAGES,
    CampaignEvent,
    CampaignEventAttempt,
    EventState,
)
from campaigns.models.notifications import Alert, Notification, NotificationKind
from campaigns.models.org import ApiKey, Membership, Organization, Role, hash_api_key
from campaigns.models.series import CampaignSeries, Frequency
from campaigns.models.stats import CampaignSnapshot
from campaigns.models.telephony import (
    DoNotCall,
    DoNotCallSource,
    PhoneNumber,
    ProviderAccount,
    ProviderKind,
)

__all__ = [
    "CALL_TYPES",
    "COUNTER_FIELDS",
    "CUSTOMER_COUNTER_FIELDS",
    "OUTCOME_COUNTER_FIELDS",
    "TERMINAL_STATUSES",
    "STATUS_COUNTER",
    "ALWAYS_SENT",
    "SERVER_MESSAGES",
    "STATUS_RANK",
    "ApiKey",
    "AuditEvent",
    "Call",
    "CallerIdPoolEntry",
    "CallLog",
    "CallLogKind",
    "CallDirection",
    "CallStatus",
    "TranscriptLine",
    "TranscriptRole",
    "Campaign",
    "CampaignAudience",
    "CampaignEvent",
    "CampaignSnapshot",
    "CampaignSeries",
    "Frequency",
    "CampaignEventAttempt",
    "CampaignEndedReason",
    "CampaignStatus",
    "ContactList",
    "Customer",
    "CustomerState",
    "customer_id",
    "DialPlanEntry",
    "DialingOrder",
    "DoNotCall",
    "DoNotCallSource",
    "EventState",
    "ListContact",
    "Membership",
    "Alert",
    "Notification",
    "NotificationKind",
    "Organization",
    "PhoneNumber",
    "ProviderAccount",
    "ProviderKind",
    "Role",
    "Segment",
    "hash_api_key",
]
