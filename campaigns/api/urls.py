"""The REST API's routes, mounted at the site root: Vapi's paths have no prefix and no trailing slash."""

from __future__ import annotations

from django.urls import path

from campaigns.api import views

urlpatterns = [
    path("campaign", views.CampaignListApi.as_view(), name="api-campaigns"),
    path("campaign/<str:id>", views.CampaignApi.as_view(), name="api-campaign"),
    path("campaign/<str:id>/start", views.CampaignStartApi.as_view(), name="api-campaign-start"),
    path("campaign/<str:id>/pause", views.CampaignPauseApi.as_view(), name="api-campaign-pause"),
    path("campaign/<str:id>/resume", views.CampaignResumeApi.as_view(), name="api-campaign-resume"),
    path("campaign/<str:id>/end", views.CampaignEndApi.as_view(), name="api-campaign-end"),
    path("campaign/<str:id>/customers", views.CampaignCustomersApi.as_view(), name="api-campaign-customers"),
    path("campaign/<str:id>/calls", views.CampaignCallsApi.as_view(), name="api-campaign-calls"),
    path("campaign/<str:id>/outcomes", views.CampaignOutcomesApi.as_view(), name="api-campaign-outcomes"),
    path("campaign/<str:id>/rerun", views.CampaignRerunApi.as_view(), name="api-campaign-rerun"),
    path(
        "campaign/<str:id>/recurrence", views.CampaignRecurrenceApi.as_view(), name="api-campaign-recurrence"
    ),
    path("campaign/<str:id>/series", views.CampaignSeriesApi.as_view(), name="api-campaign-series"),
    path("v2/campaign", views.CampaignV2ListApi.as_view(), name="api-v2-campaigns"),
    path("v2/campaign/<str:id>", views.CampaignV2Api.as_view(), name="api-v2-campaign"),
    path(
        "v2/campaign/<str:id>/contacts",
        views.CampaignV2ContactsApi.as_view(),
        name="api-v2-campaign-contacts",
    ),
    path(
        "v2/campaign/<str:id>/unarchive",
        views.CampaignV2UnarchiveApi.as_view(),
        name="api-v2-campaign-unarchive",
    ),
    path("phone-number", views.PhoneNumberListApi.as_view(), name="api-phone-numbers"),
    path("v2/phone-number", views.PhoneNumberPageApi.as_view(), name="api-v2-phone-numbers"),
    path("phone-number/<str:id>", views.PhoneNumberApi.as_view(), name="api-phone-number"),
    path("provider-account", views.ProviderAccountListApi.as_view(), name="api-provider-accounts"),
    path("provider-account/<str:id>", views.ProviderAccountApi.as_view(), name="api-provider-account"),
    path(
        "provider-account/<str:id>/test-connection",
        views.ProviderAccountTestApi.as_view(),
        name="api-provider-account-test",
    ),
    path("organization/usage", views.OrganizationUsageApi.as_view(), name="api-organization-usage"),
    path("dnc", views.DoNotCallListApi.as_view(), name="api-dnc"),
    path("dnc/<str:id>", views.DoNotCallApi.as_view(), name="api-dnc-entry"),
    path("contact-list", views.ContactListListApi.as_view(), name="api-contact-lists"),
    path("contact-list/<str:id>", views.ContactListApi.as_view(), name="api-contact-list"),
    path(
        "contact-list/<str:id>/contacts",
        views.ContactListContactsApi.as_view(),
        name="api-contact-list-contacts",
    ),
    path(
        "contact-list/<str:id>/segments",
        views.ContactListSegmentsApi.as_view(),
        name="api-contact-list-segments",
    ),
    path("segment/<str:id>", views.SegmentApi.as_view(), name="api-segment"),
    path("campaign/<str:id>/calendar", views.CampaignCalendarApi.as_view(), name="api-campaign-calendar"),
    path(
        "organization/blackout-dates",
        views.OrganizationBlackoutApi.as_view(),
        name="api-organization-blackout",
    ),
    path(
        "organization/region-rules",
        views.OrganizationRegionRulesApi.as_view(),
        name="api-organization-region-rules",
    ),
    path("campaign/<str:id>/schema", views.CampaignSchemaApi.as_view(), name="api-campaign-schema"),
    path("campaign/<str:id>/audiences", views.CampaignAudiencesApi.as_view(), name="api-campaign-audiences"),
    path("campaign/<str:id>/preflight", views.CampaignPreflightApi.as_view(), name="api-campaign-preflight"),
    path("api/schema", views.SchemaView.as_view(), name="api-schema"),
    path("api/docs", views.DocsView.as_view(), name="api-docs"),
]
