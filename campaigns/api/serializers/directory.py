"""The organization's caller IDs (/phone-number) and do-not-call list (/dnc): Dialdeck extensions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from campaigns.api.serializers.common import BodySerializer, iso
from campaigns.api.serializers.reading import Reader, join
from campaigns.models import DoNotCall, DoNotCallSource, PhoneNumber
from campaigns.services import FieldError

MAX_DNC_NUMBERS = 100_000


def _fail(errors: list[FieldError]) -> None:
    if errors:
        raise serializers.ValidationError([str(error) for error in errors])


@dataclass
class PhoneNumberInput:
    number: str
    provider_account_id: str
    name: str = ""
    provider_phone_number_id: str = ""


@extend_schema_serializer(component_name="CreatePhoneNumberDTO")
class PhoneNumberCreateSerializer(BodySerializer):
    """A caller ID on one of the organization's provider accounts."""

    number = serializers.CharField(help_text="E.164, e.g. +14155550100.")
    name = serializers.CharField(required=False, max_length=100)
    providerAccountId = serializers.UUIDField(help_text="A provider account of your organization.")
    providerPhoneNumberId = serializers.CharField(
        required=False,
        max_length=100,
        help_text="The provider's own id for the number (Vapi's phoneNumberId).",
    )

    def to_internal_value(self, data: Any) -> PhoneNumberInput:
        errors: list[FieldError] = []
        reader = Reader(data, "", errors, ("number", "name", "providerAccountId", "providerPhoneNumberId"))
        number = reader.string("number", required=True, max_length=40)
        account = reader.string("providerAccountId", required=True)
        name = reader.string("name", max_length=100) or ""
        provider_id = reader.string("providerPhoneNumberId", max_length=100) or ""
        _fail(errors)
        return PhoneNumberInput(number, account, name, provider_id)


@extend_schema_serializer(component_name="PhoneNumber")
class PhoneNumberSerializer(serializers.Serializer):
    """A caller ID; its id is what campaigns call phoneNumberId."""

    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    number = serializers.CharField()
    name = serializers.CharField(required=False)
    providerAccountId = serializers.UUIDField()
    providerPhoneNumberId = serializers.CharField(required=False)
    createdAt = serializers.DateTimeField()

    def to_representation(self, instance: PhoneNumber) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(instance.id),
            "orgId": str(instance.organization_id),
            "number": instance.number,
        }
        if instance.name:
            data["name"] = instance.name
        data["providerAccountId"] = str(instance.provider_account_id)
        if instance.provider_phone_number_id:
            data["providerPhoneNumberId"] = instance.provider_phone_number_id
        data["createdAt"] = iso(instance.created_at)
        return data


@extend_schema_serializer(component_name="CreateDoNotCallDTO")
class DoNotCallCreateSerializer(BodySerializer):
    """One number (`number`, optional `note`) or many (`numbers`); or upload a CSV `file`
    (multipart) with a `number` column and an optional `note` column. Numbers are stored in
    canonical E.164: `+44 (0)20 7946 0104`, `0044 20 7946 0104` and `+442079460104` are one number,
    and national numbers are read in the organization's default country, if it has one."""

    number = serializers.CharField(required=False, help_text="E.164, e.g. +14155550123.")
    note = serializers.CharField(required=False, max_length=200)
    numbers = serializers.ListField(
        child=serializers.CharField(), required=False, max_length=MAX_DNC_NUMBERS, help_text="E.164 numbers."
    )

    def to_internal_value(self, data: Any) -> list[tuple[str, str, str]]:
        errors: list[FieldError] = []
        reader = Reader(data, "", errors, ("number", "note", "numbers"))
        note = reader.string("note", max_length=200) or ""
        pairs: list[tuple[str, str, str]] = []  # (number as written, note, its field): dnc_add normalises
        if reader.present("number") == reader.present("numbers"):
            errors.append(FieldError("number", "or numbers is required (one of them, not both)"))
        elif reader.present("number"):
            number = reader.string("number", max_length=40)
            if number is not None:
                pairs.append((number, note, "number"))
        else:
            for i, value in enumerate(reader.array("numbers", low=1, high=MAX_DNC_NUMBERS) or []):
                if isinstance(value, str):
                    pairs.append((value, note, join("numbers", i)))
                else:
                    errors.append(FieldError(join("numbers", i), "must be a string"))
        _fail(errors)
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
