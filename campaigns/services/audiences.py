"""Contact lists, segments, and the audiences campaigns target.

A list's contacts are de-duplicated by canonical number (campaigns.phone); imports stream and
are all or nothing, like a campaign's. A campaign targets lists and segments while it is
scheduled; `audiences_snapshot`, run by `campaign_start` in the transaction that starts it,
copies their contacts into the campaign's customers (skipping numbers it already has, marking
do-not-call ones skipped, as any import does) and records what each added. Deleting a list
deletes its contacts and segments only: campaigns keep their customers, calls and the record
of what they targeted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from django.db import IntegrityError, connection, transaction
from django.db.models import F, TextField
from django.db.models.functions import Cast

from campaigns import clock, phone
from campaigns.models import (
    Campaign,
    CampaignAudience,
    CampaignStatus,
    ContactList,
    Customer,
    DoNotCall,
    ListContact,
    Organization,
    Segment,
)
from campaigns.rules import segments
from campaigns.rules.schemas import Checker, schema_problems
from campaigns.selectors.audiences import segment_q
from campaigns.selectors.common import as_uuid
from campaigns.services.audit import Actor, audit_record
from campaigns.services.customers import CHUNK, NumberSet, _Prepared, _Writer, place_errors
from campaigns.services.errors import FieldError, InvalidTransition, ValidationFailed
from campaigns.services.inputs import ContactInput, CustomerInput
from campaigns.services.tx import lock_campaigns, lock_contact_lists, retry_on_conflict

_CONTACT_COLUMNS = (
    "id",
    "contact_list_id",
    "position",
    "number",
    "number_submitted",
    "name",
    "email",
    "external_id",
    "attributes",
    "metadata",
    "consent_source",
    "consent_at",
    "time_zone",
    "time_zones",
    "created_at",
    "region",
    "postal_code",
)


MAX_SNAPSHOT_ERRORS = 100


@dataclass
class ContactImportResult:
    """What an import did: contacts added, and rows skipped because their number was already in
    the list (or earlier in the same file)."""

    added: int = 0
    duplicates: int = 0
    errors: list[FieldError] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"added": self.added, "duplicates": self.duplicates}


def _user(by: Actor) -> object | None:
    return by if getattr(by, "is_authenticated", False) else None


# -- lists ----------------------------------------------------------------------------------------


def _name_errors(name: str, field_name: str = "name", max_length: int = 100) -> list[FieldError]:
    if not name.strip():
        return [FieldError(field_name, "should not be empty")]
    if len(name) > max_length:
        return [FieldError(field_name, f"must be shorter than or equal to {max_length} characters")]
    return []


def schema_errors(schema: dict | None, field_name: str) -> list[FieldError]:
    """Why a JSON Schema given as `field_name` cannot be used (None: no schema, fine)."""
    return [] if schema is None else [FieldError(field_name, p) for p in schema_problems(schema)]


@transaction.atomic
def contact_list_create(
    *,
    organization: Organization,
    by: Actor,
    name: str,
    description: str = "",
    data_schema: dict | None = None,
    metadata_schema: dict | None = None,
) -> ContactList:
    """A new, empty list, with the JSON Schemas its contacts' attributes and metadata must meet,
    if given. Raises ValidationFailed for an empty or taken name, or a schema that cannot be used."""
    name = name.strip()
    errors = _name_errors(name)
    if len(description) > 500:
        errors.append(FieldError("description", "must be shorter than or equal to 500 characters"))
    errors += schema_errors(data_schema, "data_schema") + schema_errors(metadata_schema, "metadata_schema")
    if not errors and ContactList.objects.filter(organization=organization, name=name).exists():
        errors.append(FieldError("name", "is already the name of another list"))
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            contact_list = ContactList.objects.create(
                organization=organization,
                name=name,
                description=description,
                data_schema=data_schema,
                metadata_schema=metadata_schema,
                created_by=_user(by),
            )
    except IntegrityError:  # the same name created meanwhile
        raise ValidationFailed.one("name", "is already the name of another list") from None
    audit_record(
        organization=organization,
        by=by,
        action="contact_list.create",
        target=contact_list,
        after={
            "name": name,
            "description": description,
            "data_schema": data_schema,
            "metadata_schema": metadata_schema,
        },
    )
    return contact_list


@retry_on_conflict
def contact_list_delete(*, contact_list: ContactList, by: Actor) -> None:
    """Delete a list, its contacts and its segments. Campaigns that took a snapshot keep their
    customers and calls, and their record of the list (by name). Raises InvalidTransition while
    a campaign that has not started yet targets it (its snapshot would find nothing)."""
    lock_contact_lists([contact_list.pk], "update")
    waiting = (
        CampaignAudience.objects.filter(
            contact_list=contact_list,
            snapshot_at__isnull=True,
            campaign__status=CampaignStatus.SCHEDULED,
            campaign__deleted_at__isnull=True,
        )
        .values_list("campaign__name", flat=True)
        .first()
    )
    if waiting is not None:
        raise InvalidTransition(
            action="delete",
            current="targeted",
            detail=f"cannot delete a list that the scheduled campaign {waiting!r} targets; "
            "remove it from that campaign first",
        )
    audit_record(
        organization=contact_list.organization,
        by=by,
        action="contact_list.delete",
        target=contact_list,
        before={"name": contact_list.name, "contacts": contact_list.contacts_total},
    )
    contact_list.delete()


class _ContactRows:
    """Contacts as rows of the contact table, in the form the driver takes (see _Prepared)."""

    def __init__(self, contact_list: ContactList, position: int) -> None:
        ops, native = connection.ops, connection.vendor == "postgresql"
        self.native = native
        self.list_id = contact_list.pk if native else contact_list.pk.hex
        self.position = position
        self.region = contact_list.organization.default_region or None
        now = clock.now()
        self.now = now if native else ops.adapt_datetimefield_value(now)
        self.adapt = (lambda v: v) if native else ops.adapt_datetimefield_value

    def canonical(self, item: ContactInput) -> tuple[str, tuple[str, ...]]:
        """The number's canonical form and zones; raises phone.InvalidNumber."""
        number, zones = phone.customer_facts(item.number, e164_check=True)
        if number is None:
            number = phone.to_e164(item.number, region=self.region)
            zones = phone.time_zones_for(number)
        return number, zones

    def row(self, item: ContactInput, number: str, zones: tuple[str, ...]) -> tuple:
        self.position += 1
        return (
            uuid.uuid4() if self.native else uuid.uuid4().hex,
            self.list_id,
            self.position,
            number,
            item.number if item.number != number else "",
            item.name,
            item.email,
            item.external_id,
            orjson.dumps(item.attributes).decode(),
            orjson.dumps(item.metadata).decode(),
            item.consent_source,
            self.adapt(item.consent_at) if item.consent_at else None,
            item.time_zone,
            ",".join(zones),
            self.now,
            item.region,
            item.postal_code,
        )


