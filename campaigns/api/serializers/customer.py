"""Customers: Vapi's CreateCustomerDTO (in and echoed out) and our customer resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from campaigns.api.serializers.common import iso
from campaigns.api.serializers.request import NON_FIELD, Problems, RequestSerializer
from campaigns.api.serializers.server import (
    OVERRIDES_DOC,
    Overrides,
    call_server_problems,
    override_problems,
)
from campaigns.importers import MAX_LENGTHS, NUMBER_LENGTH, check_customer
from campaigns.models import Customer, CustomerState
from campaigns.services import CustomerInput
from campaigns.services.errors import WORDING, FieldError

# Vapi's limit per campaign document; larger campaigns are read page by page.
MAX_CUSTOMERS = 10_000
BULK_BODY = "request body must be an array of customers, or a multipart/form-data CSV upload"


def customer_echo(customer: Any) -> dict[str, Any]:
    """The customer as it was submitted (Vapi's CreateCustomerDTO); unset keys absent.

    `customer` is a Customer read from the database, or a row of selectors.documents: its stored
    `echo` (models.customer.SubmittedEcho, what every field but the overrides echoes), then its
    overrides when it has any."""
    echo = orjson.loads(customer.echo)
    if customer.assistant_overrides is not None:
        echo["assistantOverrides"] = customer.assistant_overrides
    if customer.squad_overrides is not None:
        echo["squadOverrides"] = customer.squad_overrides
    return echo


def document_echo(customer: Any) -> orjson.Fragment | dict[str, Any]:
    """customer_echo for a campaign document, which orjson writes (api.renderers): a customer
    without overrides (nearly all) is its stored echo spliced in as it is, so a 10,000-customer
    document builds no object per customer."""
    if customer.assistant_overrides is None and customer.squad_overrides is None:
        return orjson.Fragment(customer.echo)
    return customer_echo(customer)


def named(rows: list[CustomerInput], path: str) -> list[CustomerInput]:
    """Each row named by where it is in the body (``customers.3``), as the services' errors
    about it will be (``customers.3.number duplicates customers.0``)."""
    for i, row in enumerate(rows):
        row.source = f"{path}.{i}"
    return rows


@extend_schema_serializer(component_name="CreateCustomerDTO")
class CustomerSerializer(RequestSerializer):
    """Vapi's CreateCustomerDTO. Documents the wire format; `check_customer` enforces it.

    Customers need a `number` or a `sipUri`. Unknown keys are refused, except inside
    `assistantOverrides` and `squadOverrides` (Vapi 2026, for squad campaigns), which are stored and
    forwarded to the provider as they are, merged over the campaign's own, and may not set the
    call's `server` or `serverMessages`.
    """

    # The fields document check_customer's rules (campaigns.importers: the one customer check
    # of JSON bodies, CSV rows and the dashboard's paste box), from its own limits.
    number = serializers.CharField(
        required=False,
        min_length=NUMBER_LENGTH[0],
        max_length=NUMBER_LENGTH[1],
        help_text="E.164 (`+` and up to 15 digits) unless numberE164CheckEnabled is false, "
        "then `^\\+?[a-zA-Z0-9]+$`.",
    )
    numberE164CheckEnabled = serializers.BooleanField(
        required=False, default=True, help_text="Default true. Echoed only when sent as false."
    )
    extension = serializers.CharField(
        required=False, max_length=MAX_LENGTHS["extension"], help_text="Dialed after the call is answered."
    )
    sipUri = serializers.CharField(required=False, max_length=MAX_LENGTHS["sipUri"])
    name = serializers.CharField(required=False, max_length=MAX_LENGTHS["name"])
    email = serializers.CharField(required=False, max_length=MAX_LENGTHS["email"])
    externalId = serializers.CharField(required=False, max_length=MAX_LENGTHS["externalId"])
    assistantOverrides = Overrides(
        required=False, help_text=f"This customer's overrides (e.g. variableValues). {OVERRIDES_DOC}"
    )
    squadOverrides = Overrides(
        required=False, help_text=f"For squad campaigns: this customer's squad overrides. {OVERRIDES_DOC}"
    )
    timeZone = serializers.CharField(
        required=False,
        help_text="Dialdeck extension: the callee's own IANA zone (e.g. America/Chicago). Calling hours "
        "are then kept in it alone, whatever zones the number may be in.",
    )
    region = serializers.CharField(
        required=False,
        max_length=10,
        help_text="Dialdeck extension: where the callee lives, an ISO 3166 country or subdivision "
        "(FR, US-CA, DE-BY). Without timeZone, calling hours are kept in its zones (a US state's, "
        "else its country's) instead of the number's; a region rule of this region holds the "
        "callee as one of their number's region does. Echoed in canonical form.",
    )
    postalCode = serializers.CharField(
        required=False,
        max_length=16,
        help_text="Dialdeck extension: the callee's postal code. A US ZIP (12345 or 12345-6789) "
        "gives the callee's zone and fills in region (one that contradicts a given region is "
        "refused); any other is kept as given, and region says where.",
    )
    metadata = serializers.DictField(
        required=False,
        help_text="Dialdeck extension: data kept with us for reporting, never sent to the provider; "
        "checked against the campaign's metadataSchema (PUT /campaign/{id}/schema).",
    )

    def to_internal_value(self, data: Any) -> CustomerInput:
        """check_customer (the one customer check of every input path) reads everything but
        squadOverrides, which only JSON bodies carry; both overrides are refused a call server."""
        squad = data.get("squadOverrides") if isinstance(data, Mapping) else None
        rest = {k: v for k, v in data.items() if k != "squadOverrides"} if isinstance(data, Mapping) else data
        customer, errors = check_customer(rest, "")
        if isinstance(data, Mapping):
            errors += _overrides_errors(data)
        if errors:
            problems = Problems()
            for error in errors:
                problems.add(error.field or NON_FIELD, error.message)
            problems.raise_any()
        customer.squad_overrides = dict(squad) if squad is not None else None
        return customer

    def to_representation(self, instance: Customer) -> dict[str, Any]:
        return customer_echo(instance)


def _overrides_errors(data: Mapping) -> list[FieldError]:
    """A customer's squadOverrides as check_customer checks assistantOverrides (an object within
    campaigns.jsonlimits), and neither setting the call's server: the refusals check_customer
    does not make."""
    errors = []
    squad = data.get("squadOverrides")
    if squad is not None and not isinstance(squad, Mapping):
        errors.append(FieldError("squadOverrides", WORDING["object"]))
    elif squad is not None:
        errors += override_problems(squad, "squadOverrides")
    assistant = data.get("assistantOverrides")
    if isinstance(assistant, Mapping):  # its limits are check_customer's
        errors += call_server_problems(assistant, "assistantOverrides")
    return errors


def customer_rows(data: Any) -> list[CustomerInput]:
    """The body of POST /campaign/{id}/customers: a bare array of customers, at least one,
    named ``customers.<i>`` like the `customers` of a campaign."""
    rows = CustomerSerializer(many=True, min_length=1, error_messages={"not_a_list": BULK_BODY})
    try:
        return named(rows.run_validation(data), "customers")
    except ValidationError as exc:
        raise ValidationError({"customers": exc.detail}) from None


@extend_schema_serializer(component_name="CampaignCustomer")
class CustomerRecordSerializer(serializers.Serializer):
    """A customer of a campaign with where it stands (Dialdeck extension)."""

    id = serializers.UUIDField()
    number = serializers.CharField(required=False)
    name = serializers.CharField(required=False)
    email = serializers.CharField(required=False)
    externalId = serializers.CharField(required=False)
    extension = serializers.CharField(required=False)
    sipUri = serializers.CharField(required=False)
    state = serializers.ChoiceField(choices=CustomerState.values)
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(help_text="When it is due next (pending customers).")
    lastOutcome = serializers.CharField(required=False, help_text="endedReason of the last call.")
    reason = serializers.CharField(
        required=False, help_text="Why it waits or was skipped (e.g. do_not_call, outside_calling_hours)."
    )
    reasonDetail = serializers.CharField(required=False, help_text="The same, in words for people.")
    objectiveMet = serializers.BooleanField(
        required=False, help_text="What the latest valid structured result said of the objective."
    )
    analysis = serializers.DictField(required=False, help_text="The latest valid structured result.")
    callbackAt = serializers.DateTimeField(
        required=False, help_text="When the callee asked to be called back."
    )
    callbacks = serializers.IntegerField(required=False, help_text="Callbacks granted (beyond maxAttempts).")
    metadata = serializers.DictField(required=False, help_text="Dialdeck: the customer's metadata, if any.")
    timeZone = serializers.CharField(required=False, help_text="The callee's own zone, when given.")
    region = serializers.CharField(
        required=False, help_text="Where the callee lives (canonical), when given."
    )
    postalCode = serializers.CharField(required=False, help_text="The callee's postal code, when given.")
    timeZones = serializers.ListField(
        child=serializers.CharField(),
        help_text="The zones whose hours the callee is called in: timeZone, else where they live "
        "(region, postalCode), else their number's; empty when none is known.",
    )

    def to_representation(self, instance: Customer) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(instance.id)}
        for key, value in (
            ("number", instance.number),
            ("name", instance.name),
            ("email", instance.email),
            ("externalId", instance.external_id),
            ("extension", instance.extension),
            ("sipUri", instance.sip_uri),
        ):
            if value:
                data[key] = value
        data["state"] = instance.state
        data["attempts"] = instance.attempts
        data["nextAttemptAt"] = iso(instance.next_attempt_at)
        for key, value in (
            ("lastOutcome", instance.last_outcome),
            ("reason", instance.reason),
            ("reasonDetail", instance.reason_detail),
        ):
            if value:
                data[key] = value
        if instance.objective_met is not None:
            data["objectiveMet"] = instance.objective_met
        if instance.analysis is not None:
            data["analysis"] = instance.analysis
        if instance.callback_at is not None:
            data["callbackAt"] = iso(instance.callback_at)
        if instance.callbacks:
            data["callbacks"] = instance.callbacks
        if instance.metadata is not None:
            data["metadata"] = instance.metadata
        for key, value in (
            ("timeZone", instance.time_zone),
            ("region", instance.region),
            ("postalCode", instance.postal_code),
        ):
            if value:
                data[key] = value
        data["timeZones"] = list(instance.zone_list)
        return data


class ImportResultSerializer(serializers.Serializer):
    """What a bulk add did. Duplicates (already in the campaign or repeated) are skipped;
    numbers on the do-not-call list or impossible ones are added as skipped customers."""

    added = serializers.IntegerField(help_text="Customers added (skipped ones included).")
    duplicates = serializers.IntegerField(help_text="Rows skipped because the number is already there.")
    doNotCall = serializers.IntegerField(
        source="do_not_call", help_text="Added customers skipped: on the do-not-call list."
    )
    invalidNumbers = serializers.IntegerField(
        source="invalid_numbers", help_text="Added customers skipped: not a possible number."
    )


class CustomersUploadSerializer(serializers.Serializer):
    """multipart/form-data upload of a CSV file (documentation only; read by campaigns.importers)."""

    file = serializers.FileField(
        help_text="CSV, UTF-8 (a BOM is fine), `,` or `;` separated, first line naming the columns: "
        "number, name, email, externalId, extension, sipUri, numberE164CheckEnabled. Any other "
        "column becomes assistantOverrides.variableValues[column] for that row."
    )
