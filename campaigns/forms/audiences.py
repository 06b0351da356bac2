"""Forms of the audiences pages: contact lists, their imports and segments, and what a campaign targets.

They only shape input; the services decide (their FieldErrors come back next to these fields
through `forms.errors.attach`).
"""

from __future__ import annotations

from typing import Any

from django import forms

from campaigns.forms.base import DashboardForm
from campaigns.models import ContactList, Segment


class ContactListForm(DashboardForm):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)


class ContactImportForm(DashboardForm):
    file = forms.FileField(
        label="CSV file",
        help_text="A number column; optionally name, email, externalId, consentSource, consentAt, timeZone, "
        "region (US-CA, FR) and postalCode (a US ZIP gives the zone). "
        "Every other column is an attribute (its header a name such as plan or state).",
    )


class SegmentForm(DashboardForm):
    name = forms.CharField(max_length=100, label="Segment name")
    filter = forms.CharField(
        max_length=2000,
        help_text="e.g. plan = premium AND state IN (CA, NV). Also !=, NOT IN, OR and parentheses.",
    )


def _contacts(target: ContactList | Segment) -> str:
    """ "1 contact", "12,000 contacts": the stored count, never a COUNT over the contacts."""
    return f"{target.contacts_total:,} contact{'' if target.contacts_total == 1 else 's'}"


class CampaignAudiencesForm(DashboardForm):
    """Lists and segments of the organization, as checkboxes ("list:<id>", "segment:<id>")."""

    targets = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Lists and segments to copy into the customers when the campaign starts",
    )

    def __init__(self, *args: Any, lists: list[ContactList], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = []
        for contact_list in lists:
            choices.append(
                (f"list:{contact_list.pk}", f"{contact_list.name} (whole list): {_contacts(contact_list)}")
            )
            choices += [
                (f"segment:{s.pk}", f"{contact_list.name} › {s.name}: {_contacts(s)}")
                for s in contact_list.segments.all()
            ]
        self.fields["targets"].choices = choices

    def ids(self, kind: str) -> list[str]:
        return [
            value.partition(":")[2] for value in self.cleaned_data["targets"] if value.startswith(f"{kind}:")
        ]


class CampaignCalendarForm(DashboardForm):
    """A campaign's holidays (one ISO date per line) and its policy for ambiguous numbers."""

    blackout_dates = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Blackout dates",
        help_text="One date per line, e.g. 2026-12-25: nobody is called on it in their own time zone.",
    )
    ambiguous_zones = forms.ChoiceField(
        choices=[
            ("every", "Wait until it is calling time in each of them"),
            ("campaign", "Take the callee to be in the campaign's time zone"),
        ],
        label="A number that may be in several time zones",
    )

    def dates(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["blackout_dates"].replace(",", "\n").splitlines()
            if line.strip()
        ]
