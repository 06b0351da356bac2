"""The campaign and its dial plan."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from campaigns.models.org import Organization
from campaigns.models.telephony import PhoneNumber
from campaigns.rules.autopause import DEFAULTS as AUTO_PAUSE
from campaigns.rules.contacts import BUCKETS
from campaigns.rules.inbound import DEFAULT_MODE as INBOUND_DEFAULT_MODE
from campaigns.rules.inbound import MESSAGE_LENGTH as INBOUND_MESSAGE_LENGTH
from campaigns.rules.inbound import MODES as INBOUND_MODES
from campaigns.rules.outcome_plan import HANG_UP_SECONDS, MAX_CALLBACKS
from campaigns.rules.reasons import CHOICES as REASON_CHOICES
from campaigns.rules.strategy import BOUNDS, DEFAULT_RETRY_DELAYS, DEFAULTS


class CampaignStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    IN_PROGRESS = "in-progress", "In progress"
    PAUSED = "paused", "Paused"  # ours; Vapi has no pause
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"  # Vapi's: stopped by a user (PATCH status cancelled)
    ARCHIVED = "archived", "Archived"  # Vapi v2's DELETE: hidden, records kept, can be unarchived


# A campaign in one of these never dials again (until unarchived, for archived ones).
TERMINAL_STATUSES = (CampaignStatus.ENDED, CampaignStatus.CANCELLED, CampaignStatus.ARCHIVED)


class CampaignEndedReason(models.TextChoices):
    SCHEDULED_ENDED_BY_USER = "campaign.scheduled.ended-by-user", "Ended by a user before it started"
    IN_PROGRESS_ENDED_BY_USER = "campaign.in-progress.ended-by-user", "Ended by a user while running"
    SUCCESS = "campaign.ended.success", "Finished"


class DialingOrder(models.TextChoices):
    FIFO = "fifo", "First in, first out"
    LIFO = "lifo", "Last in, first out"
    RANDOM = "random", "Random"


COUNTER_FIELDS = (
    "calls_scheduled",
    "calls_queued",
    "calls_in_progress",
    "calls_ended",
    "calls_ended_voicemail",
)
OUTCOME_COUNTER_FIELDS = (
    "calls_ended_answered",
    "calls_ended_voicemail",
    "calls_ended_no_answer",
    "calls_ended_busy",
    "calls_ended_failed",
)
# Customers per bucket (campaigns.rules.contacts.BUCKETS), and Vapi v2's call metrics.
CUSTOMER_COUNTER_FIELDS = (*BUCKETS, "customers_dialed", "customers_connected")


def default_retry_delays() -> dict:
    return dict(DEFAULT_RETRY_DELAYS)


def _within(field: str) -> Q:
    low, high = BOUNDS[field]
    return Q(**{f"{field}__gte": low, f"{field}__lte": high})


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=255)

    # The voice agent at the provider: exactly one of the three.
    assistant_id = models.CharField(max_length=100, null=True, blank=True)
    workflow_id = models.CharField(max_length=100, null=True, blank=True)
    squad_id = models.CharField(max_length=100, null=True, blank=True)
    # One caller ID for every customer, or a dial plan (DialPlanEntry rows).
    phone_number = models.ForeignKey(
        PhoneNumber, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    uses_dial_plan = models.BooleanField(default=False)
    # Our extension callerIdPool: with a mode, the dialer picks each call's caller ID among the
    # pool's numbers (CallerIdPoolEntry) and `phone_number`, the pool's default
    # (campaigns.rules.caller_ids); split mode draws each customer's provider from the weights
    # ([provider account id, weight] pairs, in the order the split groups are lettered A, B, ...).
    caller_id_mode = models.CharField(
        max_length=20,
        blank=True,
        db_default="",
        default="",
        choices=[("local-presence", "Local presence"), ("split", "Split across providers")],
    )
    caller_id_weights = models.JSONField(default=list, blank=True, db_default=[])

    # Vapi schedulePlan: absolute UTC instants.
    earliest_at = models.DateTimeField(null=True, blank=True)
    latest_at = models.DateTimeField(null=True, blank=True)

    # Dialing strategy (our extension; the API's dialingStrategy object).
    time_zone = models.CharField(max_length=64, default=DEFAULTS["time_zone"])
    calling_hours = models.JSONField(
        default=list,
        blank=True,
        help_text='Weekly windows: [{"day": "mon", "start": "09:00", "end": "17:00"}]',
    )
    respect_recipient_time_zone = models.BooleanField(default=DEFAULTS["respect_recipient_time_zone"])
    recipient_earliest = models.TimeField(null=True, blank=True, help_text="Narrows the org floor.")
    recipient_latest = models.TimeField(null=True, blank=True, help_text="Narrows the org floor.")
    max_concurrent_calls = models.PositiveIntegerField(default=DEFAULTS["max_concurrent_calls"])
    calls_per_minute = models.PositiveIntegerField(null=True, blank=True)
    max_attempts = models.PositiveIntegerField(default=DEFAULTS["max_attempts"])
    retry_delays = models.JSONField(default=default_retry_delays, blank=True)
    retry_voicemail = models.BooleanField(default=DEFAULTS["retry_voicemail"])
    max_ring_seconds = models.PositiveIntegerField(default=DEFAULTS["max_ring_seconds"])
    max_duration_seconds = models.PositiveIntegerField(default=DEFAULTS["max_duration_seconds"])
    dialing_order = models.CharField(max_length=10, choices=DialingOrder.choices, default=DialingOrder.FIFO)
    priority = models.PositiveSmallIntegerField(
        default=DEFAULTS["priority"],
        help_text=f"{BOUNDS['priority'][0]} (low) to {BOUNDS['priority'][1]} (high).",
    )
    machine_detection = models.BooleanField(default=DEFAULTS["machine_detection"])
    # Vapi's rule: never-dialed customers waiting for capacity are dropped this long after start.
    capacity_wait_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Start by itself at earliestAt (or at once). Off: waits for someone to press start.
    auto_start = models.BooleanField(default=DEFAULTS["auto_start"])

    # Vapi's 2026 campaign fields. 2 for campaigns created through /v2/campaign (immutable after
    # create, DELETE archives), 1 otherwise.
    api_version = models.PositiveSmallIntegerField(default=1)
    # Campaign-wide overrides, merged under each customer's own at dispatch (customer wins).
    assistant_overrides = models.JSONField(null=True, blank=True)
    squad_overrides = models.JSONField(null=True, blank=True)
    # Where campaign events (server_messages) and the pre-dial check (predial_plan) are sent:
    # Vapi's Server object {url, timeoutSeconds, headers, backoffPlan, ...}.
    server = models.JSONField(null=True, blank=True)
    server_messages = models.JSONField(default=list, blank=True)
    # Vapi's predialPlan ({"enabled": bool}); None when the campaign has none.
    predial_plan = models.JSONField(null=True, blank=True)
    duplicated_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    # A re-run (services.reruns): the campaign whose outcomes chose its customers, and the groups
    # asked for (rules.rerun.GROUPS).
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns"
    )
    rerun_who = models.JSONField(default=list, db_default=[], blank=True)
    # A run of a recurring campaign (models.series): its series and its day, made once each.
    series = models.ForeignKey(
        "campaigns.CampaignSeries", null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    series_run_on = models.DateField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    # Typed customer data (campaigns.rules.schemas): a JSON Schema every customer's data (the
    # variables sent to the agent, assistantOverrides.variableValues) must meet; its version
    # counts each change (services.campaign_schema_set).
    data_schema = models.JSONField(null=True, blank=True)
    # Customers' metadata (kept with us for reporting, never sent to the agent); the version
    # counts changes of either schema.
    metadata_schema = models.JSONField(null=True, blank=True)
    data_schema_version = models.PositiveIntegerField(default=0)
    # The callee's own calendar (campaigns.rules.engine): the campaign's holidays (ISO dates, on
    # top of the organization's), and where a number that may be in several zones is taken to be:
    # "every" (wait until each allows a call) or "campaign" (in the campaign's time zone).
    blackout_dates = models.JSONField(default=list, blank=True)
    ambiguous_zones = models.CharField(
        max_length=10, default="every", choices=[("every", "Every zone"), ("campaign", "The campaign's zone")]
    )

    # Outcomes (our extension, rules.analysis and rules.outcome_plan): what the call is for, the
    # structured result the voice agent extracts (a JSON Schema), the ordered outcome rules
    # (snake_case JSON, rules.outcome_plan), opt-outs, callbacks and what to do on a machine.
    objective = models.TextField(blank=True, db_default="", default="")
    analysis_schema = models.JSONField(null=True, blank=True)
    objective_field = models.CharField(max_length=260, blank=True, db_default="", default="")
    outcome_rules = models.JSONField(default=list, db_default=[], blank=True)
    hang_up_is_opt_out = models.BooleanField(default=False, db_default=False)
    hang_up_opt_out_seconds = models.PositiveSmallIntegerField(
        default=HANG_UP_SECONDS, db_default=HANG_UP_SECONDS
    )
    callback_field = models.CharField(max_length=260, blank=True, db_default="", default="")
    max_callbacks = models.PositiveSmallIntegerField(default=MAX_CALLBACKS, db_default=MAX_CALLBACKS)
    # {"action": "hang-up" | "leave-message", "message": text, "recording_url": url,
    #  "then": "done" | "retry"}; None: the provider's default.
    voicemail_plan = models.JSONField(null=True, blank=True)
    # Automatic pause (rules.autopause): when the provider's error rate over the last
    # `auto_pause_window` ended calls reaches `auto_pause_error_rate` percent, or
    # `auto_pause_consecutive` calls in a row fail, the campaign pauses itself and says why.
    auto_pause_enabled = models.BooleanField(default=True, db_default=True)
    auto_pause_window = models.PositiveSmallIntegerField(
        default=AUTO_PAUSE["window"], db_default=AUTO_PAUSE["window"]
    )
    auto_pause_error_rate = models.PositiveSmallIntegerField(
        default=AUTO_PAUSE["error_rate"], db_default=AUTO_PAUSE["error_rate"]
    )
    auto_pause_consecutive = models.PositiveSmallIntegerField(
        default=AUTO_PAUSE["consecutive"], db_default=AUTO_PAUSE["consecutive"]
    )
    auto_paused_reason = models.CharField(max_length=200, blank=True, db_default="", default="")
    # Callbacks from callees (rules.inbound, Cobbery's InboundMode): reject with the message said
    # (empty: at once), or route to the campaign's agent with the customer's context; a caller on
    # the do-not-call list is routed only when `inbound_route_do_not_call` says so.
    inbound_mode = models.CharField(
        max_length=10,
        choices=[(m, m.capitalize()) for m in INBOUND_MODES],
        default=INBOUND_DEFAULT_MODE,
        db_default=INBOUND_DEFAULT_MODE,
    )
    inbound_rejection_message = models.CharField(
        max_length=INBOUND_MESSAGE_LENGTH, blank=True, default="", db_default=""
    )
    inbound_route_do_not_call = models.BooleanField(default=False, db_default=False)
    archived_at = models.DateTimeField(null=True, blank=True)
    # What an unarchive restores (the status the campaign had when it was archived).
    status_before_archive = models.CharField(max_length=20, blank=True)

    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.SCHEDULED)
    ended_reason = models.CharField(max_length=60, choices=CampaignEndedReason.choices, blank=True)
    # Why the campaign as a whole is not dialing now, kept by the dialer's tick.
    waiting_reason = models.CharField(max_length=40, blank=True, choices=REASON_CHOICES)
    waiting_until = models.DateTimeField(null=True, blank=True)
    waiting_detail = models.CharField(max_length=200, blank=True)
    # The pacing bucket (rules.pacing), shared by every dispatcher under the campaign's lock.
    pacing_tokens = models.FloatField(default=0)
    pacing_at = models.DateTimeField(null=True, blank=True)

    # Vapi's five counters, moved in the same transaction as the calls they count.
    calls_scheduled = models.BigIntegerField(default=0)
    calls_queued = models.BigIntegerField(default=0)
    calls_in_progress = models.BigIntegerField(default=0)
    calls_ended = models.BigIntegerField(default=0)
    calls_ended_voicemail = models.BigIntegerField(default=0)
    # Ended calls by outcome class (rules.outcomes.OUTCOME_COUNTERS), moved with calls_ended:
    # with voicemail they add up to it. What the wallboard's rates read.
    calls_ended_answered = models.BigIntegerField(default=0)
    calls_ended_no_answer = models.BigIntegerField(default=0)
    calls_ended_busy = models.BigIntegerField(default=0)
    calls_ended_failed = models.BigIntegerField(default=0)
    # Progress: customers in total and customers in a final state.
    customers_total = models.BigIntegerField(default=0)
    customers_final = models.BigIntegerField(default=0)
    # Customers per contact bucket (rules.contacts), moved with every customer state change.
    customers_pending = models.BigIntegerField(default=0)
    customers_dispatched = models.BigIntegerField(default=0)
    customers_completed = models.BigIntegerField(default=0)
    customers_failed = models.BigIntegerField(default=0)
    customers_skipped = models.BigIntegerField(default=0)
    customers_predial_failed = models.BigIntegerField(default=0)
    customers_cancelled = models.BigIntegerField(default=0)
    # Vapi's callMetrics: customers a call was placed to, and those a person answered.
    customers_dialed = models.BigIntegerField(default=0)
    customers_connected = models.BigIntegerField(default=0)
    # Customers whose latest call gave a valid structured result, and those whose objective it met.
    customers_analysed = models.BigIntegerField(default=0, db_default=0)
    customers_objective_met = models.BigIntegerField(default=0, db_default=0)
    # What its calls cost and lasted, summed as providers report them (lists sort by these).
    calls_cost = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    calls_duration_seconds = models.FloatField(default=0)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="campaign_org_created"),
            models.Index(fields=["status"], name="campaign_status", condition=Q(deleted_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                name="campaign_exactly_one_target",
                condition=(
                    Q(assistant_id__isnull=False, workflow_id__isnull=True, squad_id__isnull=True)
                    | Q(assistant_id__isnull=True, workflow_id__isnull=False, squad_id__isnull=True)
                    | Q(assistant_id__isnull=True, workflow_id__isnull=True, squad_id__isnull=False)
                ),
            ),
            models.CheckConstraint(
                name="campaign_phone_number_xor_dial_plan",
                condition=(
                    Q(phone_number__isnull=False, uses_dial_plan=False)
                    | Q(phone_number__isnull=True, uses_dial_plan=True)
                ),
            ),
            models.CheckConstraint(
                name="campaign_counters_not_negative",
                condition=(
                    Q(calls_scheduled__gte=0)
                    & Q(calls_queued__gte=0)
                    & Q(calls_in_progress__gte=0)
                    & Q(calls_ended__gte=0)
                    & Q(calls_ended_voicemail__gte=0)
                    & Q(customers_total__gte=0)
                    & Q(customers_final__gte=0)
                ),
            ),
            models.CheckConstraint(
                name="campaign_customer_counters_not_negative",
                condition=Q(
                    customers_pending__gte=0,
                    customers_dispatched__gte=0,
                    customers_completed__gte=0,
                    customers_failed__gte=0,
                    customers_skipped__gte=0,
                    customers_predial_failed__gte=0,
                    customers_cancelled__gte=0,
                    customers_dialed__gte=0,
                    customers_connected__gte=0,
                    calls_ended_answered__gte=0,
                    calls_ended_no_answer__gte=0,
                    calls_ended_busy__gte=0,
                    calls_ended_failed__gte=0,
                ),
            ),
            models.CheckConstraint(
                name="campaign_voicemail_within_ended",
                condition=Q(calls_ended_voicemail__lte=F("calls_ended")),
            ),
            models.UniqueConstraint(
                fields=["series", "series_run_on"],
                condition=Q(series__isnull=False),
                name="campaign_one_run_per_series_day",
            ),
            models.CheckConstraint(
                name="campaign_schedule_ordered",
                condition=Q(latest_at__isnull=True)
                | Q(earliest_at__isnull=True)
                | Q(latest_at__gte=F("earliest_at")),
            ),
            models.CheckConstraint(
                name="campaign_ended_reason_iff_ended",
                condition=(Q(status__in=TERMINAL_STATUSES) & ~Q(ended_reason=""))
                | (~Q(status__in=TERMINAL_STATUSES) & Q(ended_reason="")),
            ),
            # The bounds the database holds (rules.strategy.BOUNDS); the concurrency's upper
            # bound is the services' alone.
            models.CheckConstraint(
                name="campaign_strategy_bounds",
                condition=(
                    _within("max_attempts")
                    & Q(max_concurrent_calls__gte=BOUNDS["max_concurrent_calls"][0])
                    & _within("max_ring_seconds")
                    & _within("priority")
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        """Scheduled or paused: its settings may change (the builder), and a pre-flight says who a
        start or a resume would call."""
        return self.status in (CampaignStatus.SCHEDULED, CampaignStatus.PAUSED)

    @property
    def has_ended(self) -> bool:
        """Ended, cancelled or archived: it never dials again."""
        return self.status in TERMINAL_STATUSES

    @property
    def target(self) -> tuple[str, str]:
        """('assistantId' | 'workflowId' | 'squadId', value)."""
        if self.assistant_id:
            return "assistantId", self.assistant_id
        if self.workflow_id:
            return "workflowId", self.workflow_id
        return "squadId", self.squad_id or ""


class DialPlanEntry(models.Model):
    """A caller ID and the customers it calls, within one campaign."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="dial_plan")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["campaign", "position"]
        verbose_name_plural = "dial plan entries"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="dial_plan_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.phone_number}"


class CallerIdPoolEntry(models.Model):
    """One caller ID of a campaign's pool (besides the campaign's own phone number, its default)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="caller_pool")
    phone_number = models.ForeignKey(PhoneNumber, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["campaign", "position"]
        verbose_name = "caller ID of a pool"
        verbose_name_plural = "caller IDs of pools"
        constraints = [
            models.UniqueConstraint(fields=["campaign", "phone_number"], name="caller_pool_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.phone_number}"
