"""Template helpers of the dashboard: badges, reasons in words, times in the organization's zone, charts.

Times: views activate the organization's time zone, so `timezone.localtime`
here shows what its people expect; the zone's name is printed where it matters.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal

from django import template
from django.utils import timezone
from django.utils.safestring import mark_safe

from campaigns.models import TERMINAL_STATUSES, Campaign, CampaignEndedReason, CampaignStatus, CustomerState
from campaigns.rules.outcomes import OutcomeClass, classify
from campaigns.rules.policy import recipient_window
from campaigns.rules.reasons import ALL_LINES_BUSY, LABELS, Reason
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
    return {"status": status, "label": labels.get(status, status), "tone": tone}


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
        return "Due: called as soon as a line is free"
    words = LABELS.get(reason, reason.replace("_", " ").capitalize())
    if reason == Reason.OUTSIDE_CALLING_HOURS and campaign is not None:
        words += f" ({campaign.time_zone})"
    elif reason == Reason.RECIPIENT_LOCAL_TIME and campaign is not None:
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
def outcome_label(ended_reason: str) -> str:
    """A provider endedReason as the outcome class people think in ("No answer", "Busy")."""
    if not ended_reason:
        return ""
    return OUTCOME_LABELS.get(classify(ended_reason), OUTCOME_LABELS[OutcomeClass.FAILED])


# -- times ----------------------------------------------------------------------------------------


@register.filter
def when(value: datetime | None) -> str:
    """A moment in the active zone, as short as stays clear: "14:05", "Mon 09:00", "3 Jun 2026 09:00"."""
    if value is None:
        return ""
    local, now = timezone.localtime(value), timezone.localtime()
    if local.date() == now.date():
        return f"{local:%H:%M}"
    if abs(local - now) < timedelta(days=6):
        return f"{local:%a %H:%M}"
    return f"{local.day} {local:%b %Y %H:%M}"


@register.filter
def when_full(value: datetime | None) -> str:
    """For title attributes and tables that need the date: "2026-06-03 09:00:12 Europe/Paris"."""
    if value is None:
        return ""
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S} {timezone.get_current_timezone_name()}"


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
def next_event(campaign: Campaign) -> str:
    """The campaign's next event in words: "starts 09:00 Europe/Paris", "waiting: … until Mon 09:00"."""
    zone = timezone.get_current_timezone_name()
    if campaign.status == CampaignStatus.SCHEDULED:
        if not campaign.auto_start:
            start = f" (not before {when(campaign.earliest_at)} {zone})" if campaign.earliest_at else ""
            return f"waits for Start{start}"
        if campaign.earliest_at and campaign.earliest_at > timezone.now():
            return f"starts {when(campaign.earliest_at)} {zone}"
        return "starts within seconds"
    if campaign.status == CampaignStatus.PAUSED:
        return "paused: calls in flight finish, no new ones start"
    if campaign.status in TERMINAL_STATUSES:
        return f"ended {when(campaign.ended_at)}" if campaign.ended_at else "ended"
    if campaign.waiting_reason == ALL_LINES_BUSY:
        return "dialing: every line allowed is in use"
    if campaign.waiting_reason:
        words = reason_words(campaign.waiting_reason, campaign)
        text = f"waiting: {words[:1].lower()}{words[1:]}"
        if campaign.waiting_until:
            text += f" until {when(campaign.waiting_until)}"
        return text
    return "dialing"


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
    ("do-not-call", "dnc"),
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
