"""Contact lists, their contacts and segments, and the audiences of a campaign: Dialdeck extensions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from campaigns.api.serializers.common import OpaqueObjectField, iso
from campaigns.api.serializers.fields import Object, Text
from campaigns.api.serializers.query import QuerySerializer, _page
from campaigns.api.serializers.request import RequestSerializer
from campaigns.importers.contacts import check_contact
from campaigns.models import CampaignAudience, ContactList, ListContact, Segment
from campaigns.services import ContactInput, FieldError
from campaigns.services.errors import WORDING

MAX_TARGETS = 100


@extend_schema_serializer(component_name="CreateContactListDTO")
class ContactListCreateSerializer(RequestSerializer):
    """A new, empty contact list of the organization."""

    name = Text(max_length=100, help_text="Unique in the organization.")
    description = Text(required=False, allow_blank=True, allow_null=True, max_length=500)
    dataSchema = Object(
        required=False,
        allow_null=True,
        help_text="JSON Schema (draft 2020-12, type object) for contacts' attributes; null: none.",
    )
    metadataSchema = Object(
        required=False,
        allow_null=True,
        help_text="JSON Schema (draft 2020-12) for contacts' metadata; null: none.",
    )


@extend_schema_serializer(component_name="Segment")
class SegmentSerializer(serializers.Serializer):
    """A saved filter over a list's contact attributes."""

    id = serializers.UUIDField()
    contactListId = serializers.UUIDField()
    name = serializers.CharField()
    filter = serializers.CharField(help_text="e.g. plan = premium AND state IN (CA, NV)")
    contacts = serializers.IntegerField(required=False, help_text="How many contacts it holds now (GET one).")
    createdAt = serializers.DateTimeField()

    def to_representation(self, instance: Segment) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(instance.id),
            "contactListId": str(instance.contact_list_id),
            "name": instance.name,
            "filter": instance.filter,
        }
        if self.context.get("size"):
            data["contacts"] = instance.contacts_total
        data["createdAt"] = iso(instance.created_at)
        return data


@extend_schema_serializer(component_name="ContactList")
class ContactListSerializer(serializers.Serializer):
    """A reusable list of contacts, de-duplicated by canonical number."""

    id = serializers.UUIDField()
    orgId = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField(required=False)
    contactsTotal = serializers.IntegerField(help_text="Contacts on the list.")
    dataSchema = Object(required=False, help_text="The schema contacts' attributes meet, if any.")
    metadataSchema = Object(required=False, help_text="The schema contacts' metadata meet, if any.")
    segments = SegmentSerializer(many=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()

    def to_representation(self, instance: ContactList) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(instance.id),
            "orgId": str(instance.organization_id),
            "name": instance.name,
        }
        if instance.description:
            data["description"] = instance.description
        data["contactsTotal"] = instance.contacts_total
        if instance.data_schema is not None:
            data["dataSchema"] = instance.data_schema
        if instance.metadata_schema is not None:
            data["metadataSchema"] = instance.metadata_schema
        data["segments"] = SegmentSerializer(instance.segments.all(), many=True).data
        data.update(createdAt=iso(instance.created_at), updatedAt=iso(instance.updated_at))
        return data


@extend_schema_serializer(component_name="CreateSegmentDTO")
class SegmentCreateSerializer(RequestSerializer):
    """A saved filter: conditions on attributes (`=`, `!=`, `IN (...)`, `NOT IN (...)`) joined with
    AND and OR, grouped with parentheses; values compared as text."""

    name = Text(max_length=100)
    filter = Text(max_length=2000, help_text="e.g. plan = premium AND state IN (CA, NV)")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"oneOf": [{"type": "string", "maxLength": 1000}, {"type": "number"}]},
        "maxProperties": 100,
    }
)
class AttributesField(serializers.JSONField):
    """Attributes: a flat object of strings and numbers, keys like identifiers."""


