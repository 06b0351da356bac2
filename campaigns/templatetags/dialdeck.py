"""Template helpers of the dashboard: badges, reasons in words, times in the organization's zone, charts.

Times: views activate the organization's time zone, so `timezone.localtime`
here shows what its people expect; the zone's name is printed where it matters.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from campaigns.models import (
    TERMINAL_STATUSES,
    Campaign,
    CampaignEndedReason,
    CampaignStatus,
    CustomerState,
    Notification,
    NotificationKind,
    TranscriptRole,
)
from campaigns.rules import activity
from campaigns.rules.activity import Activity
from campaigns.rules.inbound import LABELS as INBOUND_LABELS
from campaigns.rules.outcomes import OutcomeClass, classify
from campaigns.rules.policy import recipient_window
from campaigns.rules.reasons import ALL_LINES_BUSY, LABELS, PACING, Reason
from campaigns.rules.strategy import WEEKDAY_SHORT_NAMES
from campaigns.selectors import OUTCOME_LABELS

register = template.Library()

STATUS_TONES = {
    CampaignStatus.SCHEDULED: "neutral",
    CampaignStatus.IN_PROGRESS: "good",
    CampaignStatus.PAUSED: "warn",
    CampaignStatus.ENDED: "muted",
    CampaignStatus.CANCELLED: "muted",
    CampaignStatus.ARCHIVED: "muted",
    CustomerState.PENDING: "neutral",
    CustomerState.QUEUED: "info",
    CustomerState.DIALING: "info",
    CustomerState.COMPLETED: "good",
    CustomerState.VOICEMAIL: "warn",
    CustomerState.FAILED: "bad",
    CustomerState.SKIPPED: "muted",
    CustomerState.CANCELLED: "muted",
    "queued": "info",
    "ringing": "info",
    "forwarding": "info",
}
STATUS_LABELS = {**dict(CampaignStatus.choices), **dict(CustomerState.choices)}
CALL_STATUS_LABELS = {
    "scheduled": "Scheduled",
    "queued": "Queued",
    "ringing": "Ringing",
    "in-progress": "In call",
    "forwarding": "Forwarding",
    "ended": "Ended",
}


@register.inclusion_tag("campaigns/partials/_status_badge.html")
def status_badge(status: str, kind: str = "campaign") -> dict:
    """A coloured pill; `kind` is "campaign", "customer" or "call" (labels differ)."""
    labels = CALL_STATUS_LABELS if kind == "call" else STATUS_LABELS
    tone = "good" if kind == "call" and status == "in-progress" else STATUS_TONES.get(status, "neutral")
    if kind == "call" and status == "ended":
        tone = "muted"
    names = {"campaign": "Campaign status", "customer": "Customer state", "call": "Call status"}
    label = labels.get(status, status)
    return {"status": status, "label": label, "tone": tone, "name": f"{names.get(kind, 'Status')}: {label}"}


# -- reasons in words -----------------------------------------------------------------------------


def _recipient_hours(campaign: Campaign | None) -> str:
    if campaign is None:
        return ""
    start, end = recipient_window(campaign)
    return f"{start:%H:%M}–{end:%H:%M}"


def reason_words(reason: str, campaign: Campaign | None = None) -> str:
    """What a dialer reason code means, for people (rules.reasons.LABELS), with the campaign's
    zone or callee-local window where they say more."""
    if not reason:
        return "Due now"
    words = LABELS.get(reason, reason.replace("_", " ").capitalize())
    if reason == Reason.OUTSIDE_CALLING_HOURS and campaign is not None:
        words += f" ({campaign.time_zone})"
    elif reason in (Reason.RECIPIENT_LOCAL_TIME, Reason.AMBIGUOUS_TIME_ZONE) and campaign is not None:
        words += f" ({_recipient_hours(campaign)})"
    return words


@register.simple_tag
def recipient_hours(campaign: Campaign) -> str:
    """The callee-local window the campaign keeps, the organization's floor applied: "08:00–21:00"."""
    return _recipient_hours(campaign)


@register.simple_tag
def reason_text(reason: str, campaign: Campaign | None = None) -> str:
    return reason_words(reason or "", campaign)


@register.filter
def ended_reason_text(value: str) -> str:
    return dict(CampaignEndedReason.choices).get(value, value)


