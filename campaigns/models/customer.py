"""One person to call in one campaign, with where they stand."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import NotSupportedError, models
from django.db.models import F, Func, Q
from uuid_utils.compat import uuid7

from campaigns.models.campaign import Campaign, DialPlanEntry
from campaigns.models.telephony import PhoneNumber
from campaigns.rules.reasons import CHOICES as REASON_CHOICES


class CustomerState(models.TextChoices):
    PENDING = "pending", "Pending"
    QUEUED = "queued", "Queued"
    DIALING = "dialing", "Dialing"
    COMPLETED = "completed", "Completed"
    VOICEMAIL = "voicemail", "Voicemail"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    CANCELLED = "cancelled", "Cancelled"


# A customer with a number (one reached at a SIP URI has none): numbers are unique per campaign
# among those alone.
HAS_NUMBER = ~Q(number="")


class SubmittedEcho(Func):
    """The customer as submitted, in Vapi's CreateCustomerDTO, without its overrides: compact
    JSON text, unset keys absent (`{"number":"+4930...","name":"Ada","numberE164CheckEnabled":false}`).

    The database computes it whenever the row is written (`Customer.echo`, a stored generated
    column), so every writer (imports by COPY, a segment's snapshot, the API, the admin) keeps it
    true, and a campaign document splices it in instead of building 20,000 objects
    (selectors.documents, api.serializers.customer.document_echo). It is the one statement of what
    the document echoes of those fields: `number` as submitted (`number_submitted`, else the
    canonical number), the other strings when not empty, `numberE164CheckEnabled` only when off.
    Built only from immutable functions, as a generated column must be, on PostgreSQL
    (json_object escapes the strings, json_strip_nulls drops the unset ones and writes the object
    compactly) and on SQLite (json_quote).
    """

    output_field = models.TextField()
    KEYS = ("number", "sipUri", "extension", "name", "email", "externalId")
    FIELDS = ("number", "number_submitted", "sip_uri", "extension", "name", "email", "external_id")

    def __init__(self) -> None:
        super().__init__(*(F(field) for field in (*self.FIELDS, "number_e164_check_enabled")))

    def _columns(self, compiler, connection) -> tuple[list[str], str]:
        """The SQL of the echoed values, in KEYS' order, and of number_e164_check_enabled."""
        sql = [compiler.compile(expression)[0] for expression in self.get_source_expressions()]
        number, submitted, *rest, e164 = sql
        return [f"COALESCE(NULLIF({submitted}, ''), {number})", *rest], e164

    def as_sql(self, compiler, connection, **extra_context):
        raise NotSupportedError(f"SubmittedEcho has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra_context) -> tuple[str, list]:
        values, e164 = self._columns(compiler, connection)
        keys = ", ".join(f"'{key}'" for key in self.KEYS)
        nullable = ", ".join(f"NULLIF({value}, '')" for value in values)
        # json_object's text less its closing brace, the flag appended, then normalised.
        sql = (
            f"json_strip_nulls((left(json_object(ARRAY[{keys}], ARRAY[{nullable}]::text[])::text, -1)"
            f" || CASE WHEN {e164} THEN '}}' ELSE ', \"numberE164CheckEnabled\": false}}' END)::json)::text"
        )
        return sql, []

    def as_sqlite(self, compiler, connection, **extra_context) -> tuple[str, list]:
        values, e164 = self._columns(compiler, connection)
        # Each member with a leading comma; the first comma dropped.
        members = [
            f"CASE WHEN {value} <> '' THEN ',\"{key}\":' || json_quote({value}) ELSE '' END"
            for key, value in zip(self.KEYS, values, strict=True)
        ]
        members.append(f"CASE WHEN {e164} THEN '' ELSE ',\"numberE164CheckEnabled\":false' END")
        return f"('{{' || substr({' || '.join(members)}, 2) || '}}')", []


def customer_id() -> uuid.UUID:
    """A new customer's id: a time-ordered UUID (version 7, RFC 9562), ascending within a process.

    A campaign's customers are imported together and dialed roughly in their order, so its
    latest calls' customers sit side by side in the primary key's index when the ids follow time,
    and scattered through all of it when they are random. At ten million customers, joining the
    latest 10,000 calls to their customers read 9,000 index pages from outside PostgreSQL's
    buffers on every request with random ids (96 ms), none with these (47 ms, README,
    Performance). The string is a UUID as before (Vapi's ids are UUIDs); every writer of
    customers takes its ids here (the model's default; services.customers' imports, a list
    copied in at a start included)."""
    return uuid7()


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=customer_id, editable=False)
    # Indexed through the composite indexes below (campaign first), not on its own: every
    # extra index is paid for on each of a million inserted rows.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="customers", db_index=False)
    dial_plan_entry = models.ForeignKey(
        DialPlanEntry,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="customers",
        db_index=False,
    )
    # Order of submission; `sort_key` is the dialing order derived from it (fifo, lifo, random).
    position = models.BigIntegerField()
    sort_key = models.BigIntegerField()

    # The number in canonical E.164 (campaigns.phone.to_e164): what is de-duplicated, checked
    # against do-not-call and zoned. A number typed with the E.164 check off that has no canonical
    # form (a SIP trunk's dialing string) is kept as typed.
    number = models.CharField(max_length=40, blank=True)
    # The number as submitted, when it differs from `number` ("+49030..." for "+4930..."): what
    # Vapi's document echoes, and what is dialed when the E.164 check is off.
    number_submitted = models.CharField(max_length=40, blank=True)
    number_e164_check_enabled = models.BooleanField(default=True)
    sip_uri = models.CharField(max_length=255, blank=True)
    extension = models.CharField(max_length=10, blank=True)
    name = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=40, blank=True)
    assistant_overrides = models.JSONField(null=True, blank=True)
    squad_overrides = models.JSONField(null=True, blank=True)  # Vapi 2026, for squad campaigns
    # What the campaign document echoes of the fields above but the overrides, kept by the
    # database (SubmittedEcho). A saved instance's is read back on insert, not on update: read it
    # from the database, as the documents do.
    echo = models.GeneratedField(expression=SubmittedEcho(), output_field=models.TextField(), db_persist=True)
    # Facts derived once at import: the callee's IANA zones ("America/Chicago,America/Denver").
    time_zones = models.CharField(max_length=200, blank=True)
    # The callee's own zone when one was given (our `timeZone`, or a list contact's): then it is
    # the only one in `time_zones`, whatever the number's zones are.
    time_zone = models.CharField(max_length=64, blank=True)
    # Ours: where the callee lives (campaigns.places: "US-TX", "FR"; a postal code). Their zones,
    # when no timeZone was given, are the place's (in `time_zones`), and the region rules of
    # their region hold them as those of their number's do.
    region = models.CharField(max_length=10, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    # Ours: data kept with us for reporting, never sent to the provider (the campaign's
    # metadata_schema checks it); None when the customer has none.
    metadata = models.JSONField(null=True, blank=True)

    # Dialing state.
    state = models.CharField(max_length=10, choices=CustomerState.choices, default=CustomerState.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_outcome = models.CharField(max_length=200, blank=True, help_text="endedReason of the last call.")
    # Vapi's callMetrics: when a call to this customer first reached the provider, and when a
    # person first answered one (voicemail is not a person).
    dialed_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    # Why the customer is waiting or skipped (campaigns.rules.reasons.Reason), and the words for people.
    reason = models.CharField(max_length=40, blank=True, choices=REASON_CHOICES)
    reason_detail = models.CharField(max_length=200, blank=True)
    # The latest valid structured result of a call to this customer and what it said of the
    # objective (filterable; summarised per campaign), and callbacks the callee asked for.
    analysis = models.JSONField(null=True, blank=True)
    objective_met = models.BooleanField(null=True, blank=True)
    callback_at = models.DateTimeField(null=True, blank=True)
    callbacks = models.PositiveSmallIntegerField(default=0, db_default=0)
    # A pool's choice for this customer (rules.caller_ids): kept across retries while usable.
    caller_id = models.ForeignKey(
        PhoneNumber, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "position"]
        indexes = [
            # The dialer's claim: due pending customers of one campaign in dialing order.
            # Partial, so claimed and finished rows never slow it down (research/stack.md §3c).
            models.Index(
                fields=["campaign", "next_attempt_at", "sort_key"],
                name="customer_due_pending",
                condition=Q(state="pending"),
            ),
            models.Index(fields=["campaign", "position"], name="customer_campaign_position"),
            # Who is calling back (selectors.inbound): dialed customers by number. Partial, so an
            # import of a million customers never touches it; each enters once, when first dialed.
            models.Index(
                fields=["number"], name="customer_dialed_number", condition=Q(dialed_at__isnull=False)
            ),
            # The customers list's other sortable columns (selectors.customers.CUSTOMER_SORTS).
            models.Index(fields=["campaign", "name", "id"], name="customer_campaign_name"),
            # The search box (selectors.customers.customer_search): the exact external id. (A part
            # of the name is found through the trigram index customer_name_trgm on PostgreSQL,
            # migration 0024_search.)
            models.Index(
                fields=["campaign", "external_id"], name="customer_external_id", condition=~Q(external_id="")
            ),
            models.Index(fields=["campaign", "attempts", "id"], name="customer_campaign_attempts"),
            models.Index(fields=["campaign", "next_attempt_at", "id"], name="customer_campaign_next"),
            models.Index(fields=["campaign", "state", "reason"], name="customer_campaign_state"),
            models.Index(
                fields=["campaign", "objective_met"],
                name="customer_objective",
                condition=Q(objective_met__isnull=False),
            ),
            models.Index(
                fields=["dial_plan_entry"],
                name="customer_dial_plan_entry",
                condition=Q(dial_plan_entry__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "number"], condition=HAS_NUMBER, name="customer_number_unique"
            ),
            models.CheckConstraint(name="customer_has_destination", condition=~Q(number="") | ~Q(sip_uri="")),
        ]

    @staticmethod
    def with_numbers(numbers: Iterable[str]) -> Q:
        """Customers with one of these numbers, found in a campaign through the unique index
        customer_number_unique. Its condition is spelled out, as Call.with_provider_ids does:
        PostgreSQL proves a partial index's condition from an IN list of at most 100 values.
        Measured, 1,000 numbers in a campaign of a million pending customers: 475 ms (every
        pending customer of the campaign read) -> 53 ms."""
        return Q(number__in=numbers) & HAS_NUMBER

    def __str__(self) -> str:
        return self.number or self.sip_uri

    @property
    def zone_list(self) -> tuple[str, ...]:
        return tuple(z for z in self.time_zones.split(",") if z)
