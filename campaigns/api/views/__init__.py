"""The REST API's views: one method per operation, each an input serializer, a service call
and an output serializer (selectors for reads)."""

from __future__ import annotations

from campaigns.api.views.audiences import (
    CampaignAudiencesApi,
    CampaignPreflightApi,
    CampaignSchemaApi,
    ContactListApi,
    ContactListContactsApi,
    ContactListListApi,
    ContactListSegmentsApi,
    SegmentApi,
)
from campaigns.api.views.calendar import (
    CampaignCalendarApi,
    OrganizationBlackoutApi,
    OrganizationRegionRulesApi,
)
from campaigns.api.views.campaigns import (
    CampaignApi,
    CampaignEndApi,
    CampaignListApi,
    CampaignPauseApi,
    CampaignResumeApi,
    CampaignStartApi,
)
from campaigns.api.views.campaigns_v2 import (
    CampaignV2Api,
    CampaignV2ContactsApi,
    CampaignV2ListApi,
    CampaignV2UnarchiveApi,
)
from campaigns.api.views.customers import CampaignCallsApi, CampaignCustomersApi, CampaignOutcomesApi
from campaigns.api.views.directory import (
    DoNotCallApi,
    DoNotCallListApi,
    PhoneNumberApi,
    PhoneNumberListApi,
    PhoneNumberPageApi,
)
from campaigns.api.views.docs import DocsView, SchemaView
from campaigns.api.views.organization import OrganizationUsageApi
from campaigns.api.views.providers import ProviderAccountApi, ProviderAccountListApi, ProviderAccountTestApi
from campaigns.api.views.series import CampaignRecurrenceApi, CampaignRerunApi, CampaignSeriesApi

__all__ = [
    "CampaignAudiencesApi",
    "CampaignPreflightApi",
    "CampaignCalendarApi",
    "OrganizationBlackoutApi",
    "OrganizationRegionRulesApi",
    "CampaignSchemaApi",
    "ContactListApi",
    "ContactListContactsApi",
    "ContactListListApi",
    "ContactListSegmentsApi",
    "SegmentApi",
    "OrganizationUsageApi",
    "ProviderAccountApi",
    "ProviderAccountListApi",
    "ProviderAccountTestApi",
    "CampaignApi",
    "CampaignCallsApi",
    "CampaignOutcomesApi",
    "CampaignCustomersApi",
    "CampaignEndApi",
    "CampaignListApi",
    "CampaignPauseApi",
    "CampaignRecurrenceApi",
    "CampaignRerunApi",
    "CampaignSeriesApi",
    "CampaignResumeApi",
    "CampaignStartApi",
    "CampaignV2Api",
    "CampaignV2ContactsApi",
    "CampaignV2ListApi",
    "CampaignV2UnarchiveApi",
    "DocsView",
    "DoNotCallApi",
    "DoNotCallListApi",
    "PhoneNumberApi",
    "PhoneNumberListApi",
    "PhoneNumberPageApi",
    "SchemaView",
]