def contacts_import(
    *, contact_list: ContactList, by: Actor, rows: Iterable[ContactInput]
) -> ContactImportResult:
    """Add contacts to a list, streaming: all rows or none.

    Numbers are put in canonical form (the organization's default country reads national
    numbers); a number already in the list, or earlier in the rows, is skipped and counted.
    Attributes and metadata are checked against the list's JSON Schemas, when it has them, each
    failure named by row, path and reason.
    `rows` may carry an `errors` list it fills while streaming (campaigns.importers); every
    problem is raised together as ValidationFailed, by row and field, and nothing is saved.
    Moves `contacts_total` in the same transaction.
    """
    with transaction.atomic():
        lock_contact_lists([contact_list.pk], "update")
        contact_list = ContactList.objects.select_related("organization").get(pk=contact_list.pk)
        result = ContactImportResult()
        last = ListContact.objects.filter(contact_list=contact_list).order_by("-position")
        prepared = _ContactRows(contact_list, last.values_list("position", flat=True).first() or 0)
        seen = NumberSet.of(ListContact.objects.filter(contact_list=contact_list))
        # Each segment's count moves with the rows it holds (Segment.contacts_total).
        counted = [(s, segments.parse(s.filter)) for s in Segment.objects.filter(contact_list=contact_list)]
        held = [0] * len(counted)
        source_errors = getattr(rows, "errors", None)
        data = Checker(contact_list.data_schema) if contact_list.data_schema else None
        metadata = Checker(contact_list.metadata_schema) if contact_list.metadata_schema else None
        with _Writer(ListContact._meta.db_table, _CONTACT_COLUMNS) as writer:
            for item in rows:
                for checker, part, value in (
                    (data, "attributes", item.attributes),
                    (metadata, "metadata", item.metadata),
                ):
                    if checker is not None:
                        result.errors += _typed(checker, value, f"{item.source}.{part}")
                result.errors += place_errors(item)
                try:
                    number, zones = prepared.canonical(item)
                except phone.InvalidNumber as error:
                    result.errors.append(
                        FieldError(f"{item.source}.number", f"{item.number!r} {error.reason}")
                    )
                    continue
                if not seen.add(number):
                    result.duplicates += 1
                    continue
                if result.errors or source_errors:
                    continue  # keep reading so every bad row is reported; nothing will be kept
                writer.write(prepared.row(item, number, zones))
                result.added += 1
                for i, (_, node) in enumerate(counted):
                    held[i] += segments.matches(node, item.attributes)
        errors = list(source_errors or []) + result.errors
        if errors:
            raise ValidationFailed(errors)
        ContactList.objects.filter(pk=contact_list.pk).update(
            contacts_total=F("contacts_total") + result.added, updated_at=clock.now()
        )
        for (segment, _), n in zip(counted, held, strict=True):
            if n:
                Segment.objects.filter(pk=segment.pk).update(contacts_total=F("contacts_total") + n)
        audit_record(
            organization=contact_list.organization,
            by=by,
            action="contact_list.import",
            target=contact_list,
            after=result.as_dict(),
        )
    return result


