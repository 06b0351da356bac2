"""A new campaign from an old one: a re-run of the customers its outcomes chose (rules.rerun), and
the settings copy both re-runs and a series' runs (services.series) start from.

A copy takes every setting of its source (target, caller ID or dial plan, dialing strategy,
outcome settings, overrides, server and events) and the customers it is given, afresh: pending,
no attempts, no result. The schedule is the caller's to give.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from campaigns.models import Campaign, CampaignStatus, Customer
from campaigns.rules.rerun import chosen, who_problems
from campaigns.rules.strategy import FIELDS as STRATEGY_FIELDS
from campaigns.services.audit import Actor, audit_record
from campaigns.services.caller_ids import caller_pool_of
from campaigns.services.campaigns import campaign_create
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.inputs import CampaignInput, CustomerInput, DialPlanInput
from campaigns.services.outcome_settings import OUTCOME_FIELDS
from campaigns.services.tx import retry_on_conflict

NAME_LENGTH = 255
# Statuses a re-run may start from: the source no longer calls anyone (archived ones are hidden).
RERUN_FROM = (CampaignStatus.ENDED, CampaignStatus.CANCELLED)


def _customer_input(customer: Customer, i: int) -> CustomerInput:
    return CustomerInput(
        number=customer.number_submitted or customer.number,
        number_e164_check_enabled=customer.number_e164_check_enabled,
        sip_uri=customer.sip_uri,
        extension=customer.extension,
        name=customer.name,
        email=customer.email,
        external_id=customer.external_id,
        assistant_overrides=customer.assistant_overrides,
        squad_overrides=customer.squad_overrides,
        source=f"customers.{i}",
    )


def copy_input(
    source: Campaign, *, name: str, customers: Iterable[Customer], earliest_at: datetime | None = None
) -> CampaignInput:
    """A CampaignInput with every setting of `source` and `customers` (rows of it, in order; a
    dial plan's customers keep their caller ID, and entries left without customers are dropped)."""
    data = CampaignInput(
        name=name[:NAME_LENGTH],
        assistant_id=source.assistant_id,
        workflow_id=source.workflow_id,
        squad_id=source.squad_id,
        earliest_at=earliest_at,
        strategy={field: getattr(source, field) for field in STRATEGY_FIELDS},
        assistant_overrides=source.assistant_overrides,
        squad_overrides=source.squad_overrides,
        server=source.server,
        server_messages=list(source.server_messages or []),
        predial_plan=source.predial_plan,
        outcomes={field: getattr(source, field) for field in OUTCOME_FIELDS},
        api_version=source.api_version,
    )
    if not source.uses_dial_plan:
        data.phone_number_id = str(source.phone_number_id)
        data.caller_id_pool = caller_pool_of(source)
        data.customers = [_customer_input(c, i) for i, c in enumerate(customers)]
        return data
    entries = {e.pk: DialPlanInput(str(e.phone_number_id), []) for e in source.dial_plan.order_by("position")}
    first = next(iter(entries.values()))
    for i, customer in enumerate(customers):  # one added later without a line: the first caller ID
        entries.get(customer.dial_plan_entry_id, first).customers.append(_customer_input(customer, i))
    data.dial_plan = [entry for entry in entries.values() if entry.customers]
    return data


def rerun_customers(campaign: Campaign, who: Iterable[str]):  # noqa: ANN201 (a QuerySet of Customer)
    """The campaign's customers in the groups `who` names, in their order: one query, built from
    the distinct (state, last outcome, objective) triples its customers have."""
    triples = (
        Customer.objects.filter(campaign=campaign)
        .values_list("state", "last_outcome", "objective_met")
        .distinct()
    )
    terms = Q(pk__in=[])
    for state, last_outcome, objective_met in chosen(triples, who):
        terms |= Q(state=state, last_outcome=last_outcome, objective_met=objective_met)
    return Customer.objects.filter(terms, campaign=campaign).order_by("position")


@retry_on_conflict
def campaign_rerun(*, campaign: Campaign, by: Actor, who: list[str], name: str = "") -> Campaign:
    """A new scheduled campaign with every setting of `campaign` (ended or cancelled) calling again
    its customers in the groups `who` names (rules.rerun.GROUPS), linked to it (`rerun_of`).

    Raises InvalidTransition when `campaign` has not ended (it may still call them), and
    ValidationFailed naming `who` (unknown groups, or no customer in them) or `name`.
    """
    campaign = Campaign.objects.select_for_update(of=("self",)).get(pk=campaign.pk)
    if campaign.status not in RERUN_FROM or campaign.deleted_at:
        current = "deleted" if campaign.deleted_at else campaign.status
        raise InvalidTransition(
            action="rerun",
            current=current,
            detail=f"can only re-run a campaign that has ended (it is {current})",
        )
    problems = [_who_error(why) for why in who_problems(who)]
    if len(name) > NAME_LENGTH:
        problems.append(FieldError("name", f"must be shorter than or equal to {NAME_LENGTH} characters"))
    if problems:
        raise ValidationFailed(problems)
    customers = list(rerun_customers(campaign, who))
    if not customers:
        raise ValidationFailed.one("who", "matches no customer of this campaign")
    data = copy_input(campaign, name=name or f"{campaign.name} (re-run)", customers=customers)
    rerun = campaign_create(organization=campaign.organization, by=by, data=data)
    Campaign.objects.filter(pk=rerun.pk).update(rerun_of=campaign, rerun_who=list(who))
    rerun.rerun_of, rerun.rerun_who = campaign, list(who)
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.rerun",
        target=rerun,
        after={"rerun_of": str(campaign.pk), "who": list(who), "customers": len(customers)},
    )
    return rerun


def _who_error(why: str) -> FieldError:
    """rules.rerun's "2: must be ..." as `who.2 must be ...`, the rest as `who ...`."""
    index, _, rest = why.partition(": ")
    return FieldError(f"who.{index}", rest) if index.isdigit() else FieldError("who", why)
