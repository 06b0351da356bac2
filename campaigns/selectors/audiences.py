"""Contact lists, their contacts and segments, and what campaigns target.

`segment_q` turns a parsed segment (campaigns.rules.segments) into ORM lookups on the
`attributes` JSON column: each attribute is read as text with a key transform (the name is a
parameter of the transform, never SQL text) and compared with the filter's values as query
parameters.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet, TextField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.db.models.lookups import Exact, In, IsNull

from campaigns.models import (
    Campaign,
    CampaignAudience,
    ContactList,
    DoNotCall,
    ListContact,
    Organization,
    Segment,
)
from campaigns.rules import segments
from campaigns.selectors.common import as_uuid


def _attribute(name: str) -> Cast:
    # KT() splits on "__" itself; names are identifiers (segments.NAME) so each is one key.
    return Cast(KT(f"attributes__{name}"), TextField())


def segment_q(node: segments.Node) -> Q:
    """The segment as a filter on ListContact (agrees with `segments.matches`: an absent
    attribute matches no condition, negated ones included)."""
    if isinstance(node, segments.AllOf):
        q = Q()
        for item in node.items:
            q &= segment_q(item)
        return q
    if isinstance(node, segments.AnyOf):
        q = Q(pk__in=[])
        for item in node.items:
            q |= segment_q(item)
        return q
    value = _attribute(node.attribute)
    present = Q(IsNull(value, False))
    if node.op == "=":
        return present & Q(Exact(value, node.values[0]))
    if node.op == "in":
        return present & Q(In(value, list(node.values)))
    if node.op == "!=":
        return present & ~Q(Exact(value, node.values[0]))
    return present & ~Q(In(value, list(node.values)))


def contact_lists_for(organization: Organization) -> QuerySet[ContactList]:
    """The organization's lists by name, with their segments."""
    return ContactList.objects.filter(organization=organization).prefetch_related("segments")


def contact_list_for(organization: Organization, list_id: object) -> ContactList | None:
    pk = as_uuid(list_id)
    if pk is None:
        return None
    return ContactList.objects.filter(organization=organization, pk=pk).select_related("organization").first()


def segment_for(organization: Organization, segment_id: object) -> Segment | None:
    pk = as_uuid(segment_id)
    if pk is None:
        return None
    return (
        Segment.objects.filter(contact_list__organization=organization, pk=pk)
        .select_related("contact_list__organization")
        .first()
    )


def list_contacts(contact_list: ContactList, *, segment: Segment | None = None) -> QuerySet[ListContact]:
    """The list's contacts in the order they were added; only the segment's, with one."""
    rows = ListContact.objects.filter(contact_list=contact_list).order_by("position")
    if segment is not None:
        rows = rows.filter(segment_q(segments.parse(segment.filter)))
    return rows


def list_contacts_on_do_not_call(contact_list: ContactList) -> int:
    """How many of the list's contacts are on the organization's do-not-call list (they stay on
    the list; a campaign's snapshot marks them skipped)."""
    numbers = DoNotCall.objects.filter(organization_id=contact_list.organization_id).values("number")
    return ListContact.objects.filter(contact_list=contact_list, number__in=numbers).count()


def campaign_audiences(campaign: Campaign) -> list[CampaignAudience]:
    """What the campaign targets (or targeted, with what each snapshot added)."""
    return list(
        CampaignAudience.objects.filter(campaign=campaign).order_by("created_at", "list_name", "segment_name")
    )