@register.filter
def speaker(role: str) -> str:
    """Who said a line of a live transcript, in words (TranscriptRole's label: Agent, Callee)."""
    return TranscriptRole(role).label if role in TranscriptRole.values else ""


@register.filter
def outcome_label(ended_reason: str) -> str:
    """A provider endedReason as the outcome class people think in ("No answer", "Busy")."""
    if not ended_reason:
        return ""
    if ended_reason in INBOUND_LABELS:  # an inbound call the campaign's setting rejected
        return INBOUND_LABELS[ended_reason]
    return OUTCOME_LABELS.get(classify(ended_reason), OUTCOME_LABELS[OutcomeClass.FAILED])


# -- times ----------------------------------------------------------------------------------------


def _zone_abbr(local: datetime) -> str:
    """The zone as people read it beside a time: "CEST", or "UTC+05:30" where it has no letters."""
    name = local.tzname() or ""
    if name and not name.lstrip("+-").isdigit():
        return name
    offset = local.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"


@register.filter
def when(value: datetime | None) -> str:
    """A moment in the active zone with its date and zone: "2 Dec 14:05 CET", the year too when
    it is not this one ("3 Jun 2025 09:00 CEST")."""
    if value is None:
        return ""
    local, now = timezone.localtime(value), timezone.localtime()
    day = f"{local.day} {local:%b}" if local.year == now.year else f"{local.day} {local:%b %Y}"
    return f"{day} {local:%H:%M} {_zone_abbr(local)}"


@register.filter
def when_full(value: datetime | None) -> str:
    """For title attributes: "2026-06-03 09:00:12 Europe/Paris (UTC+02:00)"."""
    if value is None:
        return ""
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {timezone.get_current_timezone_name()} (UTC{offset[:3]}:{offset[3:]})"


def ago(value: datetime, now: datetime | None = None) -> str:
    """How far `value` is from now in words: "just now", "in 5 min", "3 h ago", "2 days ago"."""
    seconds = ((now or timezone.now()) - value).total_seconds()
    span = abs(seconds)
    if span < 45:
        return "just now" if seconds >= 0 else "in a few seconds"
    if span < 3600:
        words = f"{round(span / 60)} min"
    elif span < 86400:
        words = f"{round(span / 3600)} h"
    else:
        days = round(span / 86400)
        words = f"{days} day{'s' if days != 1 else ''}"
    return f"{words} ago" if seconds >= 0 else f"in {words}"


@register.inclusion_tag("campaigns/partials/_moment.html")
def moment(value: datetime | None, relative: bool = True) -> dict:
    """A <time> showing the relative time and the date and zone, the exact time on hover."""
    if value is None:
        return {"value": None}
    return {
        "iso": value.isoformat(),
        "value": value,
        "relative": ago(value) if relative else "",
        "shown": when(value),
        "full": when_full(value),
    }


@register.filter
def when_or_now(value: datetime | None) -> str:
    """Like `when`, but "now" for a moment already past (a customer due now)."""
    if value is None:
        return ""
    return "now" if value <= timezone.now() else when(value)


@register.filter
def datetime_attr(value: datetime | None) -> str:
    return value.isoformat() if value else ""


@register.simple_tag
def next_event(campaign: Campaign, with_wait: bool = False) -> str:
    """When the campaign started, paused, ended or will start: "starts 3 Jun 09:00 CEST",
    "paused since 2 Dec 14:05 CET". What it waits for is the activity panel's (activity_text),
    said once on the page; `with_wait` (the campaigns list, which has no such panel) adds what
    the dialer last said it waits for."""
    if campaign.status == CampaignStatus.SCHEDULED:
        if not campaign.auto_start:
            start = f" (not before {when(campaign.earliest_at)})" if campaign.earliest_at else ""
            return f"waits for Start{start}"
        if campaign.earliest_at and campaign.earliest_at > timezone.now():
            return f"starts {when(campaign.earliest_at)}"
        return "starts within seconds"
    if campaign.status == CampaignStatus.PAUSED:
        return f"paused since {when(campaign.paused_at)}" if campaign.paused_at else "paused"
    if campaign.status in TERMINAL_STATUSES:
        return f"ended {when(campaign.ended_at)}" if campaign.ended_at else "ended"
    if with_wait and campaign.waiting_reason:
        words = reason_words(campaign.waiting_reason, campaign)
        text = f"waiting: {words[:1].lower()}{words[1:]}"
        return text + (f" until {when(campaign.waiting_until)}" if campaign.waiting_until else "")
    if with_wait:
        return "dialing"
    return f"running since {when(campaign.started_at)}" if campaign.started_at else "running"


