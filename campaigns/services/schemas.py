"""A campaign's data schema: set, versioned, and met by every customer it already has."""

from __future__ import annotations

from typing import Any

from django.db.models import F

from campaigns.models import TERMINAL_STATUSES, Campaign, Customer
from campaigns.rules.schemas import Checker
from campaigns.services.audiences import schema_errors
from campaigns.services.audit import Actor, audit_record
from campaigns.services.customers import metadata_errors, variable_errors
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.inputs import CustomerInput
from campaigns.services.tx import lock_campaigns, retry_on_conflict

MAX_ERRORS = 100


KEEP: Any = object()  # campaign_schema_set: leave the metadata schema as it is


@retry_on_conflict
def campaign_schema_set(
    *, campaign: Campaign, by: Actor, data_schema: dict | None, metadata_schema: dict | None = KEEP
) -> Campaign:
    """Set (or, with None, drop) the JSON Schema every customer's data must meet, and the one its
    metadata must meet (KEEP: as it is), and count a new version. The customers the campaign
    already has must meet them: otherwise ValidationFailed names them (at most MAX_ERRORS) by
    position, path and reason, and nothing changes. From then on every customer added (API,
    CSV, the dashboard, a list's snapshot) is checked against them. Raises InvalidTransition for
    an ended or deleted campaign."""
    lock_campaigns([campaign.pk], "update")
    campaign = Campaign.objects.select_related("organization").get(pk=campaign.pk)
    if campaign.status in TERMINAL_STATUSES or campaign.deleted_at:
        raise InvalidTransition(
            action="change the data schema of", current="deleted" if campaign.deleted_at else campaign.status
        )
    if metadata_schema is KEEP:
        metadata_schema = campaign.metadata_schema
    errors = schema_errors(data_schema, "data_schema") + schema_errors(metadata_schema, "metadata_schema")
    if errors:
        raise ValidationFailed(errors)
    typed = Checker(data_schema) if data_schema is not None else None
    described = Checker(metadata_schema) if metadata_schema is not None else None
    if typed is not None or described is not None:
        found: list[FieldError] = []
        rows = Customer.objects.filter(campaign=campaign).order_by("position")
        for position, overrides, metadata in rows.values_list(
            "position", "assistant_overrides", "metadata"
        ).iterator(chunk_size=5000):
            item = CustomerInput(
                assistant_overrides=overrides, metadata=metadata, source=f"customers.{position}"
            )
            found += variable_errors(typed, item) if typed is not None else []
            found += metadata_errors(described, item) if described is not None else []
            if len(found) >= MAX_ERRORS:
                break
        if found:
            raise ValidationFailed(found[:MAX_ERRORS])
    before = {
        "data_schema": campaign.data_schema,
        "metadata_schema": campaign.metadata_schema,
        "version": campaign.data_schema_version,
    }
    Campaign.objects.filter(pk=campaign.pk).update(
        data_schema=data_schema,
        metadata_schema=metadata_schema,
        data_schema_version=F("data_schema_version") + 1,
    )
    campaign.refresh_from_db()
    audit_record(
        organization=campaign.organization,
        by=by,
        action="campaign.data_schema_set",
        target=campaign,
        before=before,
        after={
            "data_schema": data_schema,
            "metadata_schema": metadata_schema,
            "version": campaign.data_schema_version,
        },
    )
    return campaign
