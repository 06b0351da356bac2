"""Every read shared by the API, the dashboard, the admin pages, forms and exports, by domain.

Import from here: ``from campaigns import selectors``. Each read says once what it means, for
whoever calls it; every one is scoped to an organization (or to a campaign the caller already
found within one). Selectors never write to the database: the only thing they store is the
dashboard's chart and waiting figures, cached for seconds in ``caches["pages"]``.

- campaigns: the organization's campaigns (the dashboard's list and Vapi's), one campaign;
- documents: what Vapi's campaign document lists (customers, calls, dial plan; capped at 10,000);
- customers, calls: a campaign's customers and calls, as querysets and as keyset pages;
- contacts: a campaign's customers as Vapi v2's contacts, with their latest calls;
- directory: provider accounts, caller IDs, do-not-call, API keys, members;
- dashboard: what only live monitoring needs (polling, fingerprints, waiting, charts);
- wallboard: what a campaign does now, its rates and trends, live calls, the organization overview;
- audiences: contact lists, their contacts and segments, what campaigns target;
- inbound: who is calling back (the campaigns that called a number), a campaign's inbound calls;
- common: ids from outside (as_uuid) and keyset pages (Page, newest_first).
"""

from __future__ import annotations

from campaigns.selectors.audiences import (
    campaign_audiences,
    contact_list_for,
    contact_lists_for,
    list_contacts,
    list_contacts_on_do_not_call,
    segment_for,
    segment_q,
)
from campaigns.selectors.caller_ids import (
    ComparisonRow,
    Health,
    caller_id_answers,
    caller_id_facts,
    caller_id_health,
    caller_id_usage,
    caller_pool,
    campaign_comparison,
    pool_numbers,
)
from campaigns.selectors.calls import (
    CALL_SORTS,
    OUTCOME_FILTERS,
    call_for,
    call_sort,
    call_transcript,
    calls_page,
    campaign_calls,
)
from campaigns.selectors.campaigns import (
    MOVE_INTO,
    CampaignFilters,
    campaign_for,
    campaigns_for,
    campaigns_listed,
    campaigns_read_again,
    campaigns_to_move_into,
    with_organizations,
)
from campaigns.selectors.common import Page, as_uuid, newest_first
from campaigns.selectors.contacts import Contact, campaign_contacts, contact_of, contacts_total
from campaigns.selectors.customers import (
    CUSTOMER_SORTS,
    OBJECTIVE_FILTERS,
    campaign_customers,
    customer_calls,
    customer_for,
    customer_sort,
    customers_page,
)
from campaigns.selectors.dashboard import (
    OUTCOME_LABELS,
    OutcomeSlice,
    WaitingGroup,
    calls_per_minute,
    customers_waiting_by_reason,
    is_watched,
    live_version,
    outcome_breakdown,
)
from campaigns.selectors.directory import (
    api_key_for,
    api_keys_for,
    do_not_call_entry_for,
    do_not_call_for,
    do_not_call_page,
    member_for,
    members_for,
    phone_number_for,
    phone_numbers_for,
    phone_numbers_listed,
    provider_account_for,
    provider_accounts_for,
    provider_webhook_url,
)
from campaigns.selectors.documents import DOCUMENT_LIMIT, Document, campaign_documents
from campaigns.selectors.inbound import inbound_calls_count
from campaigns.selectors.outcomes import (
    OutcomeSummary,
    campaign_outcome_summary,
    opt_outs_of_campaign,
    rerun_counts,
    series_of,
    series_runs,
)
from campaigns.selectors.preflight import campaign_preflight
from campaigns.selectors.sorting import Sort, SortField
from campaigns.selectors.usage import (
    Cost,
    OrganizationUsage,
    ProviderCost,
    campaign_costs,
    campaign_costs_by_provider,
    organization_usage,
    quota_refuses_calls,
)
from campaigns.selectors.wallboard import (
    OverviewRow,
    Rates,
    Tallies,
    TrendPoint,
    campaign_activity,
    campaign_forecast,
    campaign_live_calls,
    campaign_rates,
    campaign_tallies,
    campaign_trend,
    dialing_limits,
    live_calls_count,
    live_calls_counts,
    organization_overview,
    pacing_next_call,
)

__all__ = [
    "campaign_preflight",
    "inbound_calls_count",
    "ComparisonRow",
    "Health",
    "caller_id_answers",
    "caller_id_facts",
    "caller_id_health",
    "caller_id_usage",
    "caller_pool",
    "campaign_comparison",
    "pool_numbers",
    "OverviewRow",
    "Rates",
    "TrendPoint",
    "campaign_activity",
    "campaign_live_calls",
    "campaign_forecast",
    "campaign_rates",
    "campaign_tallies",
    "Tallies",
    "campaign_trend",
    "dialing_limits",
    "live_calls_count",
    "live_calls_counts",
    "organization_overview",
    "pacing_next_call",
    "campaign_audiences",
    "contact_list_for",
    "contact_lists_for",
    "list_contacts",
    "list_contacts_on_do_not_call",
    "segment_for",
    "segment_q",
    "provider_webhook_url",
    "Cost",
    "OrganizationUsage",
    "ProviderCost",
    "campaign_costs",
    "campaign_costs_by_provider",
    "organization_usage",
    "quota_refuses_calls",
    "DOCUMENT_LIMIT",
    "OUTCOME_LABELS",
    "CampaignFilters",
    "Contact",
    "Document",
    "OutcomeSlice",
    "Page",
    "WaitingGroup",
    "api_key_for",
    "api_keys_for",
    "as_uuid",
    "call_for",
    "call_transcript",
    "calls_page",
    "MOVE_INTO",
    "campaigns_to_move_into",
    "campaigns_read_again",
    "with_organizations",
    "CALL_SORTS",
    "OUTCOME_FILTERS",
    "call_sort",
    "CUSTOMER_SORTS",
    "customer_sort",
    "Sort",
    "SortField",
    "calls_per_minute",
    "campaign_calls",
    "campaign_contacts",
    "campaign_customers",
    "campaign_outcome_summary",
    "opt_outs_of_campaign",
    "rerun_counts",
    "series_of",
    "series_runs",
    "OutcomeSummary",
    "OBJECTIVE_FILTERS",
    "campaign_documents",
    "campaign_for",
    "campaigns_for",
    "campaigns_listed",
    "contact_of",
    "contacts_total",
    "customers_page",
    "customer_calls",
    "customer_for",
    "customers_waiting_by_reason",
    "do_not_call_entry_for",
    "do_not_call_for",
    "do_not_call_page",
    "is_watched",
    "live_version",
    "member_for",
    "members_for",
    "newest_first",
    "outcome_breakdown",
    "phone_number_for",
    "phone_numbers_for",
    "phone_numbers_listed",
    "provider_account_for",
    "provider_accounts_for",
]
