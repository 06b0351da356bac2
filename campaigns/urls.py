"""The dashboard's routes, mounted under /app/ (config/urls.py). No trailing slashes, like the API's."""

from __future__ import annotations

from django.urls import path

from campaigns.views import (
    admin_pages,
    campaign_builder,
    campaign_detail,
    campaign_list,
    campaign_outcome_settings,
    campaign_series,
    directory,
    organization,
)

app_name = "campaigns"

urlpatterns = [
    path("campaigns", campaign_list.campaign_list, name="list"),
    path("campaigns/new", campaign_builder.campaign_create, name="create"),
    path("campaigns/<uuid:pk>", campaign_detail.campaign_detail, name="detail"),
    path("campaigns/<uuid:pk>/edit", campaign_builder.campaign_edit, name="edit"),
    path("campaigns/<uuid:pk>/status", campaign_detail.campaign_status, name="status"),
    path("campaigns/<uuid:pk>/counters", campaign_detail.campaign_counters, name="counters"),
    path("campaigns/<uuid:pk>/waiting", campaign_detail.campaign_waiting, name="waiting"),
    path("campaigns/<uuid:pk>/charts", campaign_detail.campaign_charts, name="charts"),
    path("campaigns/<uuid:pk>/customers", campaign_detail.campaign_customers, name="customers"),
    path("campaigns/<uuid:pk>/calls", campaign_detail.campaign_calls, name="calls"),
    path("campaigns/<uuid:pk>/calls/<uuid:call_pk>", campaign_detail.campaign_call, name="call"),
    path("campaigns/<uuid:pk>/export.csv", campaign_detail.campaign_export, name="export"),
    path("campaigns/<uuid:pk>/events", campaign_detail.campaign_events, name="events"),
    path("campaigns/<uuid:pk>/events/<uuid:event_pk>", campaign_detail.campaign_event, name="event"),
    path("campaigns/<uuid:pk>/delete", campaign_detail.campaign_delete, name="delete"),
    path(
        "campaigns/<uuid:pk>/outcome-settings",
        campaign_outcome_settings.campaign_outcome_settings,
        name="outcome-settings",
    ),
    path("campaigns/<uuid:pk>/rerun", campaign_series.campaign_rerun, name="rerun"),
    path("campaigns/<uuid:pk>/recurrence", campaign_series.campaign_recurrence, name="recurrence"),
    path(
        "campaigns/<uuid:pk>/recurrence/new",
        campaign_series.campaign_recurrence_create,
        name="recurrence-create",
    ),
    path(
        "campaigns/<uuid:pk>/recurrence/stop",
        campaign_series.campaign_recurrence_stop,
        name="recurrence-stop",
    ),
    *[
        path(
            f"campaigns/<uuid:pk>/{action}",
            campaign_detail.campaign_transition,
            {"action": action},
            name=action,
        )
        for action in campaign_detail.TRANSITIONS
    ],
    path("organization", campaign_list.organization_switch, name="switch-organization"),
    path("organization/settings", organization.organization_settings, name="organization-settings"),
    path("organization/pause", organization.organization_pause, name="organization-pause"),
    path("organization/resume", organization.organization_resume, name="organization-resume"),
    path(
        "organization/signing-secret",
        organization.organization_signing_secret,
        name="organization-signing-secret",
    ),
    path("do-not-call", directory.do_not_call, name="do-not-call"),
    path("do-not-call/add", directory.do_not_call_add, name="do-not-call-add"),
    path("do-not-call/import", directory.do_not_call_import, name="do-not-call-import"),
    path("do-not-call/<uuid:pk>/remove", directory.do_not_call_remove, name="do-not-call-remove"),
    path("caller-ids", directory.caller_ids, name="caller-ids"),
    path("caller-ids/add", directory.caller_id_add, name="caller-id-add"),
    path("caller-ids/<uuid:pk>/remove", directory.caller_id_remove, name="caller-id-remove"),
    path("providers", admin_pages.providers, name="providers"),
    path("providers/add", admin_pages.provider_add, name="provider-add"),
    path("api-keys", admin_pages.api_keys, name="api-keys"),
    path("api-keys/add", admin_pages.api_key_add, name="api-key-add"),
    path("api-keys/<uuid:pk>/revoke", admin_pages.api_key_revoke, name="api-key-revoke"),
    path("members", admin_pages.members, name="members"),
    path("members/add", admin_pages.member_add, name="member-add"),
    path("members/<int:pk>/role", admin_pages.member_role, name="member-role"),
]
