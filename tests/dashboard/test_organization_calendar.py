"""The organization's calendar page (admins): blackout dates and region rules listed, added and
removed one at a time, each refusal beside its field with nothing saved, each change audited and
the same as the API shows."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from campaigns.models import AuditEvent, Organization

pytestmark = pytest.mark.django_db

PAGE = "campaigns:organization-calendar"


def test_an_admin_adds_and_removes_blackout_dates(as_owner, org) -> None:
    add = reverse("campaigns:organization-blackout-add")
    done = as_owner.post(add, {"day": "2026-12-25"}, follow=True).content.decode()
    assert "Nobody is called on 2026-12-25 any more." in done and 'data-day="2026-12-25"' in done
    as_owner.post(add, {"day": "2026-01-01"})
    as_owner.post(add, {"day": "2026-12-25"})  # already there: once
    org.refresh_from_db()
    assert org.blackout_dates == ["2026-01-01", "2026-12-25"]
    removed = as_owner.post(
        reverse("campaigns:organization-blackout-remove"), {"day": "2026-01-01"}, follow=True
    )
    assert "2026-01-01 is an ordinary day again." in removed.content.decode()
    assert Organization.objects.get(pk=org.pk).blackout_dates == ["2026-12-25"]
    assert AuditEvent.objects.filter(action="organization.blackout_set").count() == 3


def test_a_bad_date_is_named_beside_its_field_and_nothing_is_saved(as_owner, org) -> None:
    response = as_owner.post(reverse("campaigns:organization-blackout-add"), {"day": "2026-02-30"})
    assert response.status_code == 422
    content = response.content.decode()
    assert (
        re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_day"', content)
        and "Enter a valid date." in content
    )
    org.refresh_from_db()
    assert org.blackout_dates in (None, []) and not AuditEvent.objects.exists()
    missing = as_owner.post(
        reverse("campaigns:organization-blackout-remove"), {"day": "2030-01-01"}, follow=True
    )
    assert "2030-01-01 is not one of the organization&#x27;s blackout dates" in missing.content.decode()


def test_an_admin_adds_a_region_rule_shown_in_words_and_removes_it(as_owner, org) -> None:
    data = {
        "region": "us-fl",
        "days": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "start": "08:00",
        "end": "20:00",
        "note": "Florida telemarketing law",
    }
    page = as_owner.post(
        reverse("campaigns:organization-region-rule-add"), data, follow=True
    ).content.decode()
    assert "Callees in US-FL are called only in the hours of its rule." in page
    row = re.search(r'<tr data-region="US-FL">(.*?)</tr>', page, re.S).group(1)
    assert (
        "Mon, Tue, Wed, Thu, Fri, Sat 08:00–20:00" in row
        and ">Sun<" in row
        and "Florida telemarketing law" in row
    )
    org.refresh_from_db()
    assert org.region_rules == [
        {
            "region": "US-FL",
            "windows": [{"day": d, "start": "08:00", "end": "20:00"} for d in data["days"]],
            "note": "Florida telemarketing law",
        }
    ]
    # A page shown before another change cannot remove the wrong rule.
    stale = as_owner.post(
        reverse("campaigns:organization-region-rule-remove"), {"index": "0", "region": "DE"}, follow=True
    )
    assert "that rule is no longer in the table" in stale.content.decode().lower()
    as_owner.post(reverse("campaigns:organization-region-rule-remove"), {"index": "0", "region": "US-FL"})
    org.refresh_from_db()
    assert org.region_rules == []


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"region": "Florida"}, "region", "must be a country (DE) or a country and subdivision (US-FL)"),
        ({"start": "25:00"}, "start", "HH:MM"),
        ({"days": []}, "days", "This field is required."),
    ],
)
def test_a_bad_rule_is_named_beside_its_field(change, field, words, as_owner, org) -> None:
    data = {"region": "DE", "days": ["mon"], "start": "09:00", "end": "18:00"} | change
    response = as_owner.post(reverse("campaigns:organization-region-rule-add"), data)
    assert response.status_code == 422
    content = response.content.decode()
    error = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</ul>', content, re.S) or re.search(
        r'<div class="field has-error[^"]*">(.*?)</div>', content, re.S
    )
    assert error and words in error.group(1), content[content.find("has-error") - 200 :][:800]
    org.refresh_from_db()
    assert not org.region_rules and not AuditEvent.objects.exists()


def test_viewers_and_managers_do_not_see_the_calendar(as_manager) -> None:
    assert as_manager.get(reverse(PAGE)).status_code == 403
