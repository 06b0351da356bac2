"""Every state change of the domain. Views, the API, the admin and tasks call these.

Split by area (a package rather than one services.py, which outgrew 300 lines);
import from here: ``from campaigns import services``.
"""

from __future__ import annotations

from campaigns.services.alerts import alerts_sweep
from campaigns.services.audiences import (
    ContactImportResult,
    audiences_snapshot,
    campaign_audiences_set,
    contact_list_create,
    contact_list_delete,
    contacts_import,
    segment_create,
    segment_delete,
)
from campaigns.services.audit import Actor, audit_record
from campaigns.services.calendar import (
    campaign_calendar_set,
    organization_blackout_add,
    organization_blackout_remove,
    organization_blackout_set,
    organization_region_rule_add,
    organization_region_rule_remove,
    organization_region_rules_set,
)
from campaigns.services.caller_ids import caller_ids_rest, caller_pool_set, phone_number_update
from campaigns.services.calls import (
    call_fail,
    call_log,
    call_release,
    call_release_stalled,
    calls_withdraw,
    move_counters,
    move_counters_many,
    record_call_event,
    record_call_events,
    sane_event,
)
from campaigns.services.campaigns import (
    Waiting,
    campaign_archive,
    campaign_create,
    campaign_delete,
    campaign_end,
    campaign_finish,
    campaign_is_exhausted,
    campaign_pause,
    campaign_resume,
    campaign_start,
    campaign_unarchive,
    campaign_update,
    campaigns_set_waiting,
)
from campaigns.services.customers import ImportResult, customers_add, customers_insert
from campaigns.services.directory import (
    api_key_create,
    api_key_revoke,
    api_key_touch,
    dnc_add,
    dnc_remove,
    member_add,
    member_set_role,
    phone_number_create,
    phone_number_delete,
    provider_account_create,
)
from campaigns.services.errors import DomainError, FieldError, InvalidTransition, NotFound, ValidationFailed
from campaigns.services.events import (
    DeliveryAttempt,
    event_attempts_record,
    event_emit,
    events_emit,
    events_take,
)
from campaigns.services.inbound import InboundResult, inbound_call_receive
from campaigns.services.inputs import (
    CallerPoolInput,
    CallEvent,
    CampaignChanges,
    CampaignInput,
    ContactInput,
    CustomerFilter,
    CustomerInput,
    DialPlanInput,
)
from campaigns.services.notifications import (
    membership_set_email_notifications,
    notifications_read,
    notify_campaign_finished,
)
from campaigns.services.operations import (
    MOVE_INTO,
    customers_cancel,
    customers_move,
    customers_retry_now,
    filter_refusal,
    movable,
)
from campaigns.services.organization import (
    OrganizationChanges,
    organization_pause,
    organization_resume,
    organization_signing_secret_rotate,
    organization_update,
)
from campaigns.services.providers import provider_account_update, provider_credentials_reencrypt
from campaigns.services.reruns import campaign_rerun
from campaigns.services.schemas import KEEP as KEEP_SCHEMA
from campaigns.services.schemas import campaign_schema_set
from campaigns.services.series import series_create, series_run_due, series_runs_due, series_stop
from campaigns.services.tx import dry_run
from campaigns.services.wallboard import campaign_snapshots_take

__all__ = [
    "dry_run",
    "InboundResult",
    "inbound_call_receive",
    "CallerPoolInput",
    "caller_ids_rest",
    "caller_pool_set",
    "phone_number_update",
    "ContactImportResult",
    "ContactInput",
    "audiences_snapshot",
    "campaign_audiences_set",
    "campaign_schema_set",
    "KEEP_SCHEMA",
    "campaign_calendar_set",
    "organization_blackout_set",
    "organization_blackout_add",
    "organization_blackout_remove",
    "organization_region_rule_add",
    "organization_region_rule_remove",
    "organization_region_rules_set",
    "contact_list_create",
    "contact_list_delete",
    "contacts_import",
    "segment_create",
    "segment_delete",
    "provider_credentials_reencrypt",
    "provider_account_update",
    "Actor",
    "CallEvent",
    "CampaignChanges",
    "CampaignInput",
    "CustomerFilter",
    "CustomerInput",
    "DialPlanInput",
    "DomainError",
    "FieldError",
    "ImportResult",
    "InvalidTransition",
    "NotFound",
    "OrganizationChanges",
    "ValidationFailed",
    "api_key_create",
    "api_key_revoke",
    "api_key_touch",
    "audit_record",
    "call_fail",
    "call_log",
    "call_release",
    "call_release_stalled",
    "calls_withdraw",
    "campaign_create",
    "campaign_delete",
    "campaign_end",
    "campaign_finish",
    "campaign_is_exhausted",
    "campaign_pause",
    "campaign_resume",
    "campaign_snapshots_take",
    "customers_cancel",
    "customers_move",
    "MOVE_INTO",
    "filter_refusal",
    "movable",
    "membership_set_email_notifications",
    "notifications_read",
    "alerts_sweep",
    "notify_campaign_finished",
    "customers_retry_now",
    "campaign_start",
    "campaign_unarchive",
    "campaign_archive",
    "campaign_update",
    "campaign_rerun",
    "series_create",
    "series_run_due",
    "series_runs_due",
    "series_stop",
    "customers_add",
    "customers_insert",
    "dnc_add",
    "DeliveryAttempt",
    "event_attempts_record",
    "event_emit",
    "events_take",
    "events_emit",
    "dnc_remove",
    "member_add",
    "member_set_role",
    "move_counters",
    "move_counters_many",
    "campaigns_set_waiting",
    "Waiting",
    "organization_pause",
    "organization_signing_secret_rotate",
    "organization_resume",
    "organization_update",
    "phone_number_create",
    "phone_number_delete",
    "provider_account_create",
    "record_call_event",
    "record_call_events",
    "sane_event",
]