def _typed(checker: Checker, value: object, where: str) -> list[FieldError]:
    return [
        FieldError(f"{where}.{path}" if path else where, reason) for path, reason in checker.errors(value)
    ]


# -- segments -------------------------------------------------------------------------------------


@transaction.atomic
def segment_create(*, contact_list: ContactList, by: Actor, name: str, filter: str) -> Segment:
    """A saved filter over the list's attributes, stored in its canonical spelling, with the
    count of the contacts it holds (imports move it from then on; the list is held against one
    meanwhile). Raises ValidationFailed naming `filter` with where and why it cannot be read."""
    name = name.strip()
    errors = _name_errors(name)
    node = None
    try:
        node = segments.parse(filter)
    except segments.SegmentSyntaxError as error:
        errors.append(FieldError("filter", str(error)))
    if not errors and Segment.objects.filter(contact_list=contact_list, name=name).exists():
        errors.append(FieldError("name", "is already the name of another segment of this list"))
    if errors or node is None:
        raise ValidationFailed(errors)
    lock_contact_lists([contact_list.pk], "key_share")
    held = ListContact.objects.filter(contact_list=contact_list).filter(segment_q(node)).count()
    segment = Segment.objects.create(
        contact_list=contact_list, name=name, filter=segments.render(node), contacts_total=held
    )
    audit_record(
        organization=contact_list.organization,
        by=by,
        action="segment.create",
        target=segment,
        after={"list": contact_list.name, "name": name, "filter": segment.filter},
    )
    return segment


@transaction.atomic
def segment_delete(*, segment: Segment, by: Actor) -> None:
    """Delete a segment; campaigns keep their record of it (by name and filter). Raises
    InvalidTransition while a campaign that has not started yet targets it."""
    if CampaignAudience.objects.filter(
        segment=segment, snapshot_at__isnull=True, campaign__status=CampaignStatus.SCHEDULED
    ).exists():
        raise InvalidTransition(
            action="delete",
            current="targeted",
            detail="cannot delete a segment that a scheduled campaign targets; "
            "remove it from that campaign first",
        )
    audit_record(
        organization=segment.contact_list.organization,
        by=by,
        action="segment.delete",
        target=segment,
        before={"name": segment.name, "filter": segment.filter},
    )
    segment.delete()


# -- campaigns ------------------------------------------------------------------------------------


