"""Reads of a campaign's outcomes: how many results came back, how many met the objective, and
how each enum or boolean field of its analysis schema is distributed among its customers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q

from campaigns.models import Campaign, CampaignSeries, Customer, DoNotCall
from campaigns.rules.analysis import distribution_fields
from campaigns.rules.rerun import GROUPS, group_of


@dataclass
class FieldCounts:
    name: str
    counts: list[tuple[Any, int]]  # (value, customers), in the order the schema lists the values

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass
class OutcomeSummary:
    analysed: int  # customers with a valid structured result
    objective_met: int
    fields: list[FieldCounts] = field(default_factory=list)

    @property
    def objective_rate(self) -> float | None:
        """Objective met among the customers with a result, 0..1; None before any result."""
        return self.objective_met / self.analysed if self.analysed else None


def campaign_outcome_summary(campaign: Campaign) -> OutcomeSummary:
    """The stored counters, and one pass over the campaign's analysed customers for the
    distribution of each enum and boolean field of the schema (each customer's latest result)."""
    summary = OutcomeSummary(campaign.customers_analysed, campaign.customers_objective_met)
    wanted = distribution_fields(campaign.analysis_schema)
    if not wanted or not campaign.customers_analysed:
        return summary
    terms = {
        f"f{i}_{j}": Count("pk", filter=Q(**{f"analysis__{name}": value}))
        for i, (name, values) in enumerate(wanted)
        for j, value in enumerate(values)
    }
    found = Customer.objects.filter(campaign=campaign, analysis__isnull=False).aggregate(**terms)
    for i, (name, values) in enumerate(wanted):
        summary.fields.append(FieldCounts(name, [(v, found[f"f{i}_{j}"]) for j, v in enumerate(values)]))
    return summary


def opt_outs_of_campaign(campaign: Campaign) -> int:
    """Numbers that joined the do-not-call list on one of this campaign's calls."""
    return DoNotCall.objects.filter(call__campaign=campaign).count()


def rerun_counts(campaign: Campaign) -> dict[str, int]:
    """How many customers a re-run of each group (rules.rerun.GROUPS) would call again: one
    grouped query over (state, last outcome, objective)."""
    rows = (
        Customer.objects.filter(campaign=campaign)
        .values_list("state", "last_outcome", "objective_met")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict.fromkeys(GROUPS, 0)
    for state, last_outcome, objective_met, n in rows:
        group = group_of(state, last_outcome, objective_met)
        if group is not None:
            counts[group] += n
    return counts


def series_of(campaign: Campaign) -> CampaignSeries | None:
    """The series the campaign is a run of (the first run included), or None."""
    if campaign.series_id is None:
        return None
    return CampaignSeries.objects.select_related("template").filter(pk=campaign.series_id).first()


def series_runs(series: CampaignSeries) -> list[Campaign]:
    """The series' runs, first day first, with their stored counters (deleted ones left out)."""
    return list(series.runs.filter(deleted_at__isnull=True).order_by("series_run_on"))
