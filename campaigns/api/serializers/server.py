"""Vapi 2026's campaign-level objects: the campaign's own `server` (where its events and pre-dial
checks go), `serverMessages`, `predialPlan`, and the free-form `assistantOverrides` /
`squadOverrides` (the campaign's, and each customer's).

Each field checks the JSON shape Vapi's DTOs declare, in WORDING's words; the rules that need
more (a server URL the dialer may send to, a pre-dial check or events without a server) are
the services'. Overrides are stored and sent on as sent, so they are bounded like customers'
(campaigns.jsonlimits), and the keys that would take the call's status messages away from
Dialdeck are refused, never dropped (`override_problems`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError

from campaigns import jsonlimits
from campaigns.api.serializers.fields import Boolean, Choice, Integer, Number, Object, Text
from campaigns.api.serializers.request import NON_FIELD, RequestSerializer
from campaigns.models import SERVER_MESSAGES
from campaigns.services.errors import WORDING, FieldError

# The key of Vapi's AssistantOverrides that names where a call's server messages go. Vapi sends
# a call's messages to one server; Dialdeck must receive them (status updates and the end-of-call
# report move the campaign), so a call's own server cannot be someone else's. A call's own
# `serverMessages` is kept: Dialdeck adds the two it needs to the list (dialer.providers.vapi).
CALL_SERVER_KEYS = ("server",)
CALL_SERVER_REFUSAL = (
    "cannot be set for a campaign's calls: Dialdeck receives each call's status messages to run "
    "the campaign, and Vapi sends a call's messages to one server only. To receive campaign "
    "events, set the campaign's `server` and `serverMessages`"
)
CALL_MESSAGES_KEY = "serverMessages"
CALL_MESSAGE_LENGTH = 100
OVERRIDES_DOC = (
    "Vapi's AssistantOverrides, stored and sent on with each call (per-customer overrides deep-"
    "merged over the campaign's: objects key by key, the customer's value wins on anything else, "
    "arrays are replaced). At most 32 levels deep and 64 KiB as JSON; integers within signed 64 "
    "bits. `server` is refused (a call's messages go to one server, Dialdeck's): use the "
    "campaign's `server` and `serverMessages` for campaign events. `serverMessages` is kept, "
    "with `status-update` and `end-of-call-report` added when missing."
)
# RFC 9110 field names (tokens); values must not break the request line they are sent on.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE_FORBIDDEN = re.compile(r"[\r\n\x00]")
URL_LENGTH = 2048


def call_server_problems(value: Mapping, path: str) -> list[FieldError]:
    """Overrides at `path` that would take a call's messages away (a `server` of their own), or
    whose `serverMessages` is not a list of message types, each named by its path."""
    found = [
        FieldError(jsonlimits.join(path, key), CALL_SERVER_REFUSAL)
        for key in CALL_SERVER_KEYS
        if value.get(key) is not None
    ]
    messages = value.get(CALL_MESSAGES_KEY)
    where = jsonlimits.join(path, CALL_MESSAGES_KEY)
    if messages is not None and not isinstance(messages, list):
        found.append(FieldError(where, WORDING["array"]))
    elif messages is not None:
        wrong = f"must be a message type: a string of 1 to {CALL_MESSAGE_LENGTH} characters"
        found += [
            FieldError(f"{where}.{i}", wrong)
            for i, item in enumerate(messages)
            if not isinstance(item, str) or not 0 < len(item) <= CALL_MESSAGE_LENGTH
        ]
    return found


def override_problems(value: Mapping, path: str) -> list[FieldError]:
    """Why overrides at `path` cannot be stored and honoured: `call_server_problems`, and the
    limits of campaigns.jsonlimits (the first problem), each named by its path."""
    return call_server_problems(value, path) + jsonlimits.problems(value, path)


def raise_problems(found: list[FieldError]) -> None:
    """`found` (paths relative to the field being read) as a field's DRF detail, by path."""
    if found:
        detail: dict[str, list[ErrorDetail]] = {}
        for problem in found:
            detail.setdefault(problem.field or NON_FIELD, []).append(ErrorDetail(problem.message))
        raise ValidationError(detail)


@extend_schema_field({"type": "object", "additionalProperties": {}, "description": OVERRIDES_DOC})
class Overrides(Object):
    """Vapi's AssistantOverrides (the campaign's or a customer's): any object within the limits,
    without a call server of its own."""

    def to_internal_value(self, data: Any) -> dict:
        value = super().to_internal_value(data)
        raise_problems(override_problems(value, ""))
        return value


