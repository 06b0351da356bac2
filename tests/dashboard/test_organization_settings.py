"""The organization page: compliance settings (admins), the organization-wide stop (managers pull
it, admins lift it) and the history of both."""

from __future__ import annotations

import re
from datetime import time

import pytest
from django.urls import reverse
from django.utils.html import escape

from campaigns import services
from campaigns.models import AuditEvent, Organization
from campaigns.permissions import Action, refusal
from campaigns.views.organization import HISTORY_SIZE

pytestmark = pytest.mark.django_db

SETTINGS = reverse("campaigns:organization-settings")
PAUSE = reverse("campaigns:organization-pause")
RESUME = reverse("campaigns:organization-resume")
CHECKBOXES = ("allow_ignoring_recipient_time", "call_numbers_without_time_zone")


def form_data(org: Organization, **changes: object) -> dict[str, str]:
    """What the page's form posts for the organization as it is, with `changes` made."""
    values = {
        "recipient_earliest": f"{org.recipient_earliest:%H:%M}",
        "recipient_latest": f"{org.recipient_latest:%H:%M}",
        "allow_ignoring_recipient_time": org.allow_ignoring_recipient_time,
        "call_numbers_without_time_zone": org.call_numbers_without_time_zone,
        "default_region": org.default_region,
        "billing_day": org.billing_day,
        "included_minutes": "" if org.included_minutes is None else org.included_minutes,
        "quota_mode": org.quota_mode,
        **changes,
    }
    # An unticked checkbox is not posted at all.
    return {k: ("on" if v is True else v) for k, v in values.items() if v is not False}


def tag(content: str, name: str) -> str:
    """The <input> or <select> of the field `name`, as rendered."""
    match = re.search(rf'<(?:input|select)\b[^>]*\bname="{name}"[^>]*>', content)
    assert match, f"no control named {name}"
    return match.group(0)


def arrows(page: str) -> str:
    """The page's "before → after" (an arrow hidden from screen readers, words for them) as "->"."""
    return page.replace(
        ' <span aria-hidden="true">→</span><span class="visually-hidden">changed to</span> ', " -> "
    )


def settings_of(org: Organization) -> tuple:
    org.refresh_from_db()
    return (
        org.recipient_earliest,
        org.recipient_latest,
        org.allow_ignoring_recipient_time,
        org.call_numbers_without_time_zone,
        org.default_region,
        org.billing_day,
        org.included_minutes,
        org.quota_mode,
    )


# -- the settings ----------------------------------------------------------------------------------


def test_an_admin_sees_the_settings_and_that_dialing_is_on(as_owner, running) -> None:
    page = as_owner.get(SETTINGS).content.decode()

    assert "Dialing is on." in page and "1 campaign in progress" in page
    assert 'value="08:00"' in tag(page, "recipient_earliest")
    assert 'value="21:00"' in tag(page, "recipient_latest")
    assert "checked" in tag(page, "allow_ignoring_recipient_time")  # the org fixture allows it
    assert "checked" not in tag(page, "call_numbers_without_time_zone")
    assert '<option value="US">United States (US)</option>' in page
    assert '<option value="" selected>None: such numbers are refused</option>' in page
    assert "may break the law where you call" in page
    assert f'action="{PAUSE}"' in page  # the stop is on the same page
    assert "No change yet." in page


SAVES = [
    ("recipient_earliest", "09:30", time(9, 30), 'value="09:30"', "ring: 08:00 -> 09:30"),
    ("recipient_latest", "20:00", time(20, 0), 'value="20:00"', "ring: 21:00 -> 20:00"),
    ("allow_ignoring_recipient_time", False, False, "", "calling window: yes -> no"),
    ("call_numbers_without_time_zone", True, True, "checked", "cannot be known: no -> yes"),
    ("default_region", "GB", "GB", "", "country code: none -> United Kingdom (GB)"),
    ("billing_day", "15", 15, 'value="15"', "starts on day: 1 -> 15"),
    ("included_minutes", "500", 500, 'value="500"', "per period: not set -> 500"),
]


