"""The organization's caller IDs (/phone-number) and do-not-call list (/dnc): Dialdeck extensions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from campaigns.api.serializers.caller_ids import PhoneNumberCallerIdFields
from campaigns.api.serializers.common import iso
from campaigns.api.serializers.fields import Boolean, InlineChoice, Integer, Text
from campaigns.api.serializers.request import MISSING, RequestSerializer
from campaigns.models import DoNotCall, DoNotCallSource, PhoneNumber
from campaigns.services.errors import WORDING

MAX_DNC_NUMBERS = 100_000
NUMBER_LENGTH = 40  # the longest number text looked at (Vapi's customer numbers: 40)


@dataclass
class PhoneNumberInput:
    number: str
    provider_account_id: str
    name: str = ""
    provider_phone_number_id: str = ""


class AccountId(serializers.UUIDField):
    """A provider account's id, documented as the UUID it is; any text is read: one that names
    no account of the organization is the view's 400, like an account of another organization."""

    default_error_messages = {
        "invalid": WORDING["string"],
        "null": WORDING["string"],
        "blank": WORDING["required"],
        "required": WORDING["required"],
    }

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        if not data:
            self.fail("blank")
        return data


@extend_schema_serializer(component_name="CreatePhoneNumberDTO")
class PhoneNumberCreateSerializer(RequestSerializer):
    """A caller ID on one of the organization's provider accounts."""

    number = Text(max_length=NUMBER_LENGTH, help_text="E.164, e.g. +14155550100.")
    name = Text(required=False, max_length=100)
    providerAccountId = AccountId(help_text="A provider account of your organization.")
    providerPhoneNumberId = Text(
        required=False,
        max_length=100,
        help_text="The provider's own id for the number (Vapi's phoneNumberId).",
    )

    read_order = ("number", "providerAccountId", "name", "providerPhoneNumberId")
    read_non_object = True

    def to_internal_value(self, data: Any) -> PhoneNumberInput:
        values = super().to_internal_value(data)
        return PhoneNumberInput(
            values["number"],
            values["providerAccountId"],
            values.get("name", ""),
            values.get("providerPhoneNumberId", ""),
        )


BYO = "byo-phone-number"
NUMBER_STATUS = "active"


@extend_schema_serializer(component_name="PhoneNumber")
class PhoneNumberSerializer(serializers.Serializer):
    """A caller ID, as Vapi's PhoneNumber of a number you bring (`provider: byo-phone-number`):
    the number is the organization's own, and `credentialId` names the provider account that
    places its calls. Its id is what campaigns call phoneNumberId. updatedAt is createdAt (the
    number itself never changes; its switches' changes are in the audit log). Dialdeck's
    extensions: providerAccountId (= credentialId), providerPhoneNumberId, and what caller-ID
    pools use: country, region and area code (derived), disabled, caps, health and rest."""

    provider = InlineChoice((BYO,), help_text="Always byo-phone-number: the number is yours.")
    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    number = serializers.CharField()
    name = serializers.CharField(required=False)
    credentialId = serializers.UUIDField(help_text="The provider account that places its calls.")
    status = InlineChoice((NUMBER_STATUS,), help_text="Always active (retired caller IDs are not listed).")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    providerAccountId = serializers.UUIDField(help_text="Dialdeck extension: = credentialId.")
    providerPhoneNumberId = serializers.CharField(
        required=False, help_text="Dialdeck extension: the provider's own id for the number."
    )

    def to_representation(self, instance: PhoneNumber) -> dict[str, Any]:
        """`context["health"]`: selectors.caller_id_health of the numbers shown (else unmeasured)."""
        created = iso(instance.created_at)
        data: dict[str, Any] = {
            "provider": BYO,
            "id": str(instance.id),
            "orgId": str(instance.organization_id),
            "number": instance.number,
        }
        if instance.name:
            data["name"] = instance.name
        account = str(instance.provider_account_id)
        data.update(credentialId=account, status=NUMBER_STATUS, createdAt=created, updatedAt=created)
        data["providerAccountId"] = account
        if instance.provider_phone_number_id:
            data["providerPhoneNumberId"] = instance.provider_phone_number_id
        return data | caller_id_out(instance, self.context.get("health", {}).get(instance.pk))


def caller_id_out(number: PhoneNumber, health: Any) -> dict[str, Any]:
    """The caller-ID fields (PhoneNumberCallerIdFields), unset ones absent."""
    optional = (
        ("country", number.country or None),
        ("region", number.region or None),
        ("areaCode", number.area_code or None),
        ("disabled", number.disabled),
        ("maxConcurrentCalls", number.max_concurrent_calls),
        ("maxDailyCalls", number.max_daily_calls),
        ("health", None if health is None or health.rate is None else round(health.rate, 4)),
        ("healthCalls", 0 if health is None else health.calls),
        ("restedAt", iso(number.rested_at)),
        ("restedReason", number.rested_reason or None),
    )
    return {key: value for key, value in optional if value is not None}