class Headers(Object):
    """Header names and their text values, sent as they are."""

    def to_internal_value(self, data: Any) -> dict:
        value = super().to_internal_value(data)
        found = []
        for name, text in value.items():
            if not HEADER_NAME.fullmatch(name):
                found.append(
                    FieldError(name, "(a header name) must be a token: letters, digits and !#$%&'*+-.^_`|~")
                )
            elif not isinstance(text, str):
                found.append(FieldError(name, WORDING["string"]))
            elif HEADER_VALUE_FORBIDDEN.search(text):
                found.append(FieldError(name, "must not contain a line break or a NUL character"))
        raise_problems(found)
        return value


class ChoiceArray(serializers.ListField):
    """A JSON array of strings, each one of `choices`; problems named by index."""

    default_error_messages = {"not_a_list": WORDING["array"], "null": WORDING["array"]}

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(child=serializers.ChoiceField(choices=choices), **kwargs)
        self.choices = choices

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        wrong = WORDING["choice"].format(choices=", ".join(self.choices))
        errors = {
            i: [wrong] for i, item in enumerate(data) if not isinstance(item, str) or item not in self.choices
        }
        if errors:
            raise ValidationError(errors)
        return list(data)


class IntegerArray(serializers.ListField):
    """A JSON array of whole numbers within `child`'s bounds."""

    default_error_messages = {"not_a_list": WORDING["array"], "null": WORDING["array"]}

    def to_internal_value(self, data: Any) -> list[int]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        values, errors = [], {}
        for i, item in enumerate(data):
            try:
                values.append(self.child.run_validation(item))
            except ValidationError as exc:
                errors[i] = exc.detail
        if errors:
            raise ValidationError(errors)
        return values


class TextArray(serializers.ListField):
    """A JSON array of strings."""

    default_error_messages = {"not_a_list": WORDING["array"], "null": WORDING["array"]}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(), **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        errors = {i: [WORDING["string"]] for i, item in enumerate(data) if not isinstance(item, str)}
        if errors:
            raise ValidationError(errors)
        return list(data)


@extend_schema_serializer(component_name="BackoffPlan")
class BackoffPlanSerializer(RequestSerializer):
    """How a failed delivery to the campaign's server is retried (Vapi's BackoffPlan)."""

    type = Choice(choices=("fixed", "exponential"))
    maxRetries = Integer(min_value=0, max_value=10, help_text="0: no retry.")
    baseDelaySeconds = Number(min_value=0, max_value=10)
    excludedStatusCodes = IntegerArray(
        child=Integer(min_value=100, max_value=599),
        required=False,
        help_text="Status codes never retried (by default any non-2xx is).",
    )


@extend_schema_serializer(component_name="Server")
class ServerSerializer(RequestSerializer):
    """The campaign's own server (Vapi's Server): campaign events (`serverMessages`) and the
    pre-dial check (`predialPlan`) are sent to `url`, which must be a public http(s) address
    (as provider URLs are). `credentialId`, `staticIpAddressesEnabled` and `encryptedPaths` are
    kept for Vapi clients and change nothing: requests come from Dialdeck's own servers."""

    url = Text(max_length=URL_LENGTH, help_text="Where requests are sent (https://…).")
    timeoutSeconds = Number(required=False, min_value=1, max_value=300, help_text="Default 20.")
    credentialId = Text(required=False, max_length=100)
    headers = Headers(required=False, help_text="Sent with every request, as they are.")
    staticIpAddressesEnabled = Boolean(required=False)
    encryptedPaths = TextArray(required=False)
    backoffPlan = BackoffPlanSerializer(
        required=False, help_text="Absent: Dialdeck's own retries (exponential, for up to 24 hours)."
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        values = super().to_internal_value(data)
        raise_problems(jsonlimits.problems(values, ""))  # stored and sent on: bounded like overrides
        return values


@extend_schema_serializer(component_name="CampaignPredialPlan")
class PredialPlanSerializer(RequestSerializer):
    """The pre-dial check: before each contact is dialed, the campaign's server is asked whether
    to call ({"eligible": true}); anything else skips the contact. Requires `server`."""

    enabled = Boolean(required=False, help_text="Default true; false keeps the plan without asking.")


def server_messages(**kwargs: Any) -> ChoiceArray:
    return ChoiceArray(SERVER_MESSAGES, **kwargs)
