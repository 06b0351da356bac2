"""Caller IDs as a pool: a campaign's pool (set with the campaign), a number's switches and caps,
and the automatic rest of a number whose answer rate collapsed (campaigns.rules.caller_ids)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction

from campaigns import clock
from campaigns.models import CallerIdPoolEntry, Campaign, PhoneNumber
from campaigns.rules import caller_ids as rules
from campaigns.services.audit import Actor, audit_record
from campaigns.services.errors import FieldError, ValidationFailed
from campaigns.services.inputs import CallerPoolInput

MAX_POOL = 500
MAX_WEIGHT = 1000
NEEDS_DEFAULT = "needs the campaign's own phoneNumberId (the pool's default), not a dial plan"


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def caller_pool_errors(
    *, campaign: Campaign, pool: CallerPoolInput
) -> tuple[list[FieldError], list[PhoneNumber], list[list]]:
    """Check a pool for `campaign` (its own phone number is the pool's default). Returns (errors,
    the pool's numbers in order without the default, the split weights as [provider account id,
    weight] pairs in group order). Field paths are snake_case under `caller_id_pool`."""
    errors: list[FieldError] = []
    if pool.mode not in rules.Mode.__members__.values():
        choices = ", ".join(m.value for m in rules.Mode)
        errors.append(FieldError("caller_id_pool.mode", f"must be one of the following values: {choices}"))
    if campaign.phone_number_id is None:
        errors.append(FieldError("caller_id_pool", NEEDS_DEFAULT))
        return errors, [], []
    if len(pool.phone_number_ids) > MAX_POOL:
        errors.append(
            FieldError("caller_id_pool.phone_number_ids", f"must contain no more than {MAX_POOL} elements")
        )
        return errors, [], []
    ids = [str(i) for i in pool.phone_number_ids]
    found = PhoneNumber.objects.filter(
        organization_id=campaign.organization_id,
        pk__in=[i for i in ids if _is_uuid(i)],
        deleted_at__isnull=True,
    ).select_related("provider_account")
    by_id = {str(n.pk): n for n in found}
    numbers, seen = [], {}
    for i, pk in enumerate(ids):
        field = f"caller_id_pool.phone_number_ids.{i}"
        if pk not in by_id:
            errors.append(FieldError(field, "does not name a phone number of this organization"))
        elif pk in seen:
            errors.append(FieldError(field, f"is given twice (first at index {seen[pk]})"))
        elif pk != str(campaign.phone_number_id):
            numbers.append(by_id[pk])
        seen.setdefault(pk, i)
    default = campaign.phone_number
    providers: list[str] = []
    for number in [default, *numbers]:
        if str(number.provider_account_id) not in providers:
            providers.append(str(number.provider_account_id))
    pairs: list[list] = []
    if pool.mode == rules.Mode.SPLIT:
        if len(providers) < 2:
            errors.append(
                FieldError("caller_id_pool.mode", "split needs caller IDs of at least two provider accounts")
            )
        weights = pool.weights if pool.weights is not None else dict.fromkeys(providers, 1)
        for key, weight in weights.items():
            field = f"caller_id_pool.weights.{key}"
            if str(key) not in providers:
                errors.append(FieldError(field, "is not the provider account of a caller ID of the pool"))
            elif isinstance(weight, bool) or not isinstance(weight, int):
                errors.append(FieldError(field, "must be an integer number"))
            elif not 0 <= weight <= MAX_WEIGHT:
                errors.append(FieldError(field, f"must be between 0 and {MAX_WEIGHT}"))
        missing = [p for p in providers if p not in {str(k) for k in weights}]
        if missing and len(providers) >= 2:
            errors.append(
                FieldError(
                    "caller_id_pool.weights", f"must give every provider account a weight ({missing[0]})"
                )
            )
        given = {str(k): v for k, v in weights.items()}
        pairs = [[p, given[p]] for p in providers if p in given]
        if not errors and sum(w for _, w in pairs) <= 0:
            errors.append(FieldError("caller_id_pool.weights", "must not all be 0"))
    elif pool.weights:
        errors.append(FieldError("caller_id_pool.weights", "are only for the split mode"))
    return errors, numbers, pairs


def caller_pool_set(*, campaign: Campaign, pool: CallerPoolInput | None) -> None:
    """Replace the campaign's pool (None: no pool) inside the caller's transaction, which holds the
    campaign. Raises ValidationFailed naming the field; nothing is written then."""
    if pool is None:
        CallerIdPoolEntry.objects.filter(campaign=campaign).delete()
        Campaign.objects.filter(pk=campaign.pk).update(caller_id_mode="", caller_id_weights=[])
        campaign.caller_id_mode, campaign.caller_id_weights = "", []
        return
    errors, numbers, pairs = caller_pool_errors(campaign=campaign, pool=pool)
    if errors:
        raise ValidationFailed(errors)
    CallerIdPoolEntry.objects.filter(campaign=campaign).delete()
    CallerIdPoolEntry.objects.bulk_create(
        [CallerIdPoolEntry(campaign=campaign, phone_number=n, position=i) for i, n in enumerate(numbers)]
    )
    Campaign.objects.filter(pk=campaign.pk).update(caller_id_mode=pool.mode, caller_id_weights=pairs)
    campaign.caller_id_mode, campaign.caller_id_weights = pool.mode, pairs


def caller_pool_of(campaign: Campaign) -> CallerPoolInput | None:
    """The campaign's stored pool as an input (to copy it, or check it again after a change),
    without the caller IDs retired since."""
    if not campaign.caller_id_mode:
        return None
    entries = (
        campaign.caller_pool.filter(phone_number__deleted_at__isnull=True)
        .order_by("position")
        .values_list("phone_number_id", flat=True)
    )
    split = campaign.caller_id_mode == rules.Mode.SPLIT
    weights = {p: w for p, w in campaign.caller_id_weights} if split else None
    ids = [str(pk) for pk in entries]
    return CallerPoolInput(phone_number_ids=ids, mode=campaign.caller_id_mode, weights=weights)


PHONE_NUMBER_SWITCHES = ("disabled", "max_concurrent_calls", "max_daily_calls")


@transaction.atomic
def phone_number_update(
    *, phone_number: PhoneNumber, by: Actor, changes: Mapping[str, Any], lift_rest: bool = False
) -> PhoneNumber:
    """Change a caller ID's switches (`changes`: disabled, max_concurrent_calls, max_daily_calls;
    None clears a cap) and, with `lift_rest`, end its rest. Raises ValidationFailed naming the
    field. A number disabled here is never used by a call that has not left yet: the last gate
    re-reads it under a lock this UPDATE waits for (dialer.claims)."""
    errors = []
    for field, value in changes.items():
        if field not in PHONE_NUMBER_SWITCHES:
            errors.append(FieldError(field, "should not exist"))
        elif field == "disabled" and not isinstance(value, bool):
            errors.append(FieldError(field, "must be a boolean value"))
        elif field != "disabled" and value is not None:
            if isinstance(value, bool) or not isinstance(value, int):
                errors.append(FieldError(field, "must be an integer number"))
            elif value < 1:
                errors.append(FieldError(field, "must not be less than 1"))
    if errors:
        raise ValidationFailed(errors)
    number = PhoneNumber.objects.select_for_update().get(pk=phone_number.pk)
    before = {f: getattr(number, f) for f in PHONE_NUMBER_SWITCHES} | {"rested": number.rested_at is not None}
    for field, value in changes.items():
        setattr(number, field, value)
    if lift_rest:
        # Its health is measured afresh from now: the calls that rested it do not rest it again.
        number.rested_at, number.rested_reason, number.health_since = None, "", clock.now()
    number.save(update_fields=[*changes, "rested_at", "rested_reason", "health_since"])
    after = {f: getattr(number, f) for f in PHONE_NUMBER_SWITCHES} | {"rested": number.rested_at is not None}
    audit_record(
        organization=number.organization,
        by=by,
        action="phone_number.update",
        target=number,
        before=before,
        after=after,
    )
    return number


def caller_ids_rest(*, answered: Mapping[object, Sequence[bool]], now: datetime) -> list[object]:
    """Rest the numbers whose answer rate collapsed (`answered`: per caller ID id, its last ended
    calls since its `health_since`, newest first, answered or not; rules.caller_ids.should_rest
    decides). A number already rested is left as it is. Returns the ids rested now."""
    rested = []
    for pk, outcomes in answered.items():
        if rules.should_rest(outcomes):
            changed = PhoneNumber.objects.filter(pk=pk, rested_at__isnull=True).update(
                rested_at=now, rested_reason=rules.rest_reason(outcomes)
            )
            if changed:
                rested.append(pk)
    return rested
