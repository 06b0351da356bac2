"""Campaign lifecycle: create, update, start, pause, resume, end, finish, delete.

Every function here is the one place its change happens. Each checks the
source status first and raises InvalidTransition carrying the current status.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F

from campaigns import clock, egress
from campaigns.models import (
    CUSTOMER_COUNTER_FIELDS,
    TERMINAL_STATUSES,
    Call,
    CallStatus,
    Campaign,
    CampaignEndedReason,
    CampaignStatus,
    Customer,
    CustomerState,
    DialPlanEntry,
    Organization,
    PhoneNumber,
)
from campaigns.rules import contacts
from campaigns.rules.reasons import Reason
from campaigns.rules.strategy import FIELDS as STRATEGY_FIELDS
from campaigns.rules.strategy import VAPI_DEFAULTS
from campaigns.services.audiences import audiences_snapshot
from campaigns.services.audit import Actor, audit_record
from campaigns.services.caller_ids import caller_pool_of, caller_pool_set
from campaigns.services.calls import move_counters
from campaigns.services.customers import customers_insert, sort_key_for
from campaigns.services.errors import FieldError, InvalidTransition, NotFound, ValidationFailed
from campaigns.services.events import event_emit
from campaigns.services.inputs import (
    CampaignChanges,
    CampaignInput,
    CustomerInput,
    DialPlanInput,
)
from campaigns.services.notifications import notify_campaign_finished
from campaigns.services.outcome_settings import OUTCOME_FIELDS, validate_outcomes
from campaigns.services.strategy import validate_strategy
from campaigns.services.tx import lock_campaigns, retry_on_conflict

TARGET_FIELDS = ("assistant_id", "workflow_id", "squad_id")
# The fields an audit event shows before and after a change.
AUDITED = ("name", "status", "ended_reason", *TARGET_FIELDS, "phone_number_id", "earliest_at", "latest_at")


def snapshot(campaign: Campaign) -> dict[str, Any]:
    """The audited fields as JSON-ready values."""
    values = {f: getattr(campaign, f) for f in (*AUDITED, *STRATEGY_FIELDS, *OUTCOME_FIELDS)}
    return json.loads(json.dumps(values, cls=DjangoJSONEncoder))


def _phone_number(organization: Organization, phone_number_id: str, field: str) -> PhoneNumber:
    number = (
        PhoneNumber.objects.filter(
            organization=organization, pk=phone_number_id, deleted_at__isnull=True
        ).first()
        if _is_uuid(phone_number_id)
        else None
    )
    if number is None:
        raise ValidationFailed.one(field, "does not name a phone number of this organization")
    return number


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _schedule_errors(earliest_at: datetime | None, latest_at: datetime | None) -> list[FieldError]:
    if earliest_at and latest_at and latest_at < earliest_at:
        # Worded as the API names the other end: its answers pass messages on verbatim.
        return [FieldError("latest_at", "must not be before earliestAt")]
    return []


def _insert_dial_plan(campaign: Campaign, dial_plan: list[DialPlanInput]) -> None:
    numbers = [
        _phone_number(campaign.organization, entry.phone_number_id, f"dial_plan.{i}.phone_number_id")
        for i, entry in enumerate(dial_plan)
    ]
    for i, (entry, number) in enumerate(zip(dial_plan, numbers, strict=True)):
        row = DialPlanEntry.objects.create(campaign=campaign, phone_number=number, position=i)
        customers_insert(campaign=campaign, rows=entry.customers, entry=row)


@transaction.atomic
def campaign_create(*, organization: Organization, by: Actor, data: CampaignInput) -> Campaign:
    """Create a scheduled campaign with its customers, all or nothing.

    With `duplicate_from_id`, the settings `data` does not give and, unless it gives customers,
    the customers are copied from that campaign of the organization (Vapi's
    duplicateFromCampaignId); the copy starts afresh.

    Raises ValidationFailed naming every field that breaks a rule (phone numbers
    of another organization, duplicate customers, strategy out of bounds, a server URL the
    dialer may not send to, a pre-dial check or events without a server).
    """
    if data.duplicate_from_id is not None:
        data = _copied(organization, data)
    strategy = dict(VAPI_DEFAULTS) if data.strategy is None else data.strategy
    errors = validate_strategy(strategy, organization=organization) + _schedule_errors(
        data.earliest_at, data.latest_at
    )
    errors += _server_errors(data.server, data.server_messages, data.predial_plan)
    errors += validate_outcomes(data.outcomes)
    if errors:
        raise ValidationFailed(errors)
    phone_number = None
    if data.phone_number_id is not None:
        phone_number = _phone_number(organization, data.phone_number_id, "phone_number_id")
    campaign = Campaign.objects.create(
        organization=organization,
        name=data.name,
        assistant_id=data.assistant_id,
        workflow_id=data.workflow_id,
        squad_id=data.squad_id,
        phone_number=phone_number,
        uses_dial_plan=data.dial_plan is not None,
        earliest_at=data.earliest_at,
        latest_at=data.latest_at,
        created_by=by if getattr(by, "is_authenticated", False) else None,
        api_version=data.api_version,
        assistant_overrides=data.assistant_overrides,
        squad_overrides=data.squad_overrides,
        server=data.server,
        server_messages=data.server_messages or [],
        predial_plan=data.predial_plan,
        duplicated_from_id=data.duplicate_from_id,
        **strategy,
        **data.outcomes,
    )
    if data.caller_id_pool is not None:
        caller_pool_set(campaign=campaign, pool=data.caller_id_pool)
    if data.dial_plan is not None:
        _insert_dial_plan(campaign, data.dial_plan)
    else:
        customers_insert(campaign=campaign, rows=data.customers or [])
    campaign.refresh_from_db()
    audit_record(
        organization=organization, by=by, action="campaign.create", target=campaign, after=snapshot(campaign)
    )
    return campaign


# The 2026 settings an update may change: while scheduled (what each call is sent with), or while
# scheduled or paused (where the campaign's events go).
SCHEDULED_SETTINGS = {"assistant_overrides", "squad_overrides", "predial_plan"}
PAUSED_SETTINGS = {"server", "server_messages"}
# What of the dialing strategy changes while the campaign runs (applied from the dispatcher's
# next pass; the last gate reads the hours again when each call leaves).
RUNNING_STRATEGY = {"calling_hours", "time_zone", "max_concurrent_calls", "calls_per_minute", "priority"}

# What a duplicate copies when the request does not give it (Vapi: every field present in the
# request overrides the source's value).
COPIED = (
    "assistant_id",
    "workflow_id",
    "squad_id",
    "earliest_at",
    "latest_at",
    "assistant_overrides",
    "squad_overrides",
    "server",
    "server_messages",
    "predial_plan",
)


def _copied(organization: Organization, data: CampaignInput) -> CampaignInput:
    """`data` with what it does not give taken from the campaign it duplicates."""
    source = (
        Campaign.objects.filter(organization=organization, pk=data.duplicate_from_id).first()
        if _is_uuid(data.duplicate_from_id)
        else None
    )
    if source is None:
        raise NotFound(f"campaign {data.duplicate_from_id} does not exist in this organization")
    copy = replace(data, given=set(data.given))
    for field in COPIED:
        if field not in data.given:
            setattr(copy, field, getattr(source, field))
    if "target" in data.given:  # a target given replaces the copied one, whichever kind it is
        for field in ("assistant_id", "workflow_id", "squad_id"):
            setattr(copy, field, getattr(data, field))
    if "phone_number_id" not in data.given and source.phone_number_id:
        copy.phone_number_id = str(source.phone_number_id)
    if "caller_id_pool" not in data.given and "phone_number_id" not in data.given:
        copy.caller_id_pool = caller_pool_of(source)
    if "strategy" not in data.given:
        copy.strategy = {field: getattr(source, field) for field in STRATEGY_FIELDS}
    copy.outcomes = {field: getattr(source, field) for field in OUTCOME_FIELDS} | data.outcomes
    if data.customers is None and data.dial_plan is None:
        copy.customers = [
            CustomerInput(
                number=c.number_submitted or c.number,
                number_e164_check_enabled=c.number_e164_check_enabled,
                sip_uri=c.sip_uri,
                extension=c.extension,
                name=c.name,
                email=c.email,
                external_id=c.external_id,
                assistant_overrides=c.assistant_overrides,
                squad_overrides=c.squad_overrides,
                source=f"customers.{i}",
            )
            for i, c in enumerate(source.customers.order_by("position").iterator(chunk_size=2000))
        ]
    return copy


def _server_errors(server: dict | None, messages: list[str] | None, predial: dict | None) -> list[FieldError]:
    """The campaign's own server: a URL the dialer may send to (campaigns.egress, as for providers),
    required by a pre-dial check and by events."""
    errors = []
    url = (server or {}).get("url")
    if server is not None and not url:
        errors.append(FieldError("server.url", "is required"))
    elif url:
        try:
            egress.check_provider_url(url)
        except egress.ProviderUrlRefused as exc:
            errors.append(FieldError("server.url", exc.reason))
    if predial is not None and not url:
        errors.append(FieldError("predial_plan", "needs a server to ask (set server.url)"))
    if messages and not url:
        errors.append(FieldError("server_messages", "need a server to be sent to (set server.url)"))
    return errors


Waiting = tuple[str, datetime | None, str]  # (waiting_reason, waiting_until, waiting_detail)


def campaigns_set_waiting(waits: dict[object, Waiting], *, held: bool = False) -> None:
    """Remember why each campaign as a whole is not dialing ("" reason: it is), for the
    dashboard: one UPDATE per distinct (reason, until, detail), whatever the number of campaigns
    (the dispatch of a thousand campaigns wrote one row at a time: a fifth of its pass).

    `held`: the caller's transaction holds these campaign rows already (a dispatch round);
    otherwise they are locked here first, in id order (a statement of several rows must not
    take them in the order its scan meets them)."""
    if not waits:
        return
    if not held:
        with transaction.atomic():
            lock_campaigns(waits, "no_key_update")
            campaigns_set_waiting(waits, held=True)
        return
    groups: dict[Waiting, list[object]] = {}
    for pk, (reason, until, detail) in waits.items():
        groups.setdefault((reason, until, detail[:200]), []).append(pk)
    for (reason, until, detail), ids in groups.items():
        Campaign.objects.filter(pk__in=ids).update(
            waiting_reason=reason, waiting_until=until, waiting_detail=detail
        )


def _locked(campaign: Campaign) -> Campaign:
    """The campaign row, re-read under FOR UPDATE (campaigns.services.tx): transitions never
    interleave, and the gates, imports and dispatch rounds in progress finish first."""
    return Campaign.objects.select_for_update(of=("self",)).select_related("organization").get(pk=campaign.pk)


@retry_on_conflict
def campaign_update(*, campaign: Campaign, by: Actor, changes: CampaignChanges) -> Campaign:
    """Apply a partial update.

    The target, caller ID, dial plan, schedule, overrides and pre-dial check change only while
    scheduled; the dialing strategy and where campaign events go (server, server_messages) while
    scheduled or paused, and the strategy's RUNNING_STRATEGY part while running too; the name in
    any state but deleted. `changes.end` ends the campaign
    (Vapi's PATCH status "ended"). Raises ValidationFailed (field named) or InvalidTransition.
    """
    campaign = _locked(campaign)
    before = snapshot(campaign)
    status = campaign.status
    frozen = {"target", "phone_number_id", "dial_plan", "earliest_at", "latest_at"} & changes.fields
    frozen |= SCHEDULED_SETTINGS & set(changes.settings)
    if frozen and status != CampaignStatus.SCHEDULED:
        # Both ends of the schedule are one setting here: each refusal names the schedule.
        names = {"earliest_at": "schedule", "latest_at": "schedule"}
        raise ValidationFailed(
            [
                FieldError(
                    names.get(f, f), f"can only be updated while the campaign is scheduled (it is {status})"
                )
                for f in sorted(frozen)
            ]
        )
    if status not in (CampaignStatus.SCHEDULED, CampaignStatus.PAUSED):
        held = PAUSED_SETTINGS & set(changes.settings)
        if "strategy" in changes.fields and not (
            status == CampaignStatus.IN_PROGRESS and set(changes.strategy or {}) <= RUNNING_STRATEGY
        ):
            held.add("strategy")
        held |= {"caller_id_pool"} & changes.fields
        if held:
            reason = f"can only be updated while the campaign is scheduled or paused (it is {status})"
            running = "; while it runs, only its calling hours, concurrency, pacing and priority"
            suffix = {"strategy": running} if status == CampaignStatus.IN_PROGRESS else {}
            raise ValidationFailed([FieldError(f, reason + suffix.get(f, "")) for f in sorted(held)])
    if changes.end and status in TERMINAL_STATUSES:
        raise InvalidTransition(action="end", current=status)

    if "name" in changes.fields:
        campaign.name = changes.name
    if changes.target is not None:
        for field in TARGET_FIELDS:
            setattr(campaign, field, changes.target[1] if field == changes.target[0] else None)
    if "earliest_at" in changes.fields:
        campaign.earliest_at = changes.earliest_at
    if "latest_at" in changes.fields:
        campaign.latest_at = changes.latest_at
    errors = _schedule_errors(campaign.earliest_at, campaign.latest_at)
    if changes.settings:  # checked whole: a pre-dial check against the stored server, and so on
        merged = {f: getattr(campaign, f) for f in (*SCHEDULED_SETTINGS, *PAUSED_SETTINGS)} | changes.settings
        errors += _server_errors(merged["server"], merged["server_messages"], merged["predial_plan"])
        for f, value in changes.settings.items():
            setattr(campaign, f, [] if f == "server_messages" and value is None else value)
    if changes.strategy:
        # The recipient window is checked whole: a new end against the stored start, and so on.
        window = {f: getattr(campaign, f) for f in ("recipient_earliest", "recipient_latest")}
        errors += validate_strategy({**window, **changes.strategy}, organization=campaign.organization)
    if "outcomes" in changes.fields:
        if status in TERMINAL_STATUSES:
            raise ValidationFailed.one(
                "outcomes", f"can only be updated before the campaign ends (it is {status})"
            )
        errors += validate_outcomes(changes.outcomes, {f: getattr(campaign, f) for f in OUTCOME_FIELDS})
    if errors:
        raise ValidationFailed(errors)
    for field, value in changes.outcomes.items():
        setattr(campaign, field, value)
    if changes.strategy:
        reorder = changes.strategy.get("dialing_order", campaign.dialing_order) != campaign.dialing_order
        for field, value in changes.strategy.items():
            setattr(campaign, field, value)
        if reorder:
            _reorder(campaign)
    if "phone_number_id" in changes.fields:
        campaign.phone_number = _phone_number(
            campaign.organization, changes.phone_number_id, "phone_number_id"
        )
        if campaign.uses_dial_plan:  # the dial plan's customers now all use the one caller ID
            Customer.objects.filter(campaign=campaign).update(dial_plan_entry=None)
            campaign.dial_plan.all().delete()
            campaign.uses_dial_plan = False
    if "dial_plan" in changes.fields:
        campaign.customers.all().delete()
        campaign.dial_plan.all().delete()
        campaign.phone_number, campaign.uses_dial_plan = None, True
        campaign.customers_total = campaign.customers_final = 0
        for field in CUSTOMER_COUNTER_FIELDS:  # the customers they counted are gone
            setattr(campaign, field, 0)
        campaign.save()
        _insert_dial_plan(campaign, changes.dial_plan or [])
        campaign.refresh_from_db()
    if "caller_id_pool" in changes.fields or "dial_plan" in changes.fields:
        pool = changes.caller_id_pool if "caller_id_pool" in changes.fields else None
        campaign.save()  # the caller ID set above is the pool's default
        caller_pool_set(campaign=campaign, pool=pool)
    elif "phone_number_id" in changes.fields and campaign.caller_id_mode:
        campaign.save()  # a new default: the stored pool is checked again against it
        caller_pool_set(campaign=campaign, pool=caller_pool_of(campaign))
    if campaign.earliest_at and ("earliest_at" in changes.fields):
        Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING, attempts=0).update(
            next_attempt_at=campaign.earliest_at
        )
    campaign.save()
    if changes.end:
        campaign = _end(campaign, by=by, status=changes.end_status)
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.update",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


def _reorder(campaign: Campaign) -> None:
    """Recompute the dialing order of customers not yet final after dialing_order changed."""
    pending = Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING).only("pk", "position")
    batch = []
    for customer in pending.iterator(chunk_size=5000):
        customer.sort_key = sort_key_for(campaign.dialing_order, customer.position)
        batch.append(customer)
        if len(batch) >= 5000:
            Customer.objects.bulk_update(batch, ["sort_key"])
            batch = []
    Customer.objects.bulk_update(batch, ["sort_key"])


def _transition(
    campaign: Campaign, *, action: str, allowed: tuple[str, ...], by: Actor, **values: Any
) -> Campaign:
    campaign = _locked(campaign)
    if campaign.status not in allowed or campaign.deleted_at:
        raise InvalidTransition(action=action, current="deleted" if campaign.deleted_at else campaign.status)
    before = snapshot(campaign)
    for field, value in values.items():
        setattr(campaign, field, value)
    campaign.save()
    audit_record(
        organization=campaign.organization,
        by=by,
        action=f"campaign.{action}",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


@retry_on_conflict
def campaign_start(*, campaign: Campaign, by: Actor, now: datetime | None = None) -> Campaign:
    """scheduled -> in-progress. Starting by hand before earliestAt moves earliestAt to now.
    The contacts of the lists and segments it targets are copied into its customers."""
    now = now or clock.now()
    campaign = _locked(campaign)  # the campaign row before its customers (the house lock order)
    values: dict[str, Any] = {"status": CampaignStatus.IN_PROGRESS, "started_at": now}
    if campaign.status == CampaignStatus.SCHEDULED and campaign.earliest_at and campaign.earliest_at > now:
        values["earliest_at"] = now
        Customer.objects.filter(
            campaign=campaign, state=CustomerState.PENDING, next_attempt_at__gt=now, attempts=0
        ).update(next_attempt_at=now)
    campaign = _transition(campaign, action="start", allowed=(CampaignStatus.SCHEDULED,), by=by, **values)
    audiences_snapshot(campaign=campaign, now=now)  # the lists and segments it targets, copied
    # Vapi's data names a dispatch "workflow": ours is the campaign's one run, named from its id.
    run = uuid.uuid5(campaign.pk, f"start {now.isoformat()}")
    event_emit(campaign=campaign, event_type="campaign.started", data={"workflowId": str(run)}, at=now)
    return campaign


@retry_on_conflict
def campaign_pause(*, campaign: Campaign, by: Actor) -> Campaign:
    """in-progress -> paused. No new calls start; calls in flight finish and are recorded."""
    return _transition(
        campaign,
        action="pause",
        allowed=(CampaignStatus.IN_PROGRESS,),
        by=by,
        status=CampaignStatus.PAUSED,
        paused_at=clock.now(),
    )


@retry_on_conflict
def campaign_resume(*, campaign: Campaign, by: Actor) -> Campaign:
    """paused -> in-progress."""
    return _transition(
        campaign,
        action="resume",
        allowed=(CampaignStatus.PAUSED,),
        by=by,
        status=CampaignStatus.IN_PROGRESS,
        waiting_reason="",
        waiting_detail="",
        waiting_until=None,
        paused_at=None,
        auto_paused_reason="",
    )


def _cancel_undialed(campaign: Campaign, *, reason: Reason, detail: str) -> int:
    """Close every customer not yet dialed, and drop the calls that never left us. The caller
    holds the campaign row FOR UPDATE, so no gate, dispatch or recording runs meanwhile.

    Queued calls that never passed the last gate are deleted (Vapi deletes not-yet-started
    calls), even when a worker has taken one: its gate will find it gone. Calls that passed
    the gate may have reached the provider: they finish and are recorded. Nothing is left
    pending. Counters move by the rows actually changed. Returns the customers closed.
    """
    state = CustomerState.CANCELLED if reason == Reason.CANCELLED else CustomerState.SKIPPED
    fields = {"state": state, "reason": reason, "reason_detail": detail, "next_attempt_at": clock.now()}
    unsent = Call.objects.filter(campaign=campaign, status=CallStatus.QUEUED, confirmed_at__isnull=True)
    unsent_customers = list(unsent.values_list("customer_id", flat=True))
    # Customers, then calls (the house lock order).
    dispatched = Customer.objects.filter(pk__in=unsent_customers, state=CustomerState.QUEUED).update(
        attempts=F("attempts") - 1, **fields
    )
    deleted = unsent.delete()[1].get(Call._meta.label, 0)
    pending = Customer.objects.filter(campaign=campaign, state=CustomerState.PENDING).update(**fields)
    closed = dispatched + pending
    moves = Counter(contacts.moved(CustomerState.QUEUED, "", state, reason, dispatched))
    moves.update(contacts.moved(CustomerState.PENDING, "", state, reason, pending))
    move_counters(campaign.pk, calls_queued=-deleted, customers_final=closed, **moves)
    return closed


def campaign_is_exhausted(campaign: Campaign) -> bool:
    """Nothing left: no customer waiting or in a call, and no call in flight."""
    open_states = (CustomerState.PENDING, CustomerState.QUEUED, CustomerState.DIALING)
    return not (
        Customer.objects.filter(campaign=campaign, state__in=open_states).exists()
        # An inbound call (a callee calling back) never holds its campaign open.
        or Call.objects.filter(campaign=campaign, direction="outbound")
        .exclude(status=CallStatus.ENDED)
        .exists()
    )


def _end(campaign: Campaign, *, by: Actor, status: str = CampaignStatus.ENDED) -> Campaign:
    """Stop a campaign that has not ended, by a user: `status` ended (Vapi v1's PATCH "ended", our
    /end) or cancelled (Vapi's PATCH "cancelled"). Sends campaign.cancelled either way: to Vapi,
    "ended" by a user is the alias of a cancel."""
    reason = (
        CampaignEndedReason.SCHEDULED_ENDED_BY_USER
        if campaign.status == CampaignStatus.SCHEDULED
        else CampaignEndedReason.IN_PROGRESS_ENDED_BY_USER
    )
    _cancel_undialed(campaign, reason=Reason.CANCELLED, detail="the campaign was ended")
    campaign.refresh_from_db()
    campaign.status, campaign.ended_reason, campaign.ended_at = status, reason, clock.now()
    campaign.waiting_reason, campaign.waiting_detail, campaign.waiting_until = "", "", None
    campaign.paused_at = None
    campaign.save()
    event_emit(campaign=campaign, event_type="campaign.cancelled", data={"endedReason": reason})
    return campaign


@retry_on_conflict
def campaign_end(*, campaign: Campaign, by: Actor, status: str = CampaignStatus.ENDED) -> Campaign:
    """scheduled | in-progress | paused -> ended (or cancelled, Vapi's word for it), by a user.

    Customers not yet dialed are cancelled; calls in flight finish and are recorded.
    """
    campaign = _locked(campaign)
    if campaign.status in TERMINAL_STATUSES or campaign.deleted_at:
        raise InvalidTransition(action="end", current="deleted" if campaign.deleted_at else campaign.status)
    before = snapshot(campaign)
    campaign = _end(campaign, by=by, status=status)
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.cancel" if status == CampaignStatus.CANCELLED else "campaign.end",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


@retry_on_conflict
def campaign_archive(*, campaign: Campaign, by: Actor) -> Campaign:
    """Vapi v2's DELETE: cancel the campaign if it has not ended, then archive it (hidden from
    lists and reads, records kept). Raises InvalidTransition for one archived already."""
    campaign = _locked(campaign)
    if campaign.status == CampaignStatus.ARCHIVED or campaign.deleted_at:
        raise InvalidTransition(
            action="archive", current="deleted" if campaign.deleted_at else campaign.status
        )
    before = snapshot(campaign)
    if campaign.status not in TERMINAL_STATUSES:
        campaign = _end(campaign, by=by, status=CampaignStatus.CANCELLED)
    campaign.status_before_archive, campaign.status = campaign.status, CampaignStatus.ARCHIVED
    campaign.archived_at = clock.now()
    campaign.save()
    event_emit(campaign=campaign, event_type="campaign.archived", data={})
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.archive",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


@retry_on_conflict
def campaign_unarchive(*, campaign: Campaign, by: Actor) -> Campaign:
    """Undo an archive: the campaign is shown again with the status it had (ended or cancelled:
    an archived campaign never dials again). Raises InvalidTransition unless archived."""
    campaign = _locked(campaign)
    if campaign.status != CampaignStatus.ARCHIVED or campaign.deleted_at:
        raise InvalidTransition(
            action="unarchive", current="deleted" if campaign.deleted_at else campaign.status
        )
    before = snapshot(campaign)
    campaign.status = campaign.status_before_archive or CampaignStatus.ENDED
    campaign.status_before_archive, campaign.archived_at = "", None
    campaign.save()
    event_emit(campaign=campaign, event_type="campaign.unarchived", data={})
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.unarchive",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


@retry_on_conflict
def campaign_finish(*, campaign: Campaign, reason: Reason | None = None, detail: str = "") -> Campaign:
    """The dialer's end: nothing left to dial, or latestAt passed (customers left are skipped with `reason`).

    in-progress | paused -> ended with campaign.ended.success. Without `reason`, the campaign is
    checked again under its lock: customers added since the dialer looked (an import that
    committed meanwhile) keep it open (InvalidTransition), so nobody is left pending in an
    ended campaign.
    """
    campaign = _locked(campaign)
    if campaign.status not in (CampaignStatus.IN_PROGRESS, CampaignStatus.PAUSED) or campaign.deleted_at:
        raise InvalidTransition(action="finish", current=campaign.status)
    if reason is None and not campaign_is_exhausted(campaign):
        raise InvalidTransition(
            action="finish", current=campaign.status, detail="customers are still waiting or in calls"
        )
    before = snapshot(campaign)
    if reason is not None:
        _cancel_undialed(campaign, reason=reason, detail=detail)
        campaign.refresh_from_db()
    campaign.status, campaign.ended_reason = CampaignStatus.ENDED, CampaignEndedReason.SUCCESS
    campaign.ended_at = clock.now()
    campaign.waiting_reason, campaign.waiting_detail, campaign.waiting_until = "", "", None
    campaign.paused_at = None
    campaign.save()
    event_emit(campaign=campaign, event_type="campaign.ended", data={"endedReason": campaign.ended_reason})
    notify_campaign_finished(campaign=campaign)
    audit_record(
        organization=campaign.organization,
        by=None,
        action="campaign.finish",
        target=campaign,
        before=before,
        after=snapshot(campaign),
    )
    return campaign


@retry_on_conflict
def campaign_delete(*, campaign: Campaign, by: Actor) -> Campaign:
    """Hide a campaign; a running one is ended first. Call records are kept.

    Returns the campaign as it was before it was hidden (Vapi returns the document).
    """
    campaign = _locked(campaign)
    if campaign.deleted_at:
        raise InvalidTransition(action="delete", current="deleted")
    if campaign.status not in TERMINAL_STATUSES:
        campaign = _end(campaign, by=by)
    campaign.deleted_at = clock.now()
    campaign.save(update_fields=["deleted_at", "updated_at"])
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.delete",
        target=campaign,
        before=None,
        after=snapshot(campaign),
    )
    return campaign