@register.simple_tag
def activity_text(doing: Activity, campaign: Campaign) -> str:
    """What the campaign does right now, in one sentence (rules.activity)."""
    code, until = doing.code, doing.until
    at = f" {when(until)}" if until else ""
    live = campaign.calls_scheduled + campaign.calls_queued + campaign.calls_in_progress
    if code == activity.DIALING:
        return "Dialing: customers due are called as lines free up."
    if code == activity.FINISHING:
        calls = f"{live} call{pluralize(live)}"
        return f"Ended: {calls} still under way finish and are recorded; nobody new is called."
    if code == activity.ENDED:
        return f"{ended_reason_text(campaign.ended_reason) or 'Ended'}. Nobody is called any more."
    if code == activity.NOT_STARTED:
        return f"Not started: {next_event(campaign)}."
    if code == Reason.CAMPAIGN_PAUSED:
        return "Paused: calls under way finish; nobody new is called until you press Resume."
    if code == activity.NOBODY_DUE:
        if until:
            return f"Nobody is due now: the next customer is due{at}."
        return "Nobody is left to call: the campaign finishes once calls under way end."
    if code == ALL_LINES_BUSY:
        cap = campaign.max_concurrent_calls
        return f"Every line of the campaign is in use: {live} of {cap} calls under way."
    if code == PACING:
        pace = campaign.calls_per_minute or 0
        return f"Pacing: at most {pace} call{pluralize(pace)} a minute, evenly spaced; the next leaves{at}."
    words = reason_words(code, campaign)
    return f"{words}{': dialing resumes' + at if until else ''}."


def pluralize(n: int) -> str:
    return "" if n == 1 else "s"


# -- numbers --------------------------------------------------------------------------------------


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as "42 s", "3 min 05 s", "1 h 02 min"."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@register.filter
def minutes(seconds: int | str | None) -> str:
    """A retry delay in seconds as people say it: "10 min", "90 s", "2 h"."""
    if seconds in (None, ""):
        return ""
    seconds = int(seconds)
    if seconds % 3600 == 0 and seconds:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0 and seconds:
        return f"{seconds // 60} min"
    return f"{seconds} s"


@register.filter
def day_name(day: str) -> str:
    return WEEKDAY_SHORT_NAMES.get(day, day)


@register.filter
def get(mapping: dict, key: str) -> object:
    return (mapping or {}).get(key, "")


@register.filter
def num(value: int | None) -> str:
    """A count with thousands separators: 1,000,396."""
    return "" if value is None else f"{int(value):,}"


@register.filter
def money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:.2f}"


@register.filter
def rate(value: float | None) -> str:
    """A share as a percentage people read ("42%", "0.5%"), "—" when there is nothing to divide."""
    if value is None:
        return "—"
    shown = value * 100
    return f"{shown:.1f}%" if 0 < shown < 10 else f"{round(shown)}%"


@register.filter
def cost(value: object) -> str:
    """A cost with its unit (a selectors.Cost, or a Call): "$0.25", "$0.0125", "0.30 EUR",
    "412 credits"."""
    if hasattr(value, "cost_unit"):  # a call
        amount, unit = getattr(value, "cost", None), value.cost_unit
    else:
        amount, unit = getattr(value, "amount", None), getattr(value, "unit", "")
    if amount is None:
        return ""
    if unit == "credits":
        return f"{amount:.4f}".rstrip("0").rstrip(".") + " credits"
    text = f"{amount:.4f}"
    text = text[:-2] if text.endswith("00") else text  # $0.25, but $0.0125
    return f"${text}" if unit == "USD" else f"{text} {unit}".strip()


@register.simple_tag
def cost_of(amount: Decimal | None, unit: str) -> str:
    """`cost` of an amount and its unit given apart (a comparison row's cost per completed call)."""
    return cost(SimpleNamespace(amount=amount, unit=unit))


@register.filter
def talk_minutes(seconds: float | None) -> str:
    """Conversation time in minutes, one decimal: "12.5"."""
    return "0" if not seconds else f"{seconds / 60:,.1f}"


