"""The audit log as admins read it: newest first, filtered, a bounded page at a time."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from campaigns.models import AuditEvent, Organization

AUDIT_PAGE = 50


def audit_events(
    organization: Organization,
    *,
    action: str = "",
    actor: str = "",
    target_type: str = "",
    before: datetime | None = None,
) -> QuerySet[AuditEvent]:
    """The organization's audit events, newest first: `action` by prefix ("campaign." is every
    campaign change), `actor` by username, `target_type` exactly, `before` a moment (the pager's
    key). Callers slice it (AUDIT_PAGE)."""
    events = AuditEvent.objects.filter(organization=organization).select_related("actor", "api_key")
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor__username=actor)
    if target_type:
        events = events.filter(target_type=target_type)
    if before is not None:
        events = events.filter(created_at__lt=before)
    return events.order_by("-created_at", "-id")
