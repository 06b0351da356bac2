"""Reads of an organization's directory: provider accounts, caller IDs, the do-not-call list,
API keys and members.

Every read is scoped to the organization; retired provider accounts and caller IDs are never
returned. Lookups of one row answer None for another organization's row, a missing one and a
malformed id. Nothing here writes.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from campaigns.models import ApiKey, DoNotCall, Membership, Organization, PhoneNumber, ProviderAccount
from campaigns.selectors.common import Page, as_uuid, newest_first

# -- provider accounts and caller IDs -----------------------------------------------------------


def provider_accounts_for(organization: Organization) -> QuerySet[ProviderAccount]:
    """The organization's provider accounts that have not been retired, by name."""
    return ProviderAccount.objects.filter(organization=organization, deleted_at__isnull=True).order_by("name")


def provider_account_for(organization: Organization, account_id: object) -> ProviderAccount | None:
    """One live provider account of the organization, or None."""
    pk = as_uuid(account_id)
    return None if pk is None else provider_accounts_for(organization).filter(pk=pk).first()


def provider_webhook_url(account: ProviderAccount) -> str:
    """The address to paste into the provider's console (dialer.urls' provider-webhook)."""
    path = reverse("provider-webhook", kwargs={"kind": account.kind, "token": account.webhook_token})
    return f"{settings.SITE_URL}{path}"


def phone_numbers_for(organization: Organization) -> QuerySet[PhoneNumber]:
    """The organization's caller IDs that have not been retired, by number."""
    return PhoneNumber.objects.filter(organization=organization, deleted_at__isnull=True).order_by(
        "number", "id"
    )


def phone_numbers_listed(
    organization: Organization,
    *,
    search: str = "",
    bounds: dict[str, datetime] | None = None,
    descending: bool = True,
) -> QuerySet[PhoneNumber]:
    """The organization's live caller IDs as Vapi lists phone numbers: newest first (ties by id),
    or oldest first; `search` in the number or (case-insensitive) the name; `bounds` on their
    creation ({"created_at__gte": datetime, ...})."""
    numbers = PhoneNumber.objects.filter(organization=organization, deleted_at__isnull=True)
    if search:
        numbers = numbers.filter(Q(number__icontains=search) | Q(name__icontains=search))
    if bounds:
        numbers = numbers.filter(**bounds)
    order = ("-created_at", "-id") if descending else ("created_at", "id")
    return numbers.order_by(*order)


def phone_number_for(organization: Organization, phone_number_id: object) -> PhoneNumber | None:
    """One live caller ID of the organization, or None."""
    pk = as_uuid(phone_number_id)
    return None if pk is None else phone_numbers_for(organization).filter(pk=pk).first()


# -- do-not-call ----------------------------------------------------------------------------------


def do_not_call_for(organization: Organization, *, number_contains: str = "") -> QuerySet[DoNotCall]:
    """The organization's do-not-call list, newest first; `number_contains` searches numbers."""
    entries = DoNotCall.objects.filter(organization=organization)
    if number_contains:
        entries = entries.filter(number__contains=number_contains)
    return entries.order_by("-created_at", "-id")


def do_not_call_page(
    organization: Organization, *, search: str = "", older_than: str = "", newer_than: str = ""
) -> Page:
    """50 entries of the do-not-call list, newest first, each with who added it; `search` matches
    part of a number or (case-insensitive) of a note. Page keys as common.newest_first writes them."""
    entries = do_not_call_for(organization).select_related("created_by", "call__campaign")
    if search:
        entries = entries.filter(Q(number__contains=search) | Q(note__icontains=search))
    return newest_first(entries, older_than=older_than, newer_than=newer_than, size=50)


def do_not_call_entry_for(organization: Organization, entry_id: object) -> DoNotCall | None:
    """One entry of the organization's do-not-call list, or None."""
    pk = as_uuid(entry_id)
    return None if pk is None else DoNotCall.objects.filter(organization=organization, pk=pk).first()


# -- API keys and members -------------------------------------------------------------------------


def api_keys_for(organization: Organization) -> QuerySet[ApiKey]:
    """The organization's API keys, revoked ones included, newest first, with who created each."""
    return (
        ApiKey.objects.filter(organization=organization).select_related("created_by").order_by("-created_at")
    )


def api_key_for(organization: Organization, key_id: object) -> ApiKey | None:
    """One API key of the organization (revoked or not), or None."""
    pk = as_uuid(key_id)
    return None if pk is None else ApiKey.objects.filter(organization=organization, pk=pk).first()


def members_for(organization: Organization) -> QuerySet[Membership]:
    """The organization's memberships with their users, by username."""
    return (
        Membership.objects.filter(organization=organization).select_related("user").order_by("user__username")
    )


def member_for(organization: Organization, membership_id: int) -> Membership | None:
    """One membership of the organization, with its user, or None."""
    return (
        Membership.objects.filter(organization=organization, pk=membership_id).select_related("user").first()
    )
