"""Audit trail: every service that changes something records who, what and when."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from campaigns.models import ApiKey, AuditEvent, Organization

# Who asked for a change: a dashboard user, an API key, or None for the dialer itself.
Actor = AbstractBaseUser | ApiKey | None


def audit_record(
    *,
    organization: Organization,
    by: Actor,
    action: str,
    target: Any,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        organization=organization,
        actor=by if isinstance(by, AbstractBaseUser) else None,
        api_key=by if isinstance(by, ApiKey) else None,
        action=action,
        target_type=type(target).__name__.lower(),
        target_id=str(target.pk),
        before=before,
        after=after,
    )