@extend_schema_serializer(component_name="CreateContactDTO")
class ContactSerializer(serializers.Serializer):
    """One contact (documentation: the body is read by campaigns.importers.contacts.check_contact)."""

    number = serializers.CharField(
        max_length=40, help_text="E.164; national numbers read in the default country."
    )
    name = serializers.CharField(required=False, max_length=40)
    email = serializers.CharField(required=False, max_length=40)
    externalId = serializers.CharField(required=False, max_length=40)
    attributes = AttributesField(required=False, help_text="What segments filter on; sent to the agent.")
    metadata = OpaqueObjectField(required=False, help_text="Kept for reporting; never sent to the agent.")
    consentSource = serializers.CharField(required=False, max_length=100, help_text="e.g. web form")
    consentAt = serializers.DateTimeField(
        required=False, help_text="When consent was given (with an offset)."
    )
    timeZone = serializers.CharField(
        required=False, help_text="The contact's IANA zone; wins over the number's zones when dialing."
    )
    region = serializers.CharField(
        required=False,
        max_length=10,
        help_text="Where the contact lives: an ISO 3166 country or subdivision (FR, US-CA); without "
        "timeZone, its zones win over the number's when dialing, and its region rules hold the contact.",
    )
    postalCode = serializers.CharField(
        required=False,
        max_length=16,
        help_text="A US ZIP gives the zone and fills in region; any other postal code is kept as given.",
    )


