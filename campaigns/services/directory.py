"""The organization's settings objects: API keys, caller IDs, provider accounts, do-not-call, members."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import phone
from campaigns.models import (
    TERMINAL_STATUSES,
    ApiKey,
    Campaign,
    Customer,
    CustomerState,
    DoNotCall,
    DoNotCallSource,
    Membership,
    Organization,
    PhoneNumber,
    ProviderAccount,
    Role,
)
from campaigns.rules import provider_settings as provider_rules
from campaigns.rules.reasons import Reason
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.providers import account_problems
from campaigns.services.tx import lock_campaigns, lock_organizations, retry_on_conflict

# Numbers per IN (...) list: SQLite allows 32,766 parameters a statement.
_CHUNK = 5000


@transaction.atomic
def api_key_create(*, organization: Organization, by: Actor, name: str) -> tuple[ApiKey, str]:
    """A new key; returns (key, raw). The raw key is never stored: show it once."""
    if not name.strip():
        raise ValidationFailed.one("name", "must not be empty")
    raw, prefix, hashed = ApiKey.generate()
    key = ApiKey.objects.create(
        organization=organization,
        name=name.strip()[:100],
        prefix=prefix,
        hashed_key=hashed,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    audit_record(
        organization=organization, by=by, action="api_key.create", target=key, after={"name": key.name}
    )
    return key, raw


def api_key_touch(*, key: ApiKey, now: datetime) -> None:
    """Note that a key was used (a hint for people, not an audit log: the caller decides how often)."""
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now


@transaction.atomic
def api_key_revoke(*, key: ApiKey, by: Actor) -> ApiKey:
    if key.revoked_at:
        raise InvalidTransition(action="revoke", current="revoked", detail="this key is already revoked")
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    audit_record(organization=key.organization, by=by, action="api_key.revoke", target=key)
    return key


@transaction.atomic
def phone_number_create(
    *,
    organization: Organization,
    by: Actor,
    number: str,
    provider_account: ProviderAccount,
    name: str = "",
    provider_phone_number_id: str = "",
) -> PhoneNumber:
    try:
        number = phone.to_e164(number, region=organization.default_region or None)
    except phone.InvalidNumber as exc:
        raise ValidationFailed.one("number", str(exc)) from None
    if provider_account.organization_id != organization.pk or provider_account.deleted_at:
        raise ValidationFailed.one(
            "provider_account", "does not name a provider account of this organization"
        )
    if PhoneNumber.objects.filter(organization=organization, number=number, deleted_at__isnull=True).exists():
        raise ValidationFailed.one("number", "is already a caller ID of this organization")
    created = PhoneNumber.objects.create(
        organization=organization,
        number=number,
        provider_account=provider_account,
        name=name[:100],
        provider_phone_number_id=provider_phone_number_id[:100],
    )
    audit_record(
        organization=organization,
        by=by,
        action="phone_number.create",
        target=created,
        after={"number": number},
    )
    return created


@transaction.atomic
def phone_number_delete(*, phone_number: PhoneNumber, by: Actor) -> PhoneNumber:
    """Retire a caller ID. Refused while a campaign that has not ended uses it."""
    in_use = Campaign.objects.filter(deleted_at__isnull=True).exclude(status__in=TERMINAL_STATUSES)
    if (
        in_use.filter(phone_number=phone_number).exists()
        or in_use.filter(dial_plan__phone_number=phone_number).exists()
        or in_use.filter(caller_pool__phone_number=phone_number).exists()
    ):
        raise InvalidTransition(
            action="delete",
            current="in use",
            detail="this caller ID is used by a campaign that has not ended",
        )
    phone_number.deleted_at = timezone.now()
    phone_number.save(update_fields=["deleted_at"])
    audit_record(
        organization=phone_number.organization, by=by, action="phone_number.delete", target=phone_number
    )
    return phone_number


def provider_account_create(
    *,
    organization: Organization,
    by: Actor,
    name: str,
    kind: str,
    base_url: str = "",
    api_key: str = "",
    webhook_secret: str = "",
    settings: dict | None = None,
) -> ProviderAccount:
    """A new provider account. Raises ValidationFailed: no name, a Vapi account without a base
    URL, or a base URL the worker must not send to (campaigns.egress: not http(s), credentials,
    a private, loopback or link-local host, a host that does not resolve), settings or
    credentials the kind refuses (campaigns.rules.provider_settings); nothing is saved then.
    `webhook_secret` is the provider console's signing secret (Bland, ElevenLabs); for the others
    Dialdeck makes one. Credentials are stored encrypted and never audited.
    """
    settings = {} if settings is None else settings
    errors = account_problems(kind=kind, name=name, base_url=base_url, settings=settings)
    errors += [
        FieldError(field, reason)
        for field, reason in provider_rules.credentials_problems(
            kind, api_key=bool(api_key), webhook_secret=bool(webhook_secret)
        )
    ]
    if errors:
        raise ValidationFailed(errors)
    # The check above resolves a host name: done before the transaction, never holding its lock.
    with transaction.atomic():
        account = ProviderAccount(
            organization=organization,
            name=name.strip(),
            kind=kind,
            base_url=base_url,
            api_key=api_key,
            settings=settings,
        )
        if webhook_secret:
            account.webhook_secret = webhook_secret
        account.save(force_insert=True)
        audit_record(
            organization=organization,
            by=by,
            action="provider_account.create",
            target=account,
            after={"name": account.name, "kind": kind},
        )
    return account


def _chunks(items: list[str]) -> list[list[str]]:
    return [items[start : start + _CHUNK] for start in range(0, len(items), _CHUNK)]


def skip_pending(organization: Organization, numbers: list[str]) -> int:
    """Customers not yet dialed whose number just joined the list are skipped at once.

    Each campaign's row is locked first (the house lock order), and its customers_final moves by
    the rows its UPDATE actually changed, never by a count read before. Customers already queued
    are stopped at the last gate, which reads the list again.

    Called while recording an opt-out, the caller already holds campaign rows (tx.campaigns_held):
    campaigns before the last of them are then taken without waiting (NOWAIT: the database refuses
    rather than risk a deadlock, and the caller's transaction is run again, see
    tx.retry_on_conflict and dialer.webhooks).
    """
    campaign_ids: set = set()
    for chunk in _chunks(numbers):
        pending = Customer.objects.filter(
            Customer.with_numbers(chunk), campaign__organization=organization, state=CustomerState.PENDING
        )
        campaign_ids |= set(pending.values_list("campaign_id", flat=True).distinct())
    lock_campaigns(campaign_ids, "no_key_update")
    skipped = 0
    for campaign_id in sorted(campaign_ids, key=str):
        changed = 0
        for chunk in _chunks(numbers):
            changed += Customer.objects.filter(
                Customer.with_numbers(chunk), campaign_id=campaign_id, state=CustomerState.PENDING
            ).update(
                state=CustomerState.SKIPPED,
                reason=Reason.DO_NOT_CALL,
                reason_detail="on the do-not-call list",
            )
        if changed:
            Campaign.objects.filter(pk=campaign_id).update(
                customers_final=F("customers_final") + changed,
                customers_pending=F("customers_pending") - changed,
                customers_skipped=F("customers_skipped") + changed,
            )
        skipped += changed
    return skipped


def dnc_add(
    *,
    organization: Organization,
    by: Actor,
    numbers: Iterable[tuple[str, str] | tuple[str, str, str]],
    source: str = DoNotCallSource.MANUAL,
) -> int:
    """Add numbers to the organization's do-not-call list. Returns how many were new.

    `numbers` are (number, note) or (number, note, where) as written, where names the input for
    errors (default `numbers.<i>`). Each is stored in canonical form (campaigns.phone.to_e164,
    the organization's default country for numbers written without one); numbers already
    listed are kept as they were. Pending customers with a new number are skipped at once.
    Raises ValidationFailed naming every bad one; nothing is saved then.
    """
    region = organization.default_region or None
    rows, errors, seen = [], [], set()
    for i, (raw, note, *where) in enumerate(numbers):
        try:
            number = phone.to_e164(raw, region=region)
        except phone.InvalidNumber as exc:
            errors.append(
                FieldError(where[0], str(exc)) if where else FieldError(f"numbers.{i}", f"{raw!r}: {exc}")
            )
            continue
        if number not in seen:
            seen.add(number)
            rows.append(
                DoNotCall(
                    organization=organization,
                    number=number,
                    source=source,
                    note=note[:200],
                    created_by=by if getattr(by, "is_authenticated", False) else None,
                )
            )
    errors += list(getattr(numbers, "errors", None) or [])  # a CSV parser's bad lines
    if errors:
        raise ValidationFailed(errors)
    return _dnc_insert(organization=organization, by=by, rows=rows)


@retry_on_conflict
def _dnc_insert(*, organization: Organization, by: Actor, rows: list[DoNotCall]) -> int:
    existing: set[str] = set()
    for chunk in _chunks([r.number for r in rows]):
        listed = DoNotCall.objects.filter(organization=organization, number__in=chunk)
        existing |= set(listed.values_list("number", flat=True))
    new = [r for r in rows if r.number not in existing]
    DoNotCall.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    skip_pending(organization, [r.number for r in new])
    audit_record(
        organization=organization, by=by, action="dnc.add", target=organization, after={"added": len(new)}
    )
    return len(new)


@transaction.atomic
def dnc_remove(*, entry: DoNotCall, by: Actor) -> None:
    audit_record(
        organization=entry.organization,
        by=by,
        action="dnc.remove",
        target=entry,
        before={"number": entry.number},
    )
    entry.delete()


@transaction.atomic
def member_add(
    *, organization: Organization, by: Actor, username: str, email: str, password: str, role: str
) -> Membership:
    """Invite someone by creating their account, with a role in the organization.

    An existing account is never taken over: an organization admin could otherwise pull any
    user (someone else's admin included) into their organization. Adding an existing account
    to a second organization is for a site administrator, in the Django admin.
    """
    if role not in Role.values:
        raise ValidationFailed.one("role", f"must be one of {', '.join(Role.values)}")
    user_model = get_user_model()
    if user_model.objects.filter(username__iexact=username).exists():
        raise ValidationFailed.one(
            "username",
            "is taken. Choose another; to add an existing account, ask your site administrator.",
        )
    user = user_model.objects.create_user(username=username, email=email, password=password)
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    audit_record(
        organization=organization,
        by=by,
        action="member.add",
        target=membership,
        after={"user": username, "role": role},
    )
    return membership


@retry_on_conflict
def member_set_role(*, membership: Membership, by: Actor, role: str) -> Membership:
    """Change a member's role. The organization row is locked first, so two admins demoting each
    other at once are counted one after the other: the organization always keeps an admin."""
    if role not in Role.values:
        raise ValidationFailed.one("role", f"must be one of {', '.join(Role.values)}")
    lock_organizations([membership.organization_id], "update")
    membership = Membership.objects.select_related("organization", "user").get(pk=membership.pk)
    admins = Membership.objects.filter(organization=membership.organization, role=Role.ADMIN)
    if membership.role == Role.ADMIN and role != Role.ADMIN and admins.count() == 1:
        raise ValidationFailed.one("role", "the organization's last admin cannot be demoted")
    before = {"role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        organization=membership.organization,
        by=by,
        action="member.set_role",
        target=membership,
        before=before,
        after={"role": role},
    )
    return membership
