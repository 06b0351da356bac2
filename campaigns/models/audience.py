"""Audiences: an organization's reusable contact lists, their segments, and what campaigns target.

A campaign never dials a list's contacts directly: when it starts, the contacts of the lists and
segments it targets are copied into its own customers (a snapshot), and `CampaignAudience`
records which lists and segments, by name, and how many each added. So a list can change or be
deleted afterwards without touching any campaign's customers or call history.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from campaigns.models.campaign import Campaign
from campaigns.models.org import Organization


class ContactList(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contact_lists")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    # Typed data (campaigns.rules.schemas): JSON Schemas each contact's attributes (its data, sent
    # to the voice agent) and metadata (kept for reporting) must meet, checked on every import.
    data_schema = models.JSONField(null=True, blank=True)
    metadata_schema = models.JSONField(null=True, blank=True)
    # Moved in the same transaction as the contacts it counts (services.audiences).
    contacts_total = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="contact_list_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ListContact(models.Model):
    """One person on a list: a canonical number (unique in the list), attributes, consent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed through the unique constraint and the position index (list first).
    contact_list = models.ForeignKey(
        ContactList, on_delete=models.CASCADE, related_name="contacts", db_index=False
    )
    position = models.BigIntegerField()
    number = models.CharField(max_length=40)  # canonical E.164 (campaigns.phone)
    number_submitted = models.CharField(max_length=40, blank=True)  # as written, when it differs
    name = models.CharField(max_length=40, blank=True)
    email = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(max_length=40, blank=True)
    # Flat object of strings and numbers: what segments filter on, and what a campaign passes to
    # the voice agent as assistantOverrides.variableValues.
    attributes = models.JSONField(default=dict, blank=True)
    # Kept with us for reporting, never sent to the agent (any JSON object, bounded).
    metadata = models.JSONField(default=dict, blank=True)
    consent_source = models.CharField(max_length=100, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    # The callee's own zone, when given (IANA); it wins over the number's zones.
    time_zone = models.CharField(max_length=64, blank=True)
    # The number's zones (phonenumbers), derived once at import.
    time_zones = models.CharField(max_length=200, blank=True)
    # Where the contact lives (campaigns.places): its zones win over the number's at the snapshot.
    region = models.CharField(max_length=10, blank=True)
    postal_code = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["contact_list", "position"]
        indexes = [models.Index(fields=["contact_list", "position"], name="list_contact_position")]
        constraints = [
            models.UniqueConstraint(fields=["contact_list", "number"], name="list_contact_unique_number"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def zone_list(self) -> tuple[str, ...]:
        if self.time_zone:
            return (self.time_zone,)
        return tuple(z for z in self.time_zones.split(",") if z)


class Segment(models.Model):
    """A saved filter over one list's contact attributes (campaigns.rules.segments)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contact_list = models.ForeignKey(ContactList, on_delete=models.CASCADE, related_name="segments")
    name = models.CharField(max_length=100)
    # Stored in its canonical spelling (segments.render), parsed again when used.
    filter = models.TextField()
    # How many of the list's contacts it holds: counted once when it is made, then moved by each
    # import (contacts are only ever added, or deleted with their list), so the pages and the
    # API never count a ten-million-contact list (issue 18).
    contacts_total = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["contact_list", "name"], name="segment_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_list.name} › {self.name}"


class CampaignAudience(models.Model):
    """A list or segment a campaign targets; filled in with what its snapshot added at start.

    The list and segment are kept by name (and the filter as it was) as well as by reference, so
    the record survives their deletion (the references are then null)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="audiences")
    contact_list = models.ForeignKey(
        ContactList, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_audiences"
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaign_audiences"
    )
    list_name = models.CharField(max_length=100)
    segment_name = models.CharField(max_length=100, blank=True)
    filter = models.TextField(blank=True)
    # The snapshot: when it was taken and what it did.
    snapshot_at = models.DateTimeField(null=True, blank=True)
    contacts_added = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    do_not_call = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "created_at", "list_name", "segment_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact_list"],
                condition=Q(segment__isnull=True, contact_list__isnull=False, snapshot_at__isnull=True),
                name="campaign_audience_list_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "segment"],
                condition=Q(segment__isnull=False, snapshot_at__isnull=True),
                name="campaign_audience_segment_once",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return f"{self.list_name} › {self.segment_name}" if self.segment_name else self.list_name
