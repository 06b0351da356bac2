"""Reads of caller-ID pools: a campaign's pool as the choice sees it, the numbers' load and health,
and the side-by-side comparison of a campaign's providers (or caller IDs)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Avg, Count, F, Q, Sum, Window
from django.db.models.functions import RowNumber

from campaigns.models import Call, CallDirection, CallStatus, Campaign, PhoneNumber
from campaigns.rules import caller_ids as rules
from campaigns.rules import hours
from campaigns.rules.outcomes import OutcomeClass, classify

ANSWERED = (OutcomeClass.ANSWERED, OutcomeClass.OPT_OUT)  # a person picked up


def caller_id_facts(number: PhoneNumber) -> rules.CallerId:
    """A caller ID as rules.caller_ids sees it (a retired one counts as disabled)."""
    return rules.CallerId(
        id=str(number.pk),
        provider=str(number.provider_account_id),
        country=number.country,
        region=number.region,
        area_code=number.area_code,
        disabled=number.disabled or number.deleted_at is not None,
        rested=number.rested_at is not None,
        max_concurrent=number.max_concurrent_calls,
        max_daily=number.max_daily_calls,
    )


def pool_numbers(campaign: Campaign) -> list[PhoneNumber]:
    """The campaign's caller IDs in pool order, read now: its own number (the default) first."""
    numbers = list(PhoneNumber.objects.filter(pk=campaign.phone_number_id).select_related("provider_account"))
    entries = campaign.caller_pool.select_related("phone_number", "phone_number__provider_account")
    return numbers + [entry.phone_number for entry in entries.order_by("position")]


def caller_pool(campaign: Campaign) -> rules.Pool | None:
    """The campaign's pool as rules.caller_ids takes it, read fresh; None without a pool."""
    if not campaign.caller_id_mode or campaign.phone_number_id is None:
        return None
    return rules.Pool(
        numbers=tuple(caller_id_facts(n) for n in pool_numbers(campaign)),
        default=str(campaign.phone_number_id),
        mode=rules.Mode(campaign.caller_id_mode),
        weights=tuple((str(p), int(w)) for p, w in campaign.caller_id_weights),
    )


def caller_id_usage(
    ids: Iterable[object], now: datetime, *, daily: bool = True, tz: str = "UTC"
) -> tuple[dict[str, int], dict[str, int]]:
    """Per caller ID (by id as text): its live calls (not ended, any campaign), and (with `daily`)
    its calls created since the start of `now`'s day in `tz` (the organization's zone): what its
    concurrency and daily caps count. Without `daily` only live calls are read: few rows,
    whatever the campaign's size."""
    ids = list(ids)
    midnight = hours.day_start(now, tz)
    counted = ~Q(status=CallStatus.ENDED)
    if daily:
        counted |= Q(created_at__gte=midnight)
    rows = (
        Call.objects.filter(phone_number_id__in=ids)
        .filter(counted)
        .values("phone_number_id")
        .annotate(
            live=Count("id", filter=~Q(status=CallStatus.ENDED)),
            today=Count("id", filter=Q(created_at__gte=midnight)),
        )
        .order_by()
    )
    live, today = {}, {}
    for row in rows:
        live[str(row["phone_number_id"])] = row["live"]
        today[str(row["phone_number_id"])] = row["today"]
    return live, today


def caller_id_answers(numbers: Iterable[PhoneNumber]) -> dict[object, list[bool]]:
    """Per caller ID (by pk), whether each of its last rules.HEALTH_WINDOW ended calls since its
    `health_since` was answered by a person, newest first. One query (a window function)."""
    numbers = list(numbers)
    if not numbers:
        return {}
    since = Q()
    for number in numbers:
        if number.health_since is not None:
            since |= Q(phone_number_id=number.pk, created_at__gt=number.health_since)
        else:
            since |= Q(phone_number_id=number.pk)
    rows = (
        Call.objects.filter(
            since, status=CallStatus.ENDED, direction=CallDirection.OUTBOUND
        )  # callees' answers
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("phone_number_id")],
                order_by=[F("ended_at").desc(nulls_last=True), F("created_at").desc()],
            )
        )
        .filter(rank__lte=rules.HEALTH_WINDOW)
        .order_by("phone_number_id", "rank")
        .values_list("phone_number_id", "ended_reason")
    )
    answers: dict[object, list[bool]] = {number.pk: [] for number in numbers}
    for pk, reason in rows:
        answers[pk].append(classify(reason) in ANSWERED)
    return answers


