"""/provider-account (a Dialdeck extension): the organization's provider accounts. Credentials
(apiKey, webhookSecret) are write-only: accepted on create and PATCH, never returned, only
whether one is set."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns import selectors
from campaigns.api.serializers.common import iso
from campaigns.api.serializers.fields import Choice, InlineChoice, Object, Text, inline_enum
from campaigns.api.serializers.request import RequestSerializer
from campaigns.models import ProviderAccount, ProviderKind

_SETTINGS_HELP = (
    "The kind's own settings (Twilio: accountSid, apiKeySid, streamUrl or twiml, voicemail_message; "
    "ElevenLabs: trunk; the simulated provider: its outcome mix); see docs/providers/<kind>.md."
)


class ProviderAccountCreateSerializer(RequestSerializer):
    """A new provider account."""

    name = Text(max_length=100)
    kind = Choice(ProviderKind.values)
    # The enum shown in place: a call log entry's "kind" is another enum of the same field name.
    extend_schema_field(inline_enum(ProviderKind.values, "The provider."))(kind)
    # Optional fields read null as absent (RequestSerializer.null_is_absent): documented nullable.
    baseUrl = Text(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=200,
        help_text="e.g. https://api.vapi.ai",
    )
    apiKey = Text(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        help_text="The provider's key or auth token.",
    )
    webhookSecret = Text(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        help_text="The signing secret from the provider's console (Bland, ElevenLabs); Dialdeck makes "
        "one for the others.",
    )
    settings = Object(required=False, allow_null=True, help_text=_SETTINGS_HELP)  # null reads as absent


class ProviderAccountUpdateSerializer(RequestSerializer):
    """Changes to an account: what is given replaces what is stored (its kind stays); an absent or
    empty credential keeps the stored one."""

    name = Text(required=False, allow_null=True, max_length=100)
    baseUrl = Text(required=False, allow_blank=True, allow_null=True, max_length=200)
    apiKey = Text(required=False, allow_blank=True, allow_null=True, write_only=True)
    webhookSecret = Text(required=False, allow_blank=True, allow_null=True, write_only=True)
    settings = Object(required=False, allow_null=True, help_text=_SETTINGS_HELP)  # null reads as absent


class CredentialsSetSerializer(serializers.Serializer):
    apiKey = serializers.BooleanField()
    webhookSecret = serializers.BooleanField()


class ProviderAccountSerializer(serializers.Serializer):
    """A provider account, without its credentials."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    kind = InlineChoice(ProviderKind.values, help_text="The provider.")
    baseUrl = serializers.CharField(required=False)
    settings = serializers.DictField()
    webhookUrl = serializers.CharField(help_text="Paste it into the provider's console.")
    credentialsSet = CredentialsSetSerializer(help_text="Which credentials are stored (never their values).")
    createdAt = serializers.DateTimeField()

    def to_representation(self, instance: ProviderAccount) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(instance.id), "name": instance.name, "kind": instance.kind}
        if instance.base_url:
            data["baseUrl"] = instance.base_url
        data["settings"] = instance.settings or {}
        data["webhookUrl"] = selectors.provider_webhook_url(instance)
        data["credentialsSet"] = {
            "apiKey": bool(instance.api_key),
            "webhookSecret": bool(instance.webhook_secret),
        }
        data["createdAt"] = iso(instance.created_at)
        return data


class ConnectionCheckSerializer(serializers.Serializer):
    """What a harmless authenticated request to the provider gave."""

    ok = serializers.BooleanField()
    summary = serializers.CharField(help_text="The request and its outcome, credentials redacted.")
    httpStatus = serializers.IntegerField(required=False)