@pytest.mark.parametrize(("field", "posted", "stored", "shown", "history"), SAVES, ids=[s[0] for s in SAVES])
def test_an_admin_saves_each_setting_and_sees_it(
    field, posted, stored, shown, history, as_owner, org, owner
) -> None:
    before = settings_of(org)

    response = as_owner.post(SETTINGS, form_data(org, **{field: posted}), follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(SETTINGS, 302)]
    after = settings_of(org)
    assert getattr(org, field) == stored
    assert sum(a != b for a, b in zip(before, after, strict=True)) == 1, "only what changed is saved"
    assert "Saved. Changed:" in page
    if field == "default_region":
        assert '<option value="GB" selected>United Kingdom (GB)</option>' in page
    elif field in ("billing_day", "included_minutes"):
        assert shown in tag(page, field)
    elif posted is False:
        assert "checked" not in tag(page, field)
    else:
        assert shown in tag(page, field)
    # Audited, and the history says who changed what from what to what.
    event = AuditEvent.objects.get(action="organization.update")
    assert event.actor == owner
    assert "Changed the settings" in page and "olivia" in page
    assert history in arrows(page)


def test_saving_the_same_values_records_nothing(as_owner, org) -> None:
    response = as_owner.post(SETTINGS, form_data(org), follow=True)

    assert "Nothing to save: the settings were already these." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_latest_time_before_the_earliest_is_refused_next_to_the_field(as_owner, org) -> None:
    before = settings_of(org)

    response = as_owner.post(
        SETTINGS,
        form_data(org, recipient_earliest="20:00", recipient_latest="09:00", default_region="DE"),
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_recipient_latest_error"' in page
    assert "must be later than the earliest callee-local time" in page
    assert 'aria-invalid="true"' in tag(page, "recipient_latest")
    assert 'value="20:00"' in tag(page, "recipient_earliest")  # what was typed is kept
    assert settings_of(org) == before, "nothing is saved, not even the valid country"
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("region", ["ZZ", "XX", "usa", "<b>"])
def test_an_unknown_country_is_refused_next_to_the_field(region, as_owner, org) -> None:
    before = settings_of(org)

    response = as_owner.post(SETTINGS, form_data(org, default_region=region, recipient_latest="20:00"))

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_default_region_error"' in page
    assert f"{escape(region)}” is not a country code we know" in page
    assert settings_of(org) == before
    assert not AuditEvent.objects.exists()


def test_a_missing_time_is_refused_next_to_its_field(as_owner, org) -> None:
    response = as_owner.post(SETTINGS, form_data(org, recipient_earliest=""))

    assert response.status_code == 422
    assert 'id="id_recipient_earliest_error"' in response.content.decode()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("persona", ["as_manager", "as_viewer"])
def test_only_admins_open_or_change_the_settings(persona, request, org) -> None:
    client = request.getfixturevalue(persona)
    before = settings_of(org)

    for response in (client.get(SETTINGS), client.post(SETTINGS, form_data(org, recipient_latest="23:00"))):
        assert response.status_code == 403
        assert escape(refusal(Action.ORGANIZATION_SETTINGS)) in response.content.decode()
    assert settings_of(org) == before
    assert not AuditEvent.objects.exists()


def test_a_manager_sees_the_settings_but_no_form_to_change_them(as_manager, org) -> None:
    org.default_region = "US"
    org.save()

    page = as_manager.get(PAUSE).content.decode()

    assert "Only the organization's admins change these." in page
    assert "08:00" in page and "United States (US)" in page
    assert SETTINGS not in page and 'name="recipient_latest"' not in page
    assert f'action="{PAUSE}"' in page


def test_the_navigation_leads_each_role_to_the_page_it_may_open(as_owner, as_manager, as_viewer) -> None:
    list_url = reverse("campaigns:list")
    for_owner, for_manager = as_owner.get(list_url), as_manager.get(list_url)
    for_viewer = as_viewer.get(list_url).content.decode()

    assert f'href="{SETTINGS}"' in for_owner.content.decode()
    assert f'href="{PAUSE}"' in for_manager.content.decode()
    assert SETTINGS not in for_manager.content.decode()
    assert SETTINGS not in for_viewer and PAUSE not in for_viewer


# -- the organization-wide stop --------------------------------------------------------------------


def test_an_admin_pauses_all_dialing_and_sees_who_and_when(as_owner, org, owner, running) -> None:
    response = as_owner.post(PAUSE, {"confirm": "on"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(SETTINGS, 302)]
    assert "All dialing is paused: no campaign starts a new call." in page
    assert re.search(r"All dialing paused since <time[^>]*>\d+ \w+ \d\d:\d\d UTC</time> by olivia\.", page), (
        page
    )
    org.refresh_from_db()
    assert org.dialing_paused_at is not None
    event = AuditEvent.objects.get(action="organization.pause")
    assert (event.actor, event.before["dialing_paused"], event.after["dialing_paused"]) == (
        owner,
        False,
        True,
    )
    assert "Paused all dialing" in page and f'action="{RESUME}"' in page
    running.refresh_from_db()
    assert running.status == "in-progress", "campaigns keep their own status"


def test_pausing_without_ticking_the_box_pauses_nothing(as_owner, org) -> None:
    response = as_owner.post(PAUSE, {})

    page = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_confirm_error"' in page and "Tick this box to confirm: nothing was paused." in page
    assert "Dialing is on." in page
    org.refresh_from_db()
    assert org.dialing_paused_at is None
    assert not AuditEvent.objects.exists()


def test_a_second_pause_says_dialing_was_already_paused(as_owner, as_manager, org) -> None:
    as_owner.post(PAUSE, {"confirm": "on"})
    paused_at = Organization.objects.get(pk=org.pk).dialing_paused_at

    response = as_manager.post(PAUSE, {"confirm": "on"}, follow=True)

    page = response.content.decode()
    assert "All dialing was already paused: nothing changed." in page
    assert "by olivia" in page, "the first pause is the one shown"
    assert Organization.objects.get(pk=org.pk).dialing_paused_at == paused_at
    assert AuditEvent.objects.filter(action="organization.pause").count() == 1


def test_a_manager_pulls_the_stop_but_only_an_admin_lifts_it(as_manager, as_owner, org, manager) -> None:
    response = as_manager.post(PAUSE, {"confirm": "on"}, follow=True)

    page = response.content.decode()
    assert response.redirect_chain == [(PAUSE, 302)]
    assert "by manny." in page
    assert "Only an admin of the organization can resume dialing." in page and RESUME not in page

    refused = as_manager.post(RESUME)
    assert refused.status_code == 403
    assert escape(refusal(Action.ORGANIZATION_RESUME)) in refused.content.decode()
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is not None

    resumed = as_owner.post(RESUME, follow=True).content.decode()
    assert "All dialing resumed" in resumed and "Dialing is on." in resumed
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is None
    actions = list(AuditEvent.objects.values_list("action", "actor__username"))
    assert actions == [("organization.resume", "olivia"), ("organization.pause", "manny")]


def test_resuming_while_dialing_is_on_changes_nothing(as_owner) -> None:
    response = as_owner.post(RESUME, follow=True)

    assert "Dialing was not paused: nothing changed." in response.content.decode()
    assert not AuditEvent.objects.exists()


def test_a_viewer_can_neither_pause_nor_resume(as_viewer, org, owner) -> None:
    for response in (as_viewer.get(PAUSE), as_viewer.post(PAUSE, {"confirm": "on"})):
        assert response.status_code == 403
        assert escape(refusal(Action.ORGANIZATION_PAUSE)) in response.content.decode()
    services.organization_pause(organization=org, by=owner)
    assert as_viewer.post(RESUME).status_code == 403
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is not None


def test_pausing_stops_only_ones_own_organization(as_outsider, org, other_org) -> None:
    as_outsider.post(PAUSE, {"confirm": "on"})

    assert Organization.objects.get(pk=other_org.pk).dialing_paused_at is not None
    assert Organization.objects.get(pk=org.pk).dialing_paused_at is None


# -- the history ------------------------------------------------------------------------------------


def test_the_history_shows_the_last_changes_newest_first(as_owner, org, owner) -> None:
    for _ in range(HISTORY_SIZE // 2 + 1):
        services.organization_pause(organization=org, by=owner)
        services.organization_resume(organization=org, by=owner)
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550123", "")])  # not the organization's

    page = as_owner.get(SETTINGS).content.decode()

    history = arrows(page[page.index('id="history-title"') :])
    assert history.count("<tr>") == 1 + HISTORY_SIZE  # the head and the last 20
    assert history.index("Resumed all dialing") < history.index("Paused all dialing")
    assert "All dialing: paused -> on" in history and "All dialing: on -> paused" in history
    assert "dnc" not in history.lower()


@pytest.mark.parametrize("field", ["recipient_earliest", "recipient_latest", "default_region"])
@pytest.mark.parametrize("value", ["a\x00b", "9" * 5000, "25:00"])
def test_hostile_values_get_the_form_again_never_a_500(field, value, as_owner, org) -> None:
    before = settings_of(org)

    response = as_owner.post(SETTINGS, form_data(org, **{field: value}))

    assert response.status_code == 422
    assert f'id="id_{field}_error"' in response.content.decode()
    assert settings_of(org) == before
    assert not AuditEvent.objects.exists()


def test_every_page_says_all_dialing_is_paused_while_it_is(as_viewer, org, owner) -> None:
    page = as_viewer.get(reverse("campaigns:list")).content.decode()
    assert "All dialing of" not in page
    services.organization_pause(organization=org, by=owner)
    for name in ("campaigns:list", "campaigns:do-not-call", "campaigns:caller-ids"):
        page = as_viewer.get(reverse(name)).content.decode()
        assert f"All dialing of {org.name} is paused since" in page, name


def test_an_admin_sets_a_quota_that_pauses_dialing(as_owner, org) -> None:
    response = as_owner.post(
        SETTINGS, form_data(org, included_minutes="120", quota_mode="pause"), follow=True
    )

    page = response.content.decode()
    assert response.redirect_chain == [(SETTINGS, 302)]
    org.refresh_from_db()
    assert (org.included_minutes, org.quota_mode) == (120, "pause")
    assert '<option value="pause" selected>Stop new calls until the next period</option>' in page
    assert "120 (120.0 left)" in page
    assert "When the included minutes are used: Do nothing -> Stop new calls until the next period" in arrows(
        page
    )


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"billing_day": "31"}, "billing_day", "must be a day from 1 to 28, which every month has"),
        ({"billing_day": "0"}, "billing_day", "must be a day from 1 to 28, which every month has"),
        ({"billing_day": "first"}, "billing_day", "Enter a day from 1 to 28."),
        ({"included_minutes": "-5"}, "included_minutes", "must be a whole number of minutes, 0 or more"),
        ({"quota_mode": "warn"}, "included_minutes", "a quota that warns or pauses needs included minutes"),
        ({"quota_mode": "sometimes"}, "quota_mode", "Select a valid choice"),
    ],
)
def test_a_bad_billing_setting_is_refused_next_to_its_field(changes, field, reason, as_owner, org) -> None:
    before = settings_of(org)

    response = as_owner.post(SETTINGS, form_data(org, default_region="DE", **changes))

    page = response.content.decode()
    assert response.status_code == 422
    assert f'id="id_{field}_error"' in page
    assert escape(reason) in page
    assert settings_of(org) == before, "nothing is saved, not even the valid country"
    assert not AuditEvent.objects.exists()