@register.filter
def json_value(value: object) -> str:
    """A value of a structured result as JSON writes it (true, not True; text as is)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@register.filter
def percent(part: int, whole: int) -> int:
    """part/whole as a whole percentage, 0 when whole is 0; never above 100."""
    return min(100, int(part * 100 / whole)) if whole else 0


# -- inline SVG charts ----------------------------------------------------------------------------

SPARK_WIDTH, SPARK_HEIGHT = 300, 48


@register.simple_tag
def sparkline_points(series: list[int]) -> str:
    """The polyline points of a calls-per-minute sparkline in a 300×48 box (0 at the bottom)."""
    if not series:
        return ""
    top = max(series) or 1
    step = SPARK_WIDTH / max(1, len(series) - 1)
    return " ".join(
        f"{i * step:.1f},{SPARK_HEIGHT - 2 - (value / top) * (SPARK_HEIGHT - 4):.1f}"
        for i, value in enumerate(series)
    )


@register.filter
def peak(series: list[int]) -> int:
    return max(series, default=0)


@register.simple_tag
def stacked(slices: list) -> list[dict]:
    """x and width (of 100) for each slice of a stacked bar, in order."""
    bars, x = [], 0.0
    for s in slices:
        width = s.share * 100
        bars.append({"slice": s, "x": f"{x:.2f}", "width": f"{width:.2f}"})
        x += width
    return bars


# -- navigation -----------------------------------------------------------------------------------

SECTIONS = (
    ("overview", "overview"),
    ("organization-audit", "audit"),
    ("notifications", "notifications"),
    ("do-not-call", "dnc"),
    ("audience", "audiences"),
    ("caller-id", "caller-ids"),
    ("provider", "providers"),
    ("api-key", "api-keys"),
    ("member", "members"),
    ("organization-", "organization"),
)


@register.simple_tag(takes_context=True)
def current(context: template.Context, section: str) -> str:
    """aria-current="page" on the navigation link of the section the page belongs to."""
    match = getattr(context.get("request"), "resolver_match", None)
    name = match.url_name if match else ""
    here = next((s for prefix, s in SECTIONS if name and name.startswith(prefix)), "campaigns")
    return mark_safe(' aria-current="page"') if here == section else ""


# -- the wallboard's trend chart -------------------------------------------------------------------

TREND_W, TREND_H, TREND_LEFT, TREND_BOTTOM = 320, 140, 34, 22


@register.simple_tag
def trend_chart(points: list) -> dict:
    """Axes, gridlines and polylines (answer and failed rate, 0–100%) of a campaign's trend over
    its life, in a 320×140 box: x from its first point to its last, labelled with their times."""
    plot_w, plot_h = TREND_W - TREND_LEFT - 6, TREND_H - TREND_BOTTOM - 8
    if not points:
        return {"empty": True}
    first, last = points[0].at, points[-1].at
    span = max((last - first).total_seconds(), 1.0)

    def xy(point: object, value: float) -> str:
        x = TREND_LEFT + (point.at - first).total_seconds() / span * plot_w
        return f"{x:.1f},{8 + plot_h - value * plot_h:.1f}"

    answer = " ".join(xy(p, p.answer_rate) for p in points if p.answer_rate is not None)
    failed = " ".join(xy(p, p.failed_rate) for p in points if p.failed_rate is not None)
    ticks = [
        {"y": f"{8 + plot_h - share * plot_h:.1f}", "label": f"{int(share * 100)}%"} for share in (0, 0.5, 1)
    ]
    return {
        "empty": False,
        "answer": answer,
        "failed": failed,
        "ticks": ticks,
        "left": TREND_LEFT,
        "right": TREND_LEFT + plot_w,
        "bottom": 8 + plot_h,
        "label_y": TREND_H - 6,
        "start": when(first),
        "end": when(last),
        "width": TREND_W,
        "height": TREND_H,
    }


@register.filter
def notice_url(notice: Notification) -> str:
    """Where a notice sends its reader: its campaign, the provider account, or the usage page."""
    if notice.campaign_id:
        return reverse("campaigns:detail", args=[notice.campaign_id])
    if notice.kind == NotificationKind.PROVIDER_FAILING and notice.target_id:
        return reverse("campaigns:provider", args=[notice.target_id])
    if notice.kind == NotificationKind.QUOTA_SPENT:
        return reverse("campaigns:organization-settings")
    return ""
