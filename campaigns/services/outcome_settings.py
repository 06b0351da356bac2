"""A campaign's outcome settings (objective, analysis schema, outcome rules, opt-out, callbacks,
voicemail, automatic pause, callbacks from callees): the one check of the values given, by model
field name, errors naming each field."""

from __future__ import annotations

from typing import Any

from campaigns import jsonlimits
from campaigns.rules.analysis import FIELD_MESSAGE, OBJECTIVE_LENGTH, field_schema, is_field, schema_problems
from campaigns.rules.autopause import settings_problems as auto_pause_problems
from campaigns.rules.inbound import settings_problems as inbound_problems
from campaigns.rules.outcome_plan import (
    CALLBACK_BOUNDS,
    HANG_UP_BOUNDS,
    rule_problems,
    voicemail_problems,
)
from campaigns.services.errors import FieldError

# Every outcome setting, by model field name (what CampaignInput.outcomes and CampaignChanges carry).
OUTCOME_FIELDS: tuple[str, ...] = (
    "objective",
    "analysis_schema",
    "objective_field",
    "outcome_rules",
    "hang_up_is_opt_out",
    "hang_up_opt_out_seconds",
    "callback_field",
    "max_callbacks",
    "voicemail_plan",
    # Automatic pause when the provider misbehaves (rules.autopause).
    "auto_pause_enabled",
    "auto_pause_window",
    "auto_pause_error_rate",
    "auto_pause_consecutive",
    # Callbacks from callees (rules.inbound).
    "inbound_mode",
    "inbound_rejection_message",
    "inbound_route_do_not_call",
)


def _join(field: str, where: str) -> str:
    return f"{field}.{where}" if where else field


def validate_outcomes(values: dict[str, Any], current: dict[str, Any] | None = None) -> list[FieldError]:
    """Every problem of outcome settings `values` (model field names), read with the `current`
    ones for what they do not give (a rule's field must be in the schema, whichever changed).

    Raises nothing; returns FieldErrors named `analysis_schema.properties.x`, `outcome_rules.2.then`...
    """
    unknown = [FieldError(key, "is not an outcome setting") for key in values if key not in OUTCOME_FIELDS]
    merged = {**(current or {}), **values}
    errors: list[FieldError] = list(unknown)
    objective = merged.get("objective", "")
    if not isinstance(objective, str) or len(objective) > OBJECTIVE_LENGTH:
        errors.append(FieldError("objective", f"must be text of at most {OBJECTIVE_LENGTH} characters"))
    schema = merged.get("analysis_schema")
    if schema is not None:
        found = jsonlimits.problems(schema, "analysis_schema") if isinstance(schema, dict) else []
        found = found or [FieldError(_join("analysis_schema", w), why) for w, why in schema_problems(schema)]
        errors += found
        if found:
            schema = None
    objective_field = merged.get("objective_field") or ""
    if objective_field:
        if not is_field(objective_field):
            errors.append(FieldError("objective_field", FIELD_MESSAGE))
        elif schema is None or (field_schema(schema, objective_field) or {}).get("type") != "boolean":
            errors.append(FieldError("objective_field", "must name a boolean property of analysisSchema"))
    callback_field = merged.get("callback_field") or ""
    if callback_field and not is_field(callback_field):
        errors.append(FieldError("callback_field", FIELD_MESSAGE))
    rules = merged.get("outcome_rules") or []
    errors += [FieldError(_join("outcome_rules", w), why) for w, why in rule_problems(rules, schema)]
    if not isinstance(merged.get("hang_up_is_opt_out", False), bool):
        errors.append(FieldError("hang_up_is_opt_out", "must be a boolean value"))
    for field, (low, high) in (
        ("hang_up_opt_out_seconds", HANG_UP_BOUNDS),
        ("max_callbacks", CALLBACK_BOUNDS),
    ):
        value = merged.get(field, low)
        if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
            errors.append(FieldError(field, f"must be an integer from {low} to {high}"))
    voicemail = merged.get("voicemail_plan")
    if voicemail is not None:
        errors += [FieldError(_join("voicemail_plan", w), why) for w, why in voicemail_problems(voicemail)]
    errors += [FieldError(f, why) for f, why in auto_pause_problems(merged)]
    errors += [FieldError(f, why) for f, why in inbound_problems(merged)]
    # Report each problem once, whichever of the given values brought it.
    seen: set[tuple[str, str]] = set()
    return [e for e in errors if (e.field, e.message) not in seen and not seen.add((e.field, e.message))]