class ContactRows:
    """The body of POST /contact-list/{id}/contacts as a JSON array, checked row by row while the
    service streams it; problems land in `errors` (named contacts.<i>.<field>)."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, list) or not data:
            raise ValidationError({"contacts": ["must be a non-empty array of contacts"]})
        self.data = data
        self.errors: list[FieldError] = []

    def __iter__(self) -> Iterator[ContactInput]:
        for index, values in enumerate(self.data):
            contact, errors = check_contact(values, f"contacts.{index}")
            self.errors += errors
            if contact is not None:
                yield contact


class ContactsUploadSerializer(serializers.Serializer):
    """multipart/form-data upload (documentation only; read by campaigns.importers.contacts)."""

    file = serializers.FileField(
        help_text="CSV: number (required), name, email, externalId, consentSource, consentAt, timeZone, "
        "region, postalCode; "
        "every other column is an attribute of that name."
    )


class ContactImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Contacts added.")
    duplicates = serializers.IntegerField(help_text="Rows skipped: the number is already on the list.")


@extend_schema_serializer(component_name="ListContact")
class ContactRecordSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.CharField(help_text="Canonical E.164.")
    numberSubmitted = serializers.CharField(required=False, help_text="As written, when it differs.")
    name = serializers.CharField(required=False)
    email = serializers.CharField(required=False)
    externalId = serializers.CharField(required=False)
    attributes = AttributesField()
    metadata = OpaqueObjectField()
    consentSource = serializers.CharField(required=False)
    consentAt = serializers.DateTimeField(required=False)
    timeZone = serializers.CharField(required=False, help_text="Given with the contact.")
    region = serializers.CharField(required=False, help_text="Where the contact lives (canonical).")
    postalCode = serializers.CharField(required=False)
    numberTimeZones = serializers.ListField(child=serializers.CharField(), help_text="The number's zones.")
    createdAt = serializers.DateTimeField()

    def to_representation(self, instance: ListContact) -> dict[str, Any]:
        data: dict[str, Any] = {"id": str(instance.id), "number": instance.number}
        for key, value in (
            ("numberSubmitted", instance.number_submitted),
            ("name", instance.name),
            ("email", instance.email),
            ("externalId", instance.external_id),
        ):
            if value:
                data[key] = value
        data.update(attributes=instance.attributes, metadata=instance.metadata)
        if instance.consent_source:
            data["consentSource"] = instance.consent_source
        if instance.consent_at:
            data["consentAt"] = iso(instance.consent_at)
        if instance.time_zone:
            data["timeZone"] = instance.time_zone
        if instance.region:
            data["region"] = instance.region
        if instance.postal_code:
            data["postalCode"] = instance.postal_code
        data["numberTimeZones"] = [z for z in instance.time_zones.split(",") if z]
        data["createdAt"] = iso(instance.created_at)
        return data


class ContactPageQuery(QuerySerializer):
    fallbacks = {"page": 1, "limit": 100, "segmentId": ""}

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            **_page(),
            "segmentId": Text(required=False, help_text="Only the contacts of this segment of the list."),
        }


class IdList(serializers.ListField):
    default_error_messages = {"not_a_list": WORDING["array"], "max_length": WORDING["max_items"]}

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_TARGETS:
            self.fail("max_length", max_length=MAX_TARGETS)
        wrong = {i: [WORDING["string"]] for i, value in enumerate(data) if not isinstance(value, str)}
        if wrong:
            raise ValidationError(wrong)
        return data

    def run_validators(self, value: Any) -> None:
        """The length was checked by `to_internal_value`."""


@extend_schema_serializer(component_name="SetCampaignAudiencesDTO")
class CampaignAudiencesSetSerializer(RequestSerializer):
    """What a scheduled campaign copies into its customers when it starts (replaces the previous
    choice); [] and [] target nothing."""

    contactListIds = IdList(child=serializers.UUIDField(), required=False, help_text="Whole lists.")
    segmentIds = IdList(child=serializers.UUIDField(), required=False, help_text="Segments of lists.")


@extend_schema_serializer(component_name="CampaignAudience")
class CampaignAudienceSerializer(serializers.Serializer):
    """A list or segment the campaign targets; after the start, what its snapshot added."""

    contactListId = serializers.UUIDField(allow_null=True, help_text="null once the list was deleted.")
    segmentId = serializers.UUIDField(required=False, allow_null=True)
    listName = serializers.CharField()
    segmentName = serializers.CharField(required=False)
    filter = serializers.CharField(required=False, help_text="The segment's filter as it was chosen.")
    snapshotAt = serializers.DateTimeField(required=False, help_text="When its contacts were copied.")
    contactsAdded = serializers.IntegerField(help_text="Customers it added (do-not-call ones as skipped).")
    duplicates = serializers.IntegerField(help_text="Contacts already customers of the campaign.")
    doNotCall = serializers.IntegerField(help_text="Added customers skipped: on the do-not-call list.")

    def to_representation(self, instance: CampaignAudience) -> dict[str, Any]:
        data: dict[str, Any] = {
            "contactListId": str(instance.contact_list_id) if instance.contact_list_id else None,
            "listName": instance.list_name,
        }
        if instance.segment_name:
            data.update(
                segmentId=str(instance.segment_id) if instance.segment_id else None,
                segmentName=instance.segment_name,
                filter=instance.filter,
            )
        if instance.snapshot_at:
            data["snapshotAt"] = iso(instance.snapshot_at)
        data.update(
            contactsAdded=instance.contacts_added,
            duplicates=instance.duplicates,
            doNotCall=instance.do_not_call,
        )
        return data


@extend_schema_serializer(component_name="CampaignDataSchema")
class CampaignSchemaSerializer(RequestSerializer):
    """The JSON Schemas (draft 2020-12, type object) every customer's data, the variables sent to
    the agent (assistantOverrides.variableValues), and its metadata (kept with us for reporting,
    never sent) must meet; null drops one, an absent metadataSchema stays as it is. `version`
    counts changes of either."""

    null_is_absent = False
    read_order = ("dataSchema", "metadataSchema")

    dataSchema = Object(allow_null=True, help_text="A JSON Schema, or null for none.")
    metadataSchema = Object(
        allow_null=True,
        required=False,
        help_text="Dialdeck: a JSON Schema for customers' metadata, or null for none; absent: unchanged.",
    )
    version = serializers.IntegerField(read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "dataSchema": instance.data_schema,
            "metadataSchema": instance.metadata_schema,
            "version": instance.data_schema_version,
        }