@dataclass(frozen=True)
class Health:
    rate: float | None  # answer rate over the last calls measured; None before any
    calls: int  # how many calls it is measured on (at most rules.HEALTH_WINDOW)


def caller_id_health(numbers: Iterable[PhoneNumber]) -> dict[object, Health]:
    """Each caller ID's health (answer rate over its last rules.HEALTH_WINDOW ended calls)."""
    return {
        pk: Health(rules.answer_rate(answered), len(answered))
        for pk, answered in caller_id_answers(numbers).items()
    }


@dataclass(frozen=True)
class ComparisonRow:
    """One provider account (or caller ID) of a campaign, side by side with the others."""

    key: str
    name: str
    group: str  # the split group's letter, or ""
    calls: int  # calls that left
    ended: int
    answered: int
    objective_met: int
    average_seconds: float | None
    cost: Decimal | None
    cost_unit: str

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.ended if self.ended else None

    @property
    def objective_rate(self) -> float | None:
        """Objectives met among the answered calls."""
        return self.objective_met / self.answered if self.answered else None

    @property
    def cost_per_completed(self) -> Decimal | None:
        """Cost per answered call (a completed conversation)."""
        return None if self.cost is None or not self.answered else self.cost / self.answered


def campaign_comparison(campaign: Campaign) -> list[ComparisonRow]:
    """The campaign's calls compared per provider account when they went through several, else
    per caller ID when several were used; [] when there is nothing to compare. One grouped query
    (by account, caller ID, endedReason and cost unit; endedReasons are classified here). Costs in
    different units are not told apart: a provider account reports in one unit."""
    rows = list(
        Call.objects.filter(campaign=campaign, confirmed_at__isnull=False, direction=CallDirection.OUTBOUND)
        .values(
            "provider_account_id",
            "provider_account__name",
            "phone_number_id",
            "phone_number__number",
            "ended_reason",
            "cost_unit",
        )
        .annotate(
            n=Count("id"),
            met=Count("id", filter=Q(objective_met=True)),
            seconds=Avg("duration_seconds"),
            timed=Count("duration_seconds"),
            cost=Sum("cost"),
        )
        .order_by()
    )
    by_provider = len({r["provider_account_id"] for r in rows}) > 1
    if not by_provider and len({r["phone_number_id"] for r in rows}) < 2:
        return []
    groups = {str(p): rules.label(i) for i, (p, _) in enumerate(campaign.caller_id_weights)}
    folded: dict[str, dict] = {}
    for row in rows:
        if by_provider:
            key, name = str(row["provider_account_id"]), row["provider_account__name"]
        else:
            key, name = str(row["phone_number_id"]), row["phone_number__number"]
        into = folded.setdefault(
            key,
            {"name": name, "unit": "", "calls": 0, "ended": 0, "answered": 0}
            | {"met": 0, "seconds": 0.0, "timed": 0, "cost": None},
        )
        into["calls"] += row["n"]
        if row["ended_reason"]:
            into["ended"] += row["n"]
            into["answered"] += row["n"] if classify(row["ended_reason"]) in ANSWERED else 0
        into["met"] += row["met"]
        if row["timed"]:
            into["seconds"] += row["seconds"] * row["timed"]
            into["timed"] += row["timed"]
        into["unit"] = into["unit"] or row["cost_unit"]
        if row["cost"] is not None:
            into["cost"] = (into["cost"] or Decimal(0)) + row["cost"]
    return [
        ComparisonRow(
            key=key,
            name=f["name"],
            group=groups.get(key, "") if by_provider else "",
            calls=f["calls"],
            ended=f["ended"],
            answered=f["answered"],
            objective_met=f["met"],
            average_seconds=f["seconds"] / f["timed"] if f["timed"] else None,
            cost=f["cost"],
            cost_unit=f["unit"],
        )
        for key, f in sorted(folded.items(), key=lambda item: (groups.get(item[0], "~"), item[1]["name"]))
    ]
