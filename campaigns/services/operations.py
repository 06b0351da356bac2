"""A supervisor's everyday actions on chosen customers: cancel them, call them again now.

Each locks the campaign row first (the house lock order, services.tx), moves only customers
still pending with a conditional UPDATE, moves the stored counters by the rows it changed in
the same transaction, and leaves one audit event with how many it asked for and changed.
Customers in a call (queued or dialing) are left alone: their call finishes and decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from campaigns import clock
from campaigns.models import Campaign, Customer, CustomerState
from campaigns.rules import contacts
from campaigns.rules.reasons import Reason
from campaigns.services.audit import Actor, audit_record
from campaigns.services.calls import move_counters
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.tx import lock_campaigns, retry_on_conflict

MAX_CHOSEN = 1000


def _chosen(campaign: Campaign, ids: Iterable[object]) -> list[object]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed([FieldError("customers", "choose at least one customer")])
    if len(ids) > MAX_CHOSEN:
        raise ValidationFailed([FieldError("customers", f"choose at most {MAX_CHOSEN:,} customers at once")])
    return ids


@retry_on_conflict
def customers_cancel(*, campaign: Campaign, by: Actor, customer_ids: Iterable[object]) -> int:
    """Cancel the chosen customers of `campaign` who are still pending; returns how many.

    Raises ValidationFailed (field `customers`) for none or too many, InvalidTransition for a
    campaign that has ended (its customers are settled)."""
    ids = _chosen(campaign, customer_ids)
    lock_campaigns([campaign.pk], "no_key_update")
    fresh = Campaign.objects.get(pk=campaign.pk)
    if fresh.has_ended:
        raise InvalidTransition(action="cancel customers of", current=fresh.status)
    changed = Customer.objects.filter(campaign=fresh, pk__in=ids, state=CustomerState.PENDING).update(
        state=CustomerState.CANCELLED, reason=Reason.CANCELLED, reason_detail="cancelled by a supervisor"
    )
    moves = contacts.moved(CustomerState.PENDING, "", CustomerState.CANCELLED, Reason.CANCELLED, changed)
    move_counters(fresh.pk, customers_final=changed, **moves)
    audit_record(
        organization=fresh.organization,
        by=by,
        action="customers.cancel",
        target=fresh,
        after={"chosen": len(ids), "cancelled": changed},
    )
    return changed


@retry_on_conflict
def customers_retry_now(*, campaign: Campaign, by: Actor, customer_ids: Iterable[object]) -> int:
    """Make the chosen pending customers of `campaign` due now (a retry delay or a wait for the
    dialer's next look is cut short; every other rule still applies when the dialer looks at
    them: calling hours, callee-local time, do-not-call, attempts). Returns how many.
    Raises as customers_cancel."""
    ids = _chosen(campaign, customer_ids)
    lock_campaigns([campaign.pk], "no_key_update")
    fresh = Campaign.objects.get(pk=campaign.pk)
    if fresh.has_ended:
        raise InvalidTransition(action="retry customers of", current=fresh.status)
    now = clock.now()
    changed = (
        Customer.objects.filter(campaign=fresh, pk__in=ids, state=CustomerState.PENDING)
        .exclude(next_attempt_at__lte=now)
        .update(next_attempt_at=now, reason="", reason_detail="")
    )
    audit_record(
        organization=fresh.organization,
        by=by,
        action="customers.retry_now",
        target=fresh,
        after={"chosen": len(ids), "due_now": changed},
    )
    return changed


__all__ = ["customers_cancel", "customers_retry_now"]