for _name, _field in PhoneNumberCallerIdFields().fields.items():
    PhoneNumberSerializer._declared_fields[_name] = _field


@extend_schema_serializer(component_name="UpdatePhoneNumberDTO")
class PhoneNumberUpdateSerializer(RequestSerializer):
    """Dialdeck: a caller ID's switches. null clears a cap; `rested: false` lifts a rest."""

    null_is_absent = False
    disabled = Boolean(
        required=False, help_text="A disabled caller ID is never used, not even by calls queued."
    )
    maxConcurrentCalls = Integer(required=False, allow_null=True, min_value=1, help_text="null: no cap.")
    maxDailyCalls = Integer(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="Per day of the organization's time zone; null: no cap.",
    )
    rested = Boolean(required=False, help_text="Only false: lift a rest (its health is measured afresh).")

    def to_internal_value(self, data: Any) -> tuple[dict[str, Any], bool]:
        problems, data = self.begin(data)
        changes: dict[str, Any] = {}
        for key, field in (
            ("disabled", "disabled"),
            ("maxConcurrentCalls", "max_concurrent_calls"),
            ("maxDailyCalls", "max_daily_calls"),
        ):
            if key in data and data[key] is None and key != "disabled":
                changes[field] = None
            elif key in data:
                value = self.take(data, key, problems)
                if value is not MISSING:
                    changes[field] = value
        lift = False
        if "rested" in data:
            rested = self.take(data, "rested", problems)
            if rested is True:
                problems.add("rested", "can only be set to false (a rest is lifted, never imposed)")
            lift = rested is False
        problems.raise_any()
        return changes, lift


class NumberList(serializers.ListField):
    """Numbers as written, each a string: what makes it a number is the service's to say
    (phone.to_e164, with the organization's default country)."""

    default_error_messages = {
        "not_a_list": WORDING["array"],
        "min_length": WORDING["min_items"],
        "max_length": WORDING["max_items"],
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) < self.min_length:
            self.fail("min_length", min_length=self.min_length)
        if len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        wrong = {i: [WORDING["string"]] for i, value in enumerate(data) if not isinstance(value, str)}
        if wrong:
            raise ValidationError(wrong)
        return data

    def run_validators(self, value: Any) -> None:
        """The lengths were checked by `to_internal_value`, before the items."""


@extend_schema_serializer(component_name="CreateDoNotCallDTO")
class DoNotCallCreateSerializer(RequestSerializer):
    """One number (`number`, optional `note`) or many (`numbers`); or upload a CSV `file`
    (multipart) with a `number` column and an optional `note` column. Numbers are stored in
    canonical E.164: `+44 (0)20 7946 0104`, `0044 20 7946 0104` and `+442079460104` are one number,
    and national numbers are read in the organization's default country, if it has one."""

    number = Text(required=False, max_length=NUMBER_LENGTH, help_text="E.164, e.g. +14155550123.")
    note = Text(required=False, max_length=200)
    numbers = NumberList(
        child=serializers.CharField(),
        required=False,
        min_length=1,
        max_length=MAX_DNC_NUMBERS,
        help_text="E.164 numbers.",
    )

    read_non_object = True

    def to_internal_value(self, data: Any) -> list[tuple[str, str, str]]:
        """(number as written, note, its field) for each number: dnc_add normalises them."""
        problems, data = self.begin(data)
        note = self.take(data, "note", problems)
        note = "" if note is MISSING else note
        pairs: list[tuple[str, str, str]] = []
        if self.given(data, "number") == self.given(data, "numbers"):
            problems.add("number", "or numbers is required (one of them, not both)")
        elif self.given(data, "number"):
            number = self.take(data, "number", problems)
            if number is not MISSING:
                pairs.append((number, note, "number"))
        else:
            numbers = self.take(data, "numbers", problems)
            if numbers is not MISSING:
                pairs += [(number, note, f"numbers.{i}") for i, number in enumerate(numbers)]
        problems.raise_any()
        return pairs


class DoNotCallUploadSerializer(serializers.Serializer):
    """multipart/form-data upload (documentation only; read by campaigns.importers)."""

    file = serializers.FileField(
        help_text="CSV with a `number` column (E.164) and an optional `note` column."
    )


class DoNotCallAddedSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Numbers new to the list (those already listed are kept).")


@extend_schema_serializer(component_name="DoNotCallEntry")
class DoNotCallSerializer(serializers.Serializer):
    """A number the organization must never call."""

    id = serializers.UUIDField()
    number = serializers.CharField()
    source = serializers.ChoiceField(choices=DoNotCallSource.values)
    note = serializers.CharField(required=False)
    createdAt = serializers.DateTimeField()

    def to_representation(self, instance: DoNotCall) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(instance.id), "number": instance.number, "source": instance.source}
        if instance.note:
            data["note"] = instance.note
        data["createdAt"] = iso(instance.created_at)
        return data