@retry_on_conflict
def campaign_audiences_set(
    *, campaign: Campaign, by: Actor, list_ids: list[str], segment_ids: list[str]
) -> list[CampaignAudience]:
    """What a scheduled campaign will copy into its customers when it starts: whole lists and
    segments of the organization (replacing what it targeted before).

    Raises InvalidTransition unless the campaign is scheduled; ValidationFailed naming each id
    that is not a list or segment of the organization, and for campaigns that use a dial plan.
    """
    lock_campaigns([campaign.pk], "update")
    campaign = Campaign.objects.select_related("organization").get(pk=campaign.pk)
    if campaign.status != CampaignStatus.SCHEDULED or campaign.deleted_at:
        raise InvalidTransition(
            action="change the audiences of", current="deleted" if campaign.deleted_at else campaign.status
        )
    if campaign.uses_dial_plan and (list_ids or segment_ids):
        raise ValidationFailed.one(
            "contact_list_ids", "cannot be targeted by a campaign that uses a dial plan"
        )
    organization = campaign.organization
    lists = {
        str(row.pk): row
        for row in ContactList.objects.filter(
            organization=organization, pk__in=[u for u in map(as_uuid, list_ids) if u]
        )
    }
    found_segments = {
        str(row.pk): row
        for row in Segment.objects.select_related("contact_list").filter(
            contact_list__organization=organization, pk__in=[u for u in map(as_uuid, segment_ids) if u]
        )
    }
    errors = [
        FieldError(f"contact_list_ids.{i}", "does not name a contact list of this organization")
        for i, value in enumerate(list_ids)
        if str(as_uuid(value)) not in lists
    ]
    errors += [
        FieldError(f"segment_ids.{i}", "does not name a segment of this organization")
        for i, value in enumerate(segment_ids)
        if str(as_uuid(value)) not in found_segments
    ]
    if errors:
        raise ValidationFailed(errors)
    lock_contact_lists([*lists, *(s.contact_list_id for s in found_segments.values())], "key_share")
    before = [a.label for a in campaign.audiences.all()]
    CampaignAudience.objects.filter(campaign=campaign, snapshot_at__isnull=True).delete()
    created = [
        CampaignAudience(campaign=campaign, contact_list=row, list_name=row.name) for row in lists.values()
    ] + [
        CampaignAudience(
            campaign=campaign,
            contact_list=row.contact_list,
            segment=row,
            list_name=row.contact_list.name,
            segment_name=row.name,
            filter=row.filter,
        )
        for row in found_segments.values()
    ]
    CampaignAudience.objects.bulk_create(created)
    audit_record(
        organization=organization,
        by=by,
        action="campaign.audiences_set",
        target=campaign,
        before={"audiences": before},
        after={"audiences": [a.label for a in created]},
    )
    return created


