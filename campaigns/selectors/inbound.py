"""Who is calling back (rules.inbound): the campaigns that called a number from a caller ID.

One small, indexed read per inbound call, answered while the provider waits: the customers with
the caller's canonical number that were ever dialed (the partial index customer_dialed_number),
in the organization's campaigns that still run, are paused or ended, with when an outbound call
from the called caller ID last reached them. Which of them answers is rules.inbound.match's.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max, Q

from campaigns.models import Call, Customer, DoNotCall, PhoneNumber
from campaigns.rules.inbound import ENDED_STATUSES, LIVE_STATUSES, WINDOW, Candidate

# At most this many campaigns are read for one caller (the newest calls first).
CANDIDATE_LIMIT = 50


def inbound_candidates(
    *, organization_id: object, caller: str, called: str, now: datetime
) -> list[Candidate]:
    """The campaigns of the organization whose outbound calls from caller ID `called` reached
    the number `caller` (both canonical E.164) since WINDOW before `now`, as rules.inbound's
    candidates."""
    statuses = (*LIVE_STATUSES, *ENDED_STATUSES)
    called_from = Q(
        calls__direction="outbound",
        calls__phone_number__number=called,
        calls__created_at__gte=now - WINDOW,
    )
    rows = (
        Customer.objects.filter(
            number=caller,
            dialed_at__isnull=False,
            campaign__organization_id=organization_id,
            campaign__status__in=statuses,
            campaign__deleted_at__isnull=True,
        )
        .annotate(last_called_at=Max("calls__created_at", filter=called_from))
        .filter(last_called_at__isnull=False)
        .order_by("-last_called_at")
        .values(
            "pk",
            "campaign_id",
            "campaign__status",
            "campaign__ended_at",
            "campaign__inbound_mode",
            "campaign__inbound_rejection_message",
            "campaign__inbound_route_do_not_call",
            "last_called_at",
        )[:CANDIDATE_LIMIT]
    )
    return [
        Candidate(
            campaign_id=str(row["campaign_id"]),
            customer_id=str(row["pk"]),
            campaign_status=row["campaign__status"],
            campaign_ended_at=row["campaign__ended_at"],
            last_called_at=row["last_called_at"],
            mode=row["campaign__inbound_mode"],
            message=row["campaign__inbound_rejection_message"],
            route_do_not_call=row["campaign__inbound_route_do_not_call"],
        )
        for row in rows
    ]


def caller_id_for(
    *, organization_id: object, account_id: object, number: str, provider_id: str = ""
) -> PhoneNumber | None:
    """The organization's live caller ID `number` (canonical) on provider account `account_id`;
    without a number, the one with the provider's id `provider_id` (Vapi's phoneNumberId)."""
    if not number:
        if not provider_id:
            return None
        found = PhoneNumber.objects.filter(organization_id=organization_id, provider_account_id=account_id)
        return found.filter(provider_phone_number_id=provider_id, deleted_at__isnull=True).first()
    return PhoneNumber.objects.filter(
        organization_id=organization_id,
        provider_account_id=account_id,
        number=number,
        deleted_at__isnull=True,
    ).first()


def is_do_not_call(*, organization_id: object, number: str) -> bool:
    return DoNotCall.objects.filter(organization_id=organization_id, number=number).exists()


def inbound_calls_count(campaign_id: object) -> int:
    """The campaign's inbound calls (callbacks from its callees), through the index call_inbound."""
    return Call.objects.filter(campaign_id=campaign_id, direction="inbound").count()
