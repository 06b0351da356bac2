"""Django admin for every model. Counters, calls and the audit trail are read-only;
lifecycle actions go through the services like everywhere else."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns import egress, services
from campaigns.models import (
    ApiKey,
    AuditEvent,
    Call,
    CallerIdPoolEntry,
    CallLog,
    Campaign,
    CampaignAudience,
    ContactList,
    Customer,
    DialPlanEntry,
    DoNotCall,
    ListContact,
    Membership,
    Organization,
    PhoneNumber,
    ProviderAccount,
    Segment,
)
from campaigns.services.strategy import ZONE_MESSAGE, is_time_zone


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by the services: viewable, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class OrganizationForm(forms.ModelForm):
    class Meta:
        model = Organization
        fields = "__all__"  # noqa: DJ007 - the admin's own readonly_fields narrow it

    def clean_time_zone(self) -> str:
        zone = self.cleaned_data["time_zone"]
        if not is_time_zone(zone):
            raise forms.ValidationError(ZONE_MESSAGE)
        return zone


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationForm
    # Compliance settings change on the organization's settings page only, where each change is
    # audited (services.organization_update): not here, where nothing would record who widened them.
    readonly_fields = [
        "recipient_earliest",
        "recipient_latest",
        "allow_ignoring_recipient_time",
        "call_numbers_without_time_zone",
        "default_region",
        "blackout_dates",
        "region_rules",
        "dialing_paused_at",
    ]
    list_display = [
        "name",
        "slug",
        "time_zone",
        "max_concurrent_calls",
        "recipient_earliest",
        "recipient_latest",
    ]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    autocomplete_fields = ["user", "organization"]


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "organization", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organization", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    exclude = ["hashed_key"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        done = 0
        for key in queryset.filter(revoked_at__isnull=True):
            services.api_key_revoke(key=key, by=request.user)
            done += 1
        self.message_user(request, f"Revoked {done} key(s).")


class ProviderAccountForm(forms.ModelForm):
    """The same base-URL rule as the dashboard and the API (campaigns.egress): never a private,
    loopback or link-local target unless PROVIDER_ALLOWED_HOSTS allows it."""

    class Meta:
        model = ProviderAccount
        fields = "__all__"  # noqa: DJ007 - the admin's own exclude narrows it

    def clean(self) -> dict:
        cleaned = super().clean()
        base_url = cleaned.get("base_url")
        if cleaned.get("kind") != "simulated" and base_url:
            try:
                egress.check_provider_url(base_url)
            except egress.ProviderUrlRefused as exc:
                self.add_error("base_url", exc.reason)
        return cleaned


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    form = ProviderAccountForm
    list_display = ["name", "kind", "organization", "base_url", "created_at", "deleted_at"]
    list_filter = ["kind", "organization"]
    search_fields = ["name", "base_url"]
    readonly_fields = ["webhook_token"]
    exclude = ["api_key", "webhook_secret"]  # secrets are shown once, in the dashboard


@admin.register(PhoneNumber)
class PhoneNumberAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "name",
        "organization",
        "provider_account",
        "country",
        "region",
        "area_code",
        "disabled",
        "max_concurrent_calls",
        "max_daily_calls",
        "rested_at",
        "deleted_at",
    ]
    list_filter = ["organization", "provider_account", "disabled", ("rested_at", admin.EmptyFieldListFilter)]
    search_fields = ["number", "name", "provider_phone_number_id", "area_code"]
    # Derived from the number, or set by the dialer (a rest) and lifted with the action below.
    readonly_fields = ["country", "region", "area_code", "rested_at", "rested_reason", "health_since"]
    actions = ["disable", "enable", "lift_rest"]

    def _switch(
        self, request: HttpRequest, queryset: QuerySet[PhoneNumber], verb: str, **kwargs: object
    ) -> None:
        for number in queryset:
            services.phone_number_update(phone_number=number, by=request.user, **kwargs)
        self.message_user(request, f"{verb} {queryset.count()} caller ID(s).")

    @admin.action(description="Disable selected caller IDs (never used, not even by queued calls)")
    def disable(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        self._switch(request, queryset, "Disabled", changes={"disabled": True})

    @admin.action(description="Enable selected caller IDs")
    def enable(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        self._switch(request, queryset, "Enabled", changes={"disabled": False})

    @admin.action(description="Lift the rest of selected caller IDs")
    def lift_rest(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        self._switch(request, queryset, "Lifted the rest of", changes={}, lift_rest=True)


class DialPlanEntryInline(admin.TabularInline):
    model = DialPlanEntry
    extra = 0
    can_delete = False
    readonly_fields = ["phone_number", "position"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CallerIdPoolEntryInline(admin.TabularInline):
    model = CallerIdPoolEntry
    extra = 0
    can_delete = False
    readonly_fields = ["phone_number", "position"]
    verbose_name_plural = "caller-ID pool (besides the campaign's own caller ID, its default)"

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "organization",
        "status",
        "customers_total",
        "customers_final",
        "calls_queued",
        "calls_in_progress",
        "calls_ended",
        "calls_ended_voicemail",
        "created_at",
    ]
    list_filter = ["status", "organization", "ended_reason", ("deleted_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "id"]
    date_hierarchy = "created_at"
    inlines = [DialPlanEntryInline, CallerIdPoolEntryInline]
    actions = ["start", "pause", "resume", "end"]

    def _apply(self, request: HttpRequest, queryset: QuerySet[Campaign], service, verb: str) -> None:
        done = 0
        for campaign in queryset:
            try:
                service(campaign=campaign, by=request.user)
                done += 1
            except services.DomainError as exc:
                self.message_user(request, f"{campaign.name}: {exc}", messages.WARNING)
        if done:
            self.message_user(request, f"{verb} {done} campaign(s).")

    @admin.action(description="Start selected campaigns")
    def start(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.campaign_start, "Started")

    @admin.action(description="Pause selected campaigns")
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.campaign_pause, "Paused")

    @admin.action(description="Resume selected campaigns")
    def resume(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.campaign_resume, "Resumed")

    @admin.action(description="End selected campaigns")
    def end(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._apply(request, queryset, services.campaign_end, "Ended")


@admin.register(DialPlanEntry)
class DialPlanEntryAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "phone_number", "position"]
    search_fields = ["campaign__name", "phone_number__number"]


@admin.register(Customer)
class CustomerAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "name",
        "campaign",
        "state",
        "attempts",
        "next_attempt_at",
        "last_outcome",
        "reason",
        "region",
    ]
    list_filter = ["state", "reason"]
    search_fields = ["number", "name", "email", "external_id"]
    list_select_related = ["campaign"]
    show_full_result_count = False  # campaigns run to millions of customers


class CallLogInline(admin.TabularInline):
    model = CallLog
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "http_status", "summary", "body"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "campaign",
        "customer",
        "attempt",
        "status",
        "ended_reason",
        "phone_number",
        "caller_id_choice",
        "duration_seconds",
        "cost",
        "created_at",
    ]
    list_filter = ["status", "campaign__organization"]
    search_fields = ["id", "provider_call_id", "customer__number", "ended_reason"]
    list_select_related = ["campaign", "customer", "phone_number"]
    inlines = [CallLogInline]
    show_full_result_count = False


@admin.register(CallLog)
class CallLogAdmin(ReadOnlyAdmin):
    list_display = ["call", "kind", "http_status", "summary", "created_at"]
    list_filter = ["kind"]
    search_fields = ["summary", "call__id"]


@admin.register(DoNotCall)
class DoNotCallAdmin(ReadOnlyAdmin):
    list_display = ["number", "organization", "source", "note", "created_at"]
    list_filter = ["source", "organization"]
    search_fields = ["number", "note"]
    actions = ["remove"]

    @admin.action(description="Remove selected numbers from the do-not-call list")
    def remove(self, request: HttpRequest, queryset: QuerySet[DoNotCall]) -> None:
        count = 0
        for entry in queryset:
            services.dnc_remove(entry=entry, by=request.user)
            count += 1
        self.message_user(request, f"Removed {count} number(s).")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "organization", "action", "target_type", "target_id", "actor", "api_key"]
    list_filter = ["action", "target_type", "organization"]
    search_fields = ["action", "target_id", "actor__username"]
    date_hierarchy = "created_at"


# -- audiences: written by the services (imports, snapshots); deleting a list goes through one --


class SegmentInline(admin.TabularInline):
    model = Segment
    extra = 0
    fields = ["name", "filter", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ContactList)
class ContactListAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "contacts_total", "updated_at"]
    list_filter = ["organization"]
    search_fields = ["name"]
    inlines = [SegmentInline]
    actions = ["delete_lists"]

    @admin.action(description="Delete selected lists (campaigns keep their customers and calls)")
    def delete_lists(self, request: HttpRequest, queryset: QuerySet[ContactList]) -> None:
        for contact_list in queryset.select_related("organization"):
            try:
                services.contact_list_delete(contact_list=contact_list, by=request.user)
            except services.InvalidTransition as refused:
                self.message_user(request, f"{contact_list.name}: {refused}", messages.ERROR)


@admin.register(ListContact)
class ListContactAdmin(ReadOnlyAdmin):
    list_display = ["number", "contact_list", "name", "consent_source", "consent_at", "time_zone", "region"]
    search_fields = ["number", "name", "external_id"]
    list_select_related = ["contact_list"]
    show_full_result_count = False  # lists hold millions of contacts


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "contact_list", "filter", "created_at"]
    search_fields = ["name", "filter"]


@admin.register(CampaignAudience)
class CampaignAudienceAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "label", "snapshot_at", "contacts_added", "duplicates", "do_not_call"]
    list_select_related = ["campaign"]