def _contacts(audience: CampaignAudience) -> Iterator[list[tuple]]:
    """The audience's contacts in list order, a chunk at a time, from one query read as it goes
    (a server-side cursor on PostgreSQL; the caller writes each chunk before asking for the next).

    One query, not one per chunk: right after a large import the planner's statistics still say
    the list is tiny, and a keyset query per chunk (position > last ORDER BY position LIMIT n) was
    then planned as a scan of every later row and a sort, each time: a million contacts took 110 s
    to copy instead of 25 (quadratic). One query is planned once, and read once."""
    rows = ListContact.objects.filter(contact_list_id=audience.contact_list_id)
    if audience.segment_name:  # the filter as it was when the campaign chose the segment
        rows = rows.filter(segment_q(segments.parse(audience.filter)))
    columns = (
        "position",
        "number",
        "name",
        "email",
        "external_id",
        "attributes",
        "time_zone",
        "time_zones",
        "metadata",
        "region",
        "postal_code",
    )
    # The JSON columns read as text and decoded by orjson: Django's decoding (the json module) was
    # a third of the copy's time.
    text = {name: Cast(name, TextField()) for name in ("attributes", "metadata")}
    chunk: list[tuple] = []
    named = [f"{c}_text" if c in text else c for c in columns]
    rows = rows.annotate(**{f"{name}_text": cast for name, cast in text.items()})
    at = [named.index(f"{name}_text") for name in text]
    for row in rows.order_by("position").values_list(*named).iterator(chunk_size=CHUNK):
        row = list(row)
        for i in at:
            row[i] = orjson.loads(row[i]) if row[i] is not None else None
        chunk.append(tuple(row))
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def audiences_snapshot(*, campaign: Campaign, now: datetime) -> int:
    """Copy the contacts of every audience the campaign targets and has not copied yet into its
    customers, inside the caller's transaction (campaign_start's, which holds the campaign row).

    A contact's explicit time zone becomes the customer's only zone, else its place's zones
    (region, postal code) do; its attributes become
    assistantOverrides.variableValues. Numbers the campaign already has (inline customers, an
    earlier audience) are skipped and counted as duplicates; do-not-call numbers are stored as
    skipped, as any import does. Records on each audience when and what it added; moves the
    campaign's customer counters. Returns how many customers were added. Raises
    ValidationFailed (the start then saves nothing) naming the contacts whose attributes do not
    meet the campaign's data schema (at most MAX_SNAPSHOT_ERRORS of them).
    """
    audiences = list(
        CampaignAudience.objects.filter(
            campaign=campaign, snapshot_at__isnull=True, contact_list__isnull=False
        ).order_by("created_at", "list_name", "segment_name")
    )
    if not audiences:
        return 0
    lock_contact_lists({a.contact_list_id for a in audiences}, "key_share")
    campaign = Campaign.objects.select_related("organization").get(pk=campaign.pk)
    last = Customer.objects.filter(campaign=campaign).order_by("-position").values_list("position", flat=True)
    prepared = _Prepared(campaign, None, last.first() if last.exists() else -1)
    seen = NumberSet.of(Customer.objects.filter(campaign=campaign).exclude(number=""))
    blocked = NumberSet.of(DoNotCall.objects.filter(organization_id=campaign.organization_id))
    typed = Checker(campaign.data_schema) if campaign.data_schema else None
    described = Checker(campaign.metadata_schema) if campaign.metadata_schema else None
    errors: list[FieldError] = []
    total = 0
    for audience in audiences:
        before_dnc = prepared.do_not_call
        for chunk in _contacts(audience):
            with _Writer() as writer:  # opened per chunk: the next chunk is read between them
                for row in chunk:
                    _, number, name, email, external_id, attributes, time_zone, zones, metadata, *place = row
                    if not seen.add(number):
                        audience.duplicates += 1
                        continue
                    if typed is not None and len(errors) < MAX_SNAPSHOT_ERRORS:
                        where = f"audiences.{audience.label}.{number}.attributes"
                        errors += [
                            FieldError(f"{where}.{p}" if p else where, r) for p, r in typed.errors(attributes)
                        ]
                    if described is not None and len(errors) < MAX_SNAPSHOT_ERRORS:
                        where = f"audiences.{audience.label}.{number}.metadata"
                        errors += [
                            FieldError(f"{where}.{p}" if p else where, r)
                            for p, r in described.errors(metadata or {})
                        ]
                    item = CustomerInput(
                        number=number,
                        name=name,
                        email=email,
                        external_id=external_id,
                        assistant_overrides={"variableValues": attributes} if attributes else None,
                        time_zone=time_zone,
                        region=place[0],
                        postal_code=place[1],
                        metadata=metadata or None,
                    )
                    zone_list = tuple(z for z in zones.split(",") if z)
                    writer.write(prepared.row(item, number, zone_list, number in blocked))
                    audience.contacts_added += 1
        audience.do_not_call = prepared.do_not_call - before_dnc
        audience.snapshot_at = now
        total += audience.contacts_added
    if errors:  # the start is refused: its transaction saves nothing
        raise ValidationFailed(errors)
    CampaignAudience.objects.bulk_update(
        audiences, ["snapshot_at", "contacts_added", "duplicates", "do_not_call"]
    )
    skipped = prepared.do_not_call
    Campaign.objects.filter(pk=campaign.pk).update(
        customers_total=F("customers_total") + total,
        customers_final=F("customers_final") + skipped,
        customers_pending=F("customers_pending") + total - skipped,
        customers_skipped=F("customers_skipped") + skipped,
    )
    return total
