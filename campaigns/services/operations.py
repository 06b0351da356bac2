"""A supervisor's everyday actions on customers: cancel them, call them again now, move them to
another campaign; on the chosen ones (at most MAX_CHOSEN ids) or on every customer the list's
filter matches (a CustomerFilter: not only the page shown).

Each locks the campaign rows first (the house lock order, services.tx: campaigns by id, then
customers), changes only customers still pending with one conditional UPDATE, moves the stored
counters by the rows it changed in the same transaction, and leaves an audit event with what it
was asked (the choice or the filter, and the count the person confirmed) and what it changed.
Customers in a call (queued or dialing) are left alone: their call finishes and decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import F, Max, Min, QuerySet, Value
from django.db.models.functions import Mod

from campaigns import clock
from campaigns.models import Campaign, Customer, CustomerState, DialingOrder
from campaigns.rules import contacts
from campaigns.rules.reasons import Reason
from campaigns.selectors.campaigns import MOVE_INTO
from campaigns.selectors.customers import campaign_customers
from campaigns.services.audit import Actor, audit_record
from campaigns.services.calls import move_counters
from campaigns.services.customers import _RANDOM_MULTIPLIER
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.inputs import CustomerFilter
from campaigns.services.tx import lock_campaigns, retry_on_conflict

MAX_CHOSEN = 1000


def _chosen(ids: Iterable[object]) -> list[object]:
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed([FieldError("customers", "choose at least one customer")])
    if len(ids) > MAX_CHOSEN:
        raise ValidationFailed([FieldError("customers", f"choose at most {MAX_CHOSEN:,} customers at once")])
    return ids


def filter_refusal(matching: CustomerFilter, doing: str) -> FieldError | None:
    """Why an action on every customer `matching` is refused before it starts, or None: a filter
    for customers in another state than pending (nothing it matches could be changed)."""
    if matching.state and matching.state != CustomerState.PENDING:
        return FieldError(
            "state",
            f"only customers still waiting (pending) can be {doing}; "
            f"this filter chooses {matching.state} ones",
        )
    return None


def _targets(
    campaign: Campaign, customer_ids: Iterable[object] | None, matching: CustomerFilter | None, doing: str
) -> tuple[QuerySet[Customer], dict[str, object]]:
    """The pending customers an action applies to, and what it was asked (for the audit).

    Exactly one of `customer_ids` and `matching`. A filter for customers in another state than
    pending is refused (field `state`): nothing it matches could be changed."""
    if (customer_ids is None) == (matching is None):
        raise ValueError("give customer_ids or matching, not both")
    if matching is not None:
        refused = filter_refusal(matching, doing)
        if refused is not None:
            raise ValidationFailed([refused])
        try:
            rows = campaign_customers(campaign, **matching.as_dict())
        except ValueError as exc:
            raise ValidationFailed([FieldError("objective", str(exc))]) from None
        asked: dict[str, object] = {"filter": {k: v for k, v in matching.as_dict().items() if v}}
    else:
        ids = _chosen(customer_ids)
        rows, asked = Customer.objects.filter(campaign=campaign, pk__in=ids), {"chosen": len(ids)}
    return rows.filter(state=CustomerState.PENDING).order_by(), asked


@retry_on_conflict
def customers_cancel(
    *,
    campaign: Campaign,
    by: Actor,
    customer_ids: Iterable[object] | None = None,
    matching: CustomerFilter | None = None,
    confirmed: int | None = None,
) -> int:
    """Cancel the chosen customers of `campaign`, or every one `matching` the filter, who are still
    pending; returns how many. `confirmed`: the count the person was shown (audited).

    Raises ValidationFailed (field `customers`: none or too many chosen; `state`: a filter for
    customers who are not pending), InvalidTransition for a campaign that has ended (its
    customers are settled)."""
    lock_campaigns([campaign.pk], "no_key_update")
    fresh = Campaign.objects.get(pk=campaign.pk)
    if fresh.has_ended:
        raise InvalidTransition(action="cancel customers of", current=fresh.status)
    rows, asked = _targets(fresh, customer_ids, matching, "cancelled")
    changed = rows.update(
        state=CustomerState.CANCELLED, reason=Reason.CANCELLED, reason_detail="cancelled by a supervisor"
    )
    moves = contacts.moved(CustomerState.PENDING, "", CustomerState.CANCELLED, Reason.CANCELLED, changed)
    move_counters(fresh.pk, customers_final=changed, **moves)
    audit_record(
        organization=fresh.organization,
        by=by,
        action="customers.cancel",
        target=fresh,
        after={**asked, **_confirmed(confirmed), "cancelled": changed},
    )
    return changed


@retry_on_conflict
def customers_retry_now(
    *,
    campaign: Campaign,
    by: Actor,
    customer_ids: Iterable[object] | None = None,
    matching: CustomerFilter | None = None,
    confirmed: int | None = None,
) -> int:
    """Make the chosen pending customers of `campaign` (or every pending one `matching` the
    filter) due now (a retry delay or a wait for the dialer's next look is cut short; every other
    rule still applies when the dialer looks at them: calling hours, callee-local time,
    do-not-call, attempts). Returns how many. Raises as customers_cancel."""
    lock_campaigns([campaign.pk], "no_key_update")
    fresh = Campaign.objects.get(pk=campaign.pk)
    if fresh.has_ended:
        raise InvalidTransition(action="retry customers of", current=fresh.status)
    rows, asked = _targets(fresh, customer_ids, matching, "called again")
    now = clock.now()
    changed = rows.exclude(next_attempt_at__lte=now).update(next_attempt_at=now, reason="", reason_detail="")
    audit_record(
        organization=fresh.organization,
        by=by,
        action="customers.retry_now",
        target=fresh,
        after={**asked, **_confirmed(confirmed), "due_now": changed},
    )
    return changed


def movable(rows: QuerySet[Customer], to: Campaign) -> QuerySet[Customer]:
    """Of `rows`, the customers a move takes: pending and never called (those already called keep
    their calls' history with their campaign), whose number the target does not have already."""
    taken = Customer.objects.filter(campaign=to).exclude(number="").values("number")
    return rows.filter(state=CustomerState.PENDING, attempts=0).exclude(number__in=taken).order_by()


@retry_on_conflict
def customers_move(
    *,
    campaign: Campaign,
    to: Campaign,
    by: Actor,
    customer_ids: Iterable[object] | None = None,
    matching: CustomerFilter | None = None,
    confirmed: int | None = None,
) -> int:
    """Move the chosen customers of `campaign` (or every one `matching` the filter) into `to`, a
    scheduled or paused campaign of the same organization; returns how many moved.

    Only customers still waiting for their first call move (`movable`); a number `to` already has
    stays. Moved customers go after `to`'s own, in their order, due as soon as `to` dials. Both
    campaigns' counters move in the one transaction, which locks both campaign rows in id order
    and then changes the customers with one UPDATE.

    Raises ValidationFailed (field `to`: another organization's campaign, the same campaign, one
    that is not scheduled or paused, one with a dial plan; `customers` and `state` as
    customers_cancel), InvalidTransition when `campaign` has ended."""
    if to.organization_id != campaign.organization_id or to.pk == campaign.pk:
        raise ValidationFailed([FieldError("to", "choose another campaign of this organization")])
    lock_campaigns([campaign.pk, to.pk], "no_key_update")
    source, target = Campaign.objects.get(pk=campaign.pk), Campaign.objects.get(pk=to.pk)
    if source.has_ended:
        raise InvalidTransition(action="move customers of", current=source.status)
    if target.status not in MOVE_INTO or target.deleted_at is not None:
        raise ValidationFailed(
            [
                FieldError(
                    "to",
                    "customers move only into a scheduled or paused campaign; "
                    f"“{target.name}” is {target.status}",
                )
            ]
        )
    if target.uses_dial_plan:
        raise ValidationFailed(
            [
                FieldError(
                    "to",
                    f"“{target.name}” calls from a dial plan: "
                    "move customers into a campaign with one caller ID",
                )
            ]
        )
    rows, asked = _targets(source, customer_ids, matching, "moved")
    rows = movable(rows, target)
    first = rows.aggregate(first=Min("position"))["first"]
    moved = 0
    if first is not None:
        last = Customer.objects.filter(campaign=target).aggregate(last=Max("position"))["last"]
        shift = (-1 if last is None else last) + 1 - first
        position = F("position") + Value(shift)
        moved = rows.update(
            campaign=target,
            position=position,
            sort_key=_sort_key(target.dialing_order, position),
            dial_plan_entry=None,
            next_attempt_at=clock.now(),
            reason="",
            reason_detail="",
        )
    move_counters(source.pk, customers_total=-moved, customers_pending=-moved)
    move_counters(target.pk, customers_total=moved, customers_pending=moved)
    after = {**asked, **_confirmed(confirmed), "moved": moved}
    for one, other, action in ((source, target, "customers.move_out"), (target, source, "customers.move_in")):
        audit_record(
            organization=one.organization,
            by=by,
            action=action,
            target=one,
            after={**after, "campaign": str(other.pk), "campaign_name": other.name},
        )
    return moved


def _sort_key(order: str, position: F | Value) -> object:
    """services.customers.sort_key_for, as an expression over the new position (one UPDATE)."""
    if order == DialingOrder.LIFO:
        return -position
    if order == DialingOrder.RANDOM:
        return Mod(position * Value(_RANDOM_MULTIPLIER), Value(2_147_483_647))
    return position


__all__ = [
    "MOVE_INTO",
    "customers_cancel",
    "customers_move",
    "customers_retry_now",
    "filter_refusal",
    "movable",
]


def _confirmed(count: int | None) -> dict[str, int]:
    """The count the person was shown and confirmed, for the audit (when there was one)."""
    return {} if count is None else {"confirmed": count}
