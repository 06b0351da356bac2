"""Every state change of the domain. Views, the API, the admin and tasks call these.

Split by area (a package rather than one services.py, which outgrew 300 lines);
import from here: ``from campaigns import services``.
"""

from __future__ import annotations

from campaigns.services.audit import Actor, audit_record
from campaigns.services.calls import (
    PlacementLost,
    call_confirm_placing,
    call_fail,
    call_log,
    call_placed,
    call_release,
    call_release_stalled,
    call_take_for_placing,
    call_withdraw,
    calls_answered,
    calls_confirm_placing,
    calls_take_for_placing,
    move_counters,
    record_call_event,
)
from campaigns.services.campaigns import (
    campaign_create,
    campaign_delete,
    campaign_end,
    campaign_finish,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_update,
)
from campaigns.services.customers import ImportResult, customers_add, customers_insert
from campaigns.services.directory import (
    api_key_create,
    api_key_revoke,
    dnc_add,
    dnc_remove,
    member_add,
    member_set_role,
    phone_number_create,
    phone_number_delete,
    provider_account_create,
)
from campaigns.services.errors import DomainError, FieldError, InvalidTransition, NotFound, ValidationFailed
from campaigns.services.inputs import CampaignChanges, CampaignInput, CustomerInput, DialPlanInput

__all__ = [
    "Actor",
    "CampaignChanges",
    "CampaignInput",
    "CustomerInput",
    "DialPlanInput",
    "DomainError",
    "FieldError",
    "ImportResult",
    "InvalidTransition",
    "NotFound",
    "PlacementLost",
    "ValidationFailed",
    "api_key_create",
    "api_key_revoke",
    "audit_record",
    "call_confirm_placing",
    "call_fail",
    "call_log",
    "call_placed",
    "call_release",
    "call_release_stalled",
    "call_take_for_placing",
    "calls_answered",
    "calls_confirm_placing",
    "calls_take_for_placing",
    "call_withdraw",
    "campaign_create",
    "campaign_delete",
    "campaign_end",
    "campaign_finish",
    "campaign_pause",
    "campaign_resume",
    "campaign_start",
    "campaign_update",
    "customers_add",
    "customers_insert",
    "dnc_add",
    "dnc_remove",
    "member_add",
    "member_set_role",
    "move_counters",
    "phone_number_create",
    "phone_number_delete",
    "provider_account_create",
    "record_call_event",
]
