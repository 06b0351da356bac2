"""The access matrix of the security review: every URL × who asks, and the status each one gets.

- DASHBOARD: session logins. Columns: anonymous, viewer, manager, admin (an organization admin
  member), outsider (an admin of another organization, so a 404 below is the organization check,
  never the role check). URLs that name no object of ours serve the outsider their own
  organization (200, or a write into their own organization).
- API: Bearer keys (none, revoked, ours, another organization's) and the dashboard's session
  (viewer, manager, admin, outsider). The provider webhook is in this table too: its token is
  the only credential, so every column answers the same.
- ADMIN: the changelist and add page of every model in `admin.site._registry`, for anonymous, a
  non-staff organization admin and a superuser; they stand for every generated admin URL.

`test_every_url_pattern_has_a_row` walks the resolver: a URL without a row fails, so nothing new
slips in unreviewed. Objects are real and belong to `org`; writes carry valid bodies, so each
allowed cell asserts what success answers. Refused requests must leave no audit event.

The roles' columns are what the permission table (campaigns/permissions.py) allows; an API key
counts as an admin. `test_every_view_names_an_action_of_the_permission_table` walks the resolver
too: an API or dashboard view that names no action of the table fails.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time
from functools import cached_property
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve, reverse
from django.utils.html import escape
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from campaigns import services
from campaigns.api.auth import HasOrganization, action_for
from campaigns.models import (
    ApiKey,
    AuditEvent,
    Call,
    Campaign,
    CampaignEvent,
    ContactList,
    DoNotCall,
    Membership,
    PhoneNumber,
    ProviderAccount,
    Role,
    Segment,
)
from campaigns.models.telephony import SIMULATED_MIX as DEFAULT_MIX
from campaigns.permissions import TABLE, Action, allowed, refusal
from campaigns.services.campaigns import campaign_archive
from tests.api.conftest import messages
from tests.conftest import _member
from tests.dashboard.conftest import HTMX
from tests.dashboard.test_builder import form_data

pytestmark = pytest.mark.django_db

LOGIN = "login"  # 302 to the dashboard's login page, with ?next=
ADMIN_LOGIN = "admin-login"  # 302 to the Django admin's login page
REFUSED = {400, 401, 403, 404, 405, 422, LOGIN, ADMIN_LOGIN}
THROTTLED = "Too many failed sign-ins. Wait 15 minutes and try again."


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Login failures and API rates are counted in Django's cache (the database cache in tests)."""
    cache.clear()
    yield
    cache.clear()


# -- our organization's objects ------------------------------------------------------------------


class Ours:
    """Real objects of `org` for URL kwargs and bodies, each made when a row first asks for it."""

    def __init__(self, org, owner, caller_id, make_campaign) -> None:
        self.org, self.owner, self.caller_id, self._make = org, owner, caller_id, make_campaign

    def _campaign(self, name: str) -> Campaign:
        return self._make(3, name=name, strategy={"respect_recipient_time_zone": False, "auto_start": False})

    @cached_property
    def campaign(self) -> Campaign:
        """Scheduled."""
        return self._campaign("Renewals")

    @cached_property
    def running(self) -> Campaign:
        return services.campaign_start(campaign=self._campaign("Running"), by=self.owner)

    @cached_property
    def paused(self) -> Campaign:
        running = services.campaign_start(campaign=self._campaign("Paused"), by=self.owner)
        return services.campaign_pause(campaign=running, by=self.owner)

    @cached_property
    def archived(self) -> Campaign:
        """Archived (Vapi v2's DELETE), so unarchiving it succeeds."""
        return campaign_archive(campaign=self._campaign("Archived"), by=self.owner)

    @cached_property
    def series(self) -> Campaign:
        """A campaign made to recur weekly (the first run of its series)."""
        campaign = self._campaign("Weekly")
        services.series_create(
            campaign=campaign, by=self.owner, frequency="weekly", time_zone="UTC", at=time(10), max_runs=4
        )
        return campaign

    @cached_property
    def call(self) -> Call:
        campaign = self.campaign
        return Call.objects.create(
            organization=self.org,
            campaign=campaign,
            customer=campaign.customers.first(),
            phone_number=self.caller_id,
            provider_account=self.caller_id.provider_account,
            attempt=1,
        )

    @cached_property
    def event(self) -> CampaignEvent:
        """An event of `campaign` for its own server (its delivery attempts have a page)."""
        campaign = self.campaign
        return CampaignEvent.objects.create(
            organization=self.org,
            campaign=campaign,
            event_type="campaign.started",
            created_at=campaign.created_at,
            next_attempt_at=campaign.created_at,
        )

    @cached_property
    def dnc(self) -> DoNotCall:
        services.dnc_add(organization=self.org, by=self.owner, numbers=[("+14155550188", "asked")])
        return DoNotCall.objects.get(organization=self.org, number="+14155550188")

    @cached_property
    def spare_caller_id(self) -> PhoneNumber:
        """A caller ID no campaign uses, so removing it succeeds."""
        return services.phone_number_create(
            organization=self.org,
            by=self.owner,
            number="+14155550177",
            provider_account=self.caller_id.provider_account,
        )

    @cached_property
    def contact_list(self) -> ContactList:
        """A list with one contact and one segment, no campaign targets it (deleting it succeeds)."""
        made = services.contact_list_create(organization=self.org, by=self.owner, name="Renewals list")
        rows = [
            services.ContactInput(number="+14155550143", attributes={"plan": "premium"}, source="contacts.0")
        ]
        services.contacts_import(contact_list=made, by=self.owner, rows=rows)
        return made

    @cached_property
    def segment(self) -> Segment:
        return services.segment_create(
            contact_list=self.contact_list, by=self.owner, name="Premium", filter="plan = premium"
        )

    @cached_property
    def api_key(self) -> ApiKey:
        return services.api_key_create(organization=self.org, by=self.owner, name="CRM sync")[0]

    @cached_property
    def membership(self) -> Membership:
        return Membership.objects.get(user=_member(self.org, "tina", Role.VIEWER))

    @cached_property
    def paused_organization(self) -> None:
        """All dialing of `org` paused, so resuming it succeeds."""
        services.organization_pause(organization=self.org, by=self.owner)

    @cached_property
    def account(self) -> ProviderAccount:
        """The provider account of `caller_id` (simulated)."""
        return self.caller_id.provider_account

    @cached_property
    def vapi_account(self) -> ProviderAccount:
        account = self.caller_id.provider_account
        account.kind, account.base_url = "vapi", "https://api.example.com"
        account.save()
        return account

    def kwargs(self, on: str | None, *, key: str = "pk") -> dict[str, Any]:
        if on is None:
            return {}
        if on == "call":
            return {"pk": self.call.campaign_id, "call_pk": self.call.pk}
        if on == "customer":
            customer = self.campaign.customers.first()
            return {"pk": customer.campaign_id, "customer_pk": customer.pk}
        if on == "event":
            return {"pk": self.event.campaign_id, "event_pk": self.event.pk}
        if on == "segment" and key == "pk":  # the dashboard names a segment within its list
            return {"pk": self.segment.contact_list_id, "segment_pk": self.segment.pk}
        if "@" in on:  # "<token>@<kind>": a webhook address /webhooks/<kind>/<token>
            token, kind = on.split("@")
            return {"kind": kind, **self.kwargs(token)}
        if on == "unknown-token":
            return {"token": secrets.token_urlsafe(24)}
        if on == "simulated-token":
            return {"token": self.caller_id.provider_account.webhook_token}
        if on == "vapi-token":
            return {"token": self.vapi_account.webhook_token}
        if on == "paused_organization":  # a state of the session's organization, not an object
            self.paused_organization  # noqa: B018
            return {}
        return {key: str(getattr(self, on).pk)}


@pytest.fixture
def ours(org, owner, caller_id, make_campaign) -> Ours:
    return Ours(org, owner, caller_id, make_campaign)


@dataclass(frozen=True)
class Row:
    """One URL and method, and the status each actor (the table's columns, in order) gets."""

    name: str
    method: str
    expect: tuple
    on: str | None = None  # which of Ours the URL names
    data: dict | Callable[[Ours], Any] | None = None
    htmx: bool = False

    @property
    def id(self) -> str:
        htmx = " (htmx)" if self.htmx else ""
        return f"{self.method.upper()} {self.name}{htmx}{f' {self.on}' if self.on else ''}"

    def body(self, ours: Ours) -> Any:
        return self.data(ours) if callable(self.data) else self.data

    def url(self, ours: Ours) -> str:
        # The API's routes name their ids `id`, the dashboard's `pk`.
        return reverse(
            self.name, kwargs=ours.kwargs(self.on, key="id" if self.name.startswith("api-") else "pk")
        )


def assert_status(response, expected) -> None:
    location = response.get("Location", "")
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert location.startswith(reverse("login") + "?next="), location
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, response.status_code
        assert location.startswith(reverse("admin:login") + "?next="), location
    else:
        assert response.status_code == expected, (response.status_code, response.content[:300])
        if expected == 302:  # a success that redirects, not a login bounce in disguise
            assert "?next=" not in location, location


# -- dashboard -----------------------------------------------------------------------------------

DASHBOARD_ACTORS = ("anonymous", "viewer", "manager", "admin", "outsider")
PERSONA = {"viewer": "viewer", "manager": "manager", "admin": "owner", "outsider": "outsider"}
CAMPAIGN_PAGES = (
    "detail",
    "status",
    "counters",
    "wallboard",
    "announce",
    "waiting",
    "charts",
    "customers",
    "calls",
    "export",
)
TRANSITIONS = (("start", "campaign"), ("pause", "running"), ("resume", "paused"), ("end", "campaign"))
# The dashboard's own transitions (not the API's): archive a campaign, unarchive an archived one.
DASHBOARD_TRANSITIONS = (("archive", "campaign"), ("unarchive", "archived"))
PROVIDER = {
    "name": "Local",
    "kind": "simulated",
    "seed": "1",
    **{f"mix_{k}": str(v) for k, v in DEFAULT_MIX.items()},
}


def _builder(ours: Ours) -> dict:
    return form_data(ours.caller_id, customers_text="number\n+14155550101\n")


def _builder_edit(ours: Ours) -> dict:
    data = form_data(ours.caller_id, name="Renewals (March)")
    data.pop("caller_mode")
    return data


def _dnc_csv(ours: Ours) -> dict:
    return {"file": SimpleUploadedFile("dnc.csv", b"number,note\n+14155550155,asked\n", "text/csv")}


def _contacts_csv(ours: Ours) -> dict:
    return {"file": SimpleUploadedFile("contacts.csv", b"number,plan\n+14155550145,basic\n", "text/csv")}


def _caller_id(ours: Ours) -> dict:
    return {"number": "+14155550166", "provider_account": str(ours.caller_id.provider_account_id)}


def _switch(ours: Ours) -> dict:
    return {"organization": str(ours.org.pk)}


ORGANIZATION_SETTINGS = {
    "recipient_earliest": "09:00",
    "recipient_latest": "20:00",
    "default_region": "US",
    "billing_day": "1",
    "quota_mode": "off",
}


# fmt: off
#                                                  anonymous viewer manager admin outsider
DASHBOARD = [
    Row("home", "get",                               (302,     302,   302,    302,  302)),
    # The Django admin's login goes to the throttled one: no unlimited guessing of staff passwords.
    Row("admin-login-throttled", "get",              (302,     302,   302,    302,  302)),
    Row("login", "get",                              (200,     200,   200,    200,  200)),
    Row("login", "post",                             (200,     200,   200,    200,  200),
        data={"username": "olivia", "password": "wrong"}),
    Row("logout", "post",                            (302,     302,   302,    302,  302)),
    Row("campaigns:list", "get",                     (LOGIN,   200,   200,    200,  200)),
    Row("campaigns:switch-organization", "post",     (LOGIN,   302,   302,    302,  302), data=_switch),
    Row("campaigns:create", "get",                   (LOGIN,   403,   200,    200,  200)),
    # The outsider names our caller ID: not one of theirs, so the form refuses it.
    Row("campaigns:create", "post",                  (LOGIN,   403,   302,    302,  422), data=_builder),
    # The builder's pre-flight saves nothing; the outsider's form is refused, so it has none to show.
    Row("campaigns:create-preflight", "post",        (LOGIN,   403,   200,    200,  200), data=_builder),
    *[Row(f"campaigns:{page}", "get",                (LOGIN,   200,   200,    200,  404), on="campaign")
      for page in CAMPAIGN_PAGES],
    Row("campaigns:overview", "get",                 (LOGIN,   200,   200,    200,  200)),
    Row("campaigns:organization-audit", "get",       (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:notifications", "get",            (LOGIN,   200,   200,    200,  200)),
    Row("campaigns:notifications-read", "post",      (LOGIN,   302,   302,    302,  302)),
    Row("campaigns:notifications-email", "post",     (LOGIN,   302,   302,    302,  302)),
    Row("campaigns:call", "get",                     (LOGIN,   200,   200,    200,  404), on="call"),
    Row("campaigns:call-transcript", "get",          (LOGIN,   200,   200,    200,  404), on="call"),
    Row("campaigns:duplicate", "post",               (LOGIN,   403,   302,    302,  404), on="campaign"),
    Row("campaigns:customer", "get",                 (LOGIN,   200,   200,    200,  404), on="customer"),
    Row("campaigns:customers-bulk", "post",          (LOGIN,   403,   200,    200,  404), on="campaign",
        data=lambda ours: {"action": "cancel", "customer": str(ours.campaign.customers.first().pk)}),
    Row("campaigns:events", "get",                   (LOGIN,   200,   200,    200,  404), on="campaign"),
    Row("campaigns:event", "get",                    (LOGIN,   200,   200,    200,  404), on="event"),
    Row("campaigns:edit", "get",                     (LOGIN,   403,   200,    200,  404), on="campaign"),
    Row("campaigns:edit", "post",                    (LOGIN,   403,   302,    302,  404), on="campaign",
        data=_builder_edit),
    Row("campaigns:edit-preflight", "post",          (LOGIN,   403,   200,    200,  404), on="campaign",
        data=_builder_edit),
    # How the detail page posts them (htmx: the status fragment), and without JavaScript.
    *[Row(f"campaigns:{action}", "post",             (LOGIN,   403,   200,    200,  404), on=on, htmx=True)
      for action, on in (*TRANSITIONS, *DASHBOARD_TRANSITIONS)],
    Row("campaigns:start", "post",                   (LOGIN,   403,   302,    302,  404), on="campaign"),
    Row("campaigns:delete", "post",                  (LOGIN,   403,   200,    200,  404), on="campaign",
        htmx=True),
    Row("campaigns:delete", "post",                  (LOGIN,   403,   302,    302,  404), on="campaign"),
    # Re-runs and recurrence: the form pages (a scheduled campaign's re-run page says it cannot yet).
    Row("campaigns:rerun", "get",                    (LOGIN,   403,   200,    200,  404), on="campaign"),
    Row("campaigns:rerun", "post",                   (LOGIN,   403,   422,    422,  404), on="campaign",
        data={"who": ["nobody"]}),
    Row("campaigns:dialing-settings", "get",         (LOGIN,   403,   200,    200,  404), on="campaign"),
    Row("campaigns:dialing-settings", "post",        (LOGIN,   403,   422,    422,  404), on="campaign"),
    Row("campaigns:outcome-settings", "get",         (LOGIN,   403,   200,    200,  404), on="campaign"),
    Row("campaigns:outcome-settings", "post",        (LOGIN,   403,   422,    422,  404), on="campaign",
        data={"max_callbacks": "99"}),
    Row("campaigns:recurrence", "get",               (LOGIN,   200,   200,    200,  404), on="series"),
    Row("campaigns:recurrence-create", "post",       (LOGIN,   403,   302,    302,  404), on="campaign",
        data={"frequency": "weekly", "time_zone": "UTC", "at": "10:00", "max_runs": "4"}),
    Row("campaigns:recurrence-stop", "post",         (LOGIN,   403,   302,    302,  404), on="series"),
    Row("campaigns:do-not-call", "get",              (LOGIN,   200,   200,    200,  200)),
    Row("campaigns:do-not-call-add", "post",         (LOGIN,   403,   302,    302,  302),
        data={"number": "+1 415 555 0123", "note": "asked"}),
    Row("campaigns:do-not-call-import", "post",      (LOGIN,   403,   302,    302,  302), data=_dnc_csv),
    Row("campaigns:do-not-call-remove", "post",      (LOGIN,   403,   302,    302,  404), on="dnc"),
    Row("campaigns:audiences", "get",                (LOGIN,   200,   200,    200,  200)),
    Row("campaigns:audience-create", "post",         (LOGIN,   403,   302,    302,  302),
        data={"name": "Winbacks"}),
    Row("campaigns:audience", "get",                 (LOGIN,   200,   200,    200,  404), on="contact_list"),
    Row("campaigns:audience-import", "post",         (LOGIN,   403,   302,    302,  404), on="contact_list",
        data=_contacts_csv),
    Row("campaigns:audience-segment-add", "post",    (LOGIN,   403,   302,    302,  404), on="contact_list",
        data={"name": "Basic", "filter": "plan = basic"}),
    Row("campaigns:audience-segment-delete", "post", (LOGIN,   403,   302,    302,  404), on="segment"),
    Row("campaigns:audience-delete", "post",         (LOGIN,   403,   302,    302,  404), on="contact_list"),
    Row("campaigns:campaign-audiences", "post",      (LOGIN,   403,   302,    302,  404), on="campaign",
        data={"targets": []}),
    Row("campaigns:campaign-calendar", "post",       (LOGIN,   403,   302,    302,  404), on="campaign",
        data={"blackout_dates": "2026-12-25", "ambiguous_zones": "every"}),
    Row("campaigns:caller-ids", "get",               (LOGIN,   200,   200,    200,  200)),
    # The outsider names our provider account: not one of theirs, so the form refuses it.
    Row("campaigns:caller-id-add", "post",           (LOGIN,   403,   403,    302,  422), data=_caller_id),
    Row("campaigns:caller-id-remove", "post",        (LOGIN,   403,   403,    302,  404),
        on="spare_caller_id"),
    Row("campaigns:caller-id-update", "post",        (LOGIN,   403,   403,    302,  404),
        on="spare_caller_id", data={"do": "disable"}),
    # Secrets are shown once, in the answer to the POST that made them: 201, not a redirect.
    Row("campaigns:providers", "get",                (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:provider-add", "post",            (LOGIN,   403,   403,    201,  201), data=PROVIDER),
    Row("campaigns:provider", "get",                 (LOGIN,   403,   403,    200,  404), on="account"),
    Row("campaigns:provider-edit", "post",           (LOGIN,   403,   403,    302,  404), on="account",
        data={"name": "Renamed"}),
    Row("campaigns:provider-test", "post",           (LOGIN,   403,   403,    302,  404), on="account"),
    Row("campaigns:api-keys", "get",                 (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:api-key-add", "post",             (LOGIN,   403,   403,    201,  201),
        data={"name": "CI"}),
    Row("campaigns:api-key-revoke", "post",          (LOGIN,   403,   403,    302,  404), on="api_key"),
    Row("campaigns:members", "get",                  (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:member-add", "post",              (LOGIN,   403,   403,    302,  302),
        data={"username": "newbie", "password": "plum tractor lantern 42", "role": "viewer"}),
    Row("campaigns:member-role", "post",             (LOGIN,   403,   403,    302,  404), on="membership",
        data={"role": "manager"}),
    # The organization named is the session's: the outsider reads and changes their own.
    Row("campaigns:organization-settings", "get",    (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:organization-settings", "post",   (LOGIN,   403,   403,    302,  302),
        data=ORGANIZATION_SETTINGS),
    # The calendar (blackout dates, region rules) is the admins', like the settings.
    Row("campaigns:organization-calendar", "get",    (LOGIN,   403,   403,    200,  200)),
    Row("campaigns:organization-blackout-add", "post", (LOGIN, 403,   403,    302,  302),
        data={"day": "2026-12-25"}),
    Row("campaigns:organization-blackout-remove", "post", (LOGIN, 403, 403,   302,  302),
        data={"day": "2026-12-25"}),
    Row("campaigns:organization-region-rule-add", "post", (LOGIN, 403, 403,   302,  302),
        data={"region": "US-FL", "days": ["mon", "tue"], "start": "08:00", "end": "20:00"}),
    Row("campaigns:organization-region-rule-remove", "post", (LOGIN, 403, 403, 302, 302),
        data={"index": "0", "region": "US-FL"}),
    # A manager may pull the organization-wide stop (this page is theirs to do it), not lift it.
    Row("campaigns:organization-pause", "get",       (LOGIN,   403,   200,    200,  200)),
    Row("campaigns:organization-pause", "post",      (LOGIN,   403,   302,    302,  302),
        data={"confirm": "on"}),
    Row("campaigns:organization-resume", "post",     (LOGIN,   403,   403,    302,  302),
        on="paused_organization"),
    # The new signing secret is shown once, in the answer to this POST: 201, not a redirect.
    Row("campaigns:organization-signing-secret", "post", (LOGIN, 403,   403,    201,  201)),
]
# fmt: on


@pytest.fixture
def login_as(request) -> Callable[[str, Client | None], Client]:
    def login(actor: str, client: Client | None = None) -> Client:
        client = client or Client()
        if actor != "anonymous":
            client.force_login(request.getfixturevalue(PERSONA[actor]))
        return client

    return login


def _send(client: Client, row: Row, ours: Ours):
    url, body = row.url(ours), row.body(ours)
    headers = HTMX if row.htmx else {}
    if row.method == "get":
        return client.get(url, **headers)
    return client.post(url, body or {}, **headers)


@pytest.mark.parametrize("actor", DASHBOARD_ACTORS)
@pytest.mark.parametrize("row", DASHBOARD, ids=lambda row: row.id)
def test_the_dashboard_answers_each_actor_as_the_matrix_says(row, actor, login_as, ours) -> None:
    expected = row.expect[DASHBOARD_ACTORS.index(actor)]
    url = row.url(ours)  # our objects exist before anyone asks
    audited = AuditEvent.objects.count()

    response = _send(login_as(actor), row, ours)

    assert_status(response, expected)
    if expected in REFUSED:
        assert AuditEvent.objects.count() == audited, f"refused, yet audited: {url}"
    if expected == 403 and actor in PERSONA:
        # A role the table refuses: the page says what the table says to the refused.
        assert escape(refusal(resolve(url).func.need)) in response.content.decode()


DASHBOARD_WRITES = [row for row in DASHBOARD if row.method == "post"]


@pytest.mark.parametrize("row", DASHBOARD_WRITES, ids=lambda row: row.id)
def test_every_dashboard_post_needs_the_csrf_token(row, login_as, ours) -> None:
    client = login_as("admin", Client(enforce_csrf_checks=True))
    row.url(ours)  # our objects exist before anyone asks
    audited = AuditEvent.objects.count()

    response = _send(client, row, ours)

    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert AuditEvent.objects.count() == audited


# -- API -----------------------------------------------------------------------------------------

API_ACTORS = ("anonymous", "revoked", "key", "other_key", "viewer", "manager", "admin", "outsider")


def _campaign_body(ours: Ours) -> dict:
    return {
        "name": "Q3 Renewal Reminders",
        "assistantId": "asst-1",
        "phoneNumberId": str(ours.caller_id.pk),
        "customers": [{"number": "+14155551234"}],
    }


def _phone_body(ours: Ours) -> dict:
    return {"number": "+14155550166", "providerAccountId": str(ours.caller_id.provider_account_id)}


WEBHOOK = {"message": {"type": "status-update", "status": "ringing"}}

# fmt: off
#                                        anonymous revoked key other_key viewer manager admin outsider
API = [
    Row("api-campaigns", "get",            (401,     401,    200, 200,      200,   200,    200,  200)),
    # Another organization naming our caller ID: refused as a bad phoneNumberId, nothing created.
    Row("api-campaigns", "post",           (401,     401,    201, 400,      403,   201,    201,  400),
        data=_campaign_body),
    Row("api-campaign", "get",             (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign", "patch",           (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign", data={"name": "Renamed"}),
    Row("api-campaign", "delete",          (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign"),
    *[Row(f"api-campaign-{action}", "post", (401,    401,    202, 404,      403,   202,    202,  404),
          on=on)
      for action, on in TRANSITIONS],
    Row("api-campaign-customers", "get",   (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-customers", "post",  (401,     401,    201, 404,      403,   201,    201,  404),
        on="campaign", data=[{"number": "+14155559999"}]),
    Row("api-campaign-calls", "get",       (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-outcomes", "get",    (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    # A scheduled campaign may still call its customers: a re-run of it is a conflict.
    Row("api-campaign-rerun", "post",      (401,     401,    409, 404,      403,   409,    409,  404),
        on="campaign", data={"who": ["failed"]}),
    Row("api-campaign-recurrence", "put",  (401,     401,    201, 404,      403,   201,    201,  404),
        on="campaign", data={"frequency": "weekly", "timeZone": "UTC", "at": "10:00", "maxRuns": 4}),
    Row("api-campaign-recurrence", "delete", (401,   401,    200, 404,      403,   200,    200,  404),
        on="series"),
    Row("api-campaign-series", "get",      (401,     401,    200, 404,      200,   200,    200,  404),
        on="series"),
    # Vapi v2: the same campaigns, v2's rules (PATCH status-only, DELETE archives).
    Row("api-v2-campaigns", "get",         (401,     401,    200, 200,      200,   200,    200,  200)),
    Row("api-v2-campaigns", "post",        (401,     401,    201, 400,      403,   201,    201,  400),
        data=_campaign_body),
    Row("api-v2-campaign", "get",          (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-v2-campaign", "patch",        (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign", data={"status": "cancelled"}),
    Row("api-v2-campaign", "delete",       (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign"),
    Row("api-v2-campaign-contacts", "get", (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-v2-campaign-unarchive", "post", (401,   401,    200, 404,      403,   200,    200,  404),
        on="archived"),
    Row("api-phone-numbers", "get",        (401,     401,    200, 200,      200,   200,    200,  200)),
    Row("api-v2-phone-numbers", "get",     (401,     401,    200, 200,      200,   200,    200,  200)),
    # Caller IDs are the admins' (caller_ids.write), as in the dashboard. Another organization
    # naming our provider account: refused, nothing created.
    Row("api-phone-numbers", "post",       (401,     401,    201, 400,      403,   403,    201,  400),
        data=_phone_body),
    Row("api-phone-number", "get",         (401,     401,    200, 404,      200,   200,    200,  404),
        on="spare_caller_id"),
    Row("api-phone-number", "patch",       (401,     401,    200, 404,      403,   403,    200,  404),
        on="spare_caller_id", data={"disabled": True}),
    Row("api-phone-number", "delete",      (401,     401,    200, 404,      403,   403,    200,  404),
        on="spare_caller_id"),
    Row("api-dnc", "get",                  (401,     401,    200, 200,      200,   200,    200,  200)),
    # Provider accounts are the admins' (providers.read/write), as in the dashboard; a key acts as
    # an admin. Another organization's key or admin reads and creates its own, never ours.
    Row("api-provider-accounts", "get",    (401,     401,    200, 200,      403,   403,    200,  200)),
    Row("api-provider-accounts", "post",   (401,     401,    201, 201,      403,   403,    201,  201),
        data={"name": "Simulated B", "kind": "simulated"}),
    Row("api-provider-account", "get",     (401,     401,    200, 404,      403,   403,    200,  404),
        on="account"),
    Row("api-provider-account", "patch",   (401,     401,    200, 404,      403,   403,    200,  404),
        on="account", data={"name": "Renamed"}),
    Row("api-provider-account-test", "post", (401,   401,    200, 404,      403,   403,    200,  404),
        on="account"),
    # Each organization's own usage: another's key reads its own, never ours.
    Row("api-organization-usage", "get",   (401,     401,    200, 200,      200,   200,    200,  200)),
    Row("api-dnc", "post",                 (401,     401,    201, 201,      403,   201,    201,  201),
        data={"number": "+14155550123"}),
    Row("api-dnc-entry", "delete",         (401,     401,    200, 404,      403,   200,    200,  404),
        on="dnc"),
    # Contact lists and segments (audiences.*), and what a campaign targets (campaigns.*).
    Row("api-contact-lists", "get",        (401,     401,    200, 200,      200,   200,    200,  200)),
    Row("api-contact-lists", "post",       (401,     401,    201, 201,      403,   201,    201,  201),
        data={"name": "Winbacks"}),
    Row("api-contact-list", "get",         (401,     401,    200, 404,      200,   200,    200,  404),
        on="contact_list"),
    Row("api-contact-list", "delete",      (401,     401,    200, 404,      403,   200,    200,  404),
        on="contact_list"),
    Row("api-contact-list-contacts", "get", (401,    401,    200, 404,      200,   200,    200,  404),
        on="contact_list"),
    Row("api-contact-list-contacts", "post", (401,   401,    201, 404,      403,   201,    201,  404),
        on="contact_list", data=[{"number": "+14155550144"}]),
    Row("api-contact-list-segments", "get", (401,    401,    200, 404,      200,   200,    200,  404),
        on="contact_list"),
    Row("api-contact-list-segments", "post", (401,   401,    201, 404,      403,   201,    201,  404),
        on="contact_list", data={"name": "Basic", "filter": "plan = basic"}),
    Row("api-segment", "get",              (401,     401,    200, 404,      200,   200,    200,  404),
        on="segment"),
    Row("api-segment", "delete",           (401,     401,    200, 404,      403,   200,    200,  404),
        on="segment"),
    Row("api-campaign-audiences", "get",   (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-audiences", "put",   (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign", data={"contactListIds": []}),
    Row("api-campaign-preflight", "get",   (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-schema", "get",      (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-schema", "put",      (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign", data={"dataSchema": None}),
    Row("api-campaign-calendar", "get",    (401,     401,    200, 404,      200,   200,    200,  404),
        on="campaign"),
    Row("api-campaign-calendar", "put",    (401,     401,    200, 404,      403,   200,    200,  404),
        on="campaign", data={"blackoutDates": ["2026-12-25"]}),
    # The organization named is the caller's own: the other key and the outsider change theirs.
    Row("api-organization-blackout", "get", (401,    401,    200, 200,      403,   403,    200,  200)),
    Row("api-organization-blackout", "put", (401,    401,    200, 200,      403,   403,    200,  200),
        data={"blackoutDates": ["2026-12-25"]}),
    Row("api-organization-region-rules", "get", (401, 401,    200, 200,      403,   403,    200,  200)),
    Row("api-organization-region-rules", "put", (401, 401,    200, 200,      403,   403,    200,  200),
        data={"regionRules": []}),
    # Public: the OpenAPI document and Swagger UI ignore credentials, even a revoked key.
    Row("api-schema", "get",               (200,     200,    200, 200,      200,   200,    200,  200)),
    Row("api-docs", "get",                 (200,     200,    200, 200,      200,   200,    200,  200)),
    # The webhook's token is its only credential: a key or a session changes nothing.
    # /webhooks/vapi/<token>, the address every account was given first, whatever its kind.
    Row("provider-webhook-legacy", "post", (404,     404,    404, 404,      404,   404,    404,  404),
        on="unknown-token", data=WEBHOOK),
    Row("provider-webhook-legacy", "get",  (405,     405,    405, 405,      405,   405,    405,  405),
        on="unknown-token"),
    # A simulated account's token: that provider sends no webhooks.
    Row("provider-webhook-legacy", "post", (404,     404,    404, 404,      404,   404,    404,  404),
        on="simulated-token", data=WEBHOOK),
    # A Vapi account's token, without the account's secret.
    Row("provider-webhook-legacy", "post", (401,     401,    401, 401,      401,   401,    401,  401),
        on="vapi-token", data=WEBHOOK),
    # /webhooks/<kind>/<token>: each account's own address.
    Row("provider-webhook", "post",        (404,     404,    404, 404,      404,   404,    404,  404),
        on="unknown-token@vapi", data=WEBHOOK),
    Row("provider-webhook", "get",         (405,     405,    405, 405,      405,   405,    405,  405),
        on="simulated-token@simulated"),
    Row("provider-webhook", "post",        (404,     404,    404, 404,      404,   404,    404,  404),
        on="simulated-token@simulated", data=WEBHOOK),
    Row("provider-webhook", "post",        (401,     401,    401, 401,      401,   401,    401,  401),
        on="vapi-token@vapi", data=WEBHOOK),
    # A token under a kind that is not its account's: no such address, as for an unknown token.
    Row("provider-webhook", "post",        (404,     404,    404, 404,      404,   404,    404,  404),
        on="vapi-token@simulated", data=WEBHOOK),
]
WEBHOOKS = ("provider-webhook", "provider-webhook-legacy")
UNKNOWN_ADDRESSES = ("unknown-token", "unknown-token@vapi", "vapi-token@simulated")
# fmt: on


@pytest.fixture
def api_as(request, org, owner, other_org, outsider) -> Callable[[str], APIClient]:
    def client_for(actor: str) -> APIClient:
        client = APIClient()
        if actor in ("revoked", "key", "other_key"):
            organization, by = (other_org, outsider) if actor == "other_key" else (org, owner)
            key, raw = services.api_key_create(organization=organization, by=by, name=actor)
            if actor == "revoked":
                services.api_key_revoke(key=key, by=owner)
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        elif actor != "anonymous":
            client.force_login(request.getfixturevalue(PERSONA[actor]))
        return client

    return client_for


def _call_api(client: APIClient, row: Row, ours: Ours, url: str):
    body = row.body(ours)
    if body is None:
        return getattr(client, row.method)(url)
    return getattr(client, row.method)(url, body, format="json")


@pytest.mark.parametrize("actor", API_ACTORS)
@pytest.mark.parametrize("row", API, ids=lambda row: row.id)
def test_the_api_answers_each_actor_as_the_matrix_says(row, actor, api_as, ours) -> None:
    expected = row.expect[API_ACTORS.index(actor)]
    client = api_as(actor)
    url = row.url(ours)
    audited = AuditEvent.objects.count()

    response = _call_api(client, row, ours, url)

    assert_status(response, expected)
    if expected in REFUSED:
        assert AuditEvent.objects.count() == audited, f"refused, yet audited: {url}"
    if row.on in UNKNOWN_ADDRESSES and expected == 404:
        assert response.json() == {"error": "unknown webhook address"}
    elif row.name in WEBHOOKS:
        if expected != 405:
            assert set(response.json()) == {"error"}  # a short reason, nothing about the account
    elif expected == 403 and actor in PERSONA:
        # A role the table refuses: Vapi's envelope, with the table's refusal for this action.
        action = action_for(resolve(url).func.cls, row.method)
        assert messages(response) == [refusal(action)]
    elif expected in REFUSED:
        assert messages(response)  # Vapi's error envelope, statusCode matching the status


API_WRITES = [row for row in API if row.method != "get" and row.name not in WEBHOOKS]


@pytest.mark.parametrize("row", API_WRITES, ids=lambda row: row.id)
def test_every_api_write_from_a_session_needs_the_csrf_token(row, owner, ours) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(owner)
    url = row.url(ours)
    audited = AuditEvent.objects.count()

    response = _call_api(client, row, ours, url)

    assert response.status_code == 403
    assert "CSRF" in messages(response)[0]
    assert AuditEvent.objects.count() == audited


@pytest.mark.parametrize("actor", ["key", "admin"])
def test_the_api_rate_limit_answers_429_in_vapis_envelope(actor, api_as, settings) -> None:
    assert api_settings.DEFAULT_THROTTLE_RATES.get("api_key"), "DRF throttling is no longer configured"
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_key": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    client = api_as(actor)

    answers = [client.get("/campaign") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    body = answers[-1].json()
    assert body["statusCode"] == 429 and body["error"] == "Too Many Requests"
    assert body["message"] and int(answers[-1]["Retry-After"]) > 0
    # The limit is per key (per user for sessions); the public documents are not limited.
    assert api_as("other_key").get("/campaign").status_code == 200
    assert client.get("/api/schema").status_code == 200


# -- Django admin --------------------------------------------------------------------------------

# Written only by the services: the admin shows them but refuses to add (403, even to a superuser).
ADMIN_READ_ONLY = {
    "campaigns.apikey",
    "campaigns.auditevent",
    "campaigns.call",
    "campaigns.calllog",
    "campaigns.campaign",
    "campaigns.campaignaudience",
    "campaigns.contactlist",
    "campaigns.customer",
    "campaigns.dialplanentry",
    "campaigns.donotcall",
    "campaigns.listcontact",
    "campaigns.segment",
}
ADMIN_ACTORS = ("anonymous", "member", "superuser")


def _admin_pages() -> Iterator[Any]:
    for model in admin.site._registry:
        label = model._meta.label_lower
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        yield pytest.param(f"{prefix}_changelist", 200, id=f"{label} changelist")
        yield pytest.param(f"{prefix}_add", 403 if label in ADMIN_READ_ONLY else 200, id=f"{label} add")


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.com", "correct horse battery")


@pytest.mark.parametrize("actor", ADMIN_ACTORS)
@pytest.mark.parametrize(("url_name", "for_superuser"), list(_admin_pages()))
def test_the_django_admin_is_for_staff_only(url_name, for_superuser, actor, client, request) -> None:
    if actor != "anonymous":
        # "member": an admin of the organization, but not staff.
        client.force_login(request.getfixturevalue("superuser" if actor == "superuser" else "owner"))

    response = client.get(reverse(url_name))

    assert_status(response, for_superuser if actor == "superuser" else ADMIN_LOGIN)


def test_the_admin_read_only_list_names_registered_models() -> None:
    registered = {model._meta.label_lower for model in admin.site._registry}
    assert registered >= ADMIN_READ_ONLY
    assert "auth.user" in registered and "campaigns.organization" in registered


@pytest.mark.parametrize("actor", ADMIN_ACTORS)
def test_the_admin_index_is_for_staff_only(actor, client, request) -> None:
    if actor != "anonymous":
        client.force_login(request.getfixturevalue("superuser" if actor == "superuser" else "owner"))

    response = client.get(reverse("admin:index"))

    assert_status(response, 200 if actor == "superuser" else ADMIN_LOGIN)


# -- every URL has a row -------------------------------------------------------------------------


def url_patterns(resolver: URLResolver | None = None, prefix: str = "", namespace: str = "") -> Iterator:
    """(route, qualified name or None, namespace, view) for every pattern the site resolves."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, (namespace, pattern.namespace)))
            yield from url_patterns(pattern, route, inner)
        else:
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield route, name, namespace, pattern.callback


def test_every_url_pattern_has_a_row() -> None:
    listed = {row.name for row in [*DASHBOARD, *API]}
    found, unlisted = set(), []
    for route, name, namespace, _ in url_patterns():
        if namespace.split(":")[0] == "admin":
            continue  # covered model by model: test_the_django_admin_is_for_staff_only
        found.add(name or route)
        if (name or route) not in listed:
            unlisted.append(f"/{route} ({name or 'unnamed'})")

    assert not unlisted, f"URLs missing from the access matrix: {unlisted}"
    assert listed <= found, f"rows for URLs that no longer exist: {listed - found}"
    assert any(namespace == "admin" for _, _, namespace, _ in url_patterns())


# -- every view names an action of the permission table ------------------------------------------

# Views the table does not govern, and why. The Django admin (staff only, across organizations)
# is governed by Django's own permissions: test_the_django_admin_is_for_staff_only.
OUTSIDE_THE_TABLE = {
    "home": "a redirect to the campaigns list",
    "admin-login-throttled": "a redirect to the throttled login",
    "login": "no one is signed in yet",
    "logout": "ends one's own session",
    "api-schema": "the public OpenAPI document",
    "api-docs": "the public Swagger UI",
    "provider-webhook": "its token is the only credential",
    "provider-webhook-legacy": "its token is the only credential",
}
# In the table before the view that performs it exists; the test below says when it arrives.
AWAITING_A_VIEW: set[Action] = set()


def declared_actions(view: Callable) -> dict[str, Action]:
    """Method -> action, for the view a URL resolves to: an API view's `needs` (every method it
    handles, checked by HasOrganization), a dashboard view's `need` (one for all its methods)."""
    cls = getattr(view, "cls", None)  # set by DRF's as_view
    if cls is None:
        return {"*": view.need}
    assert HasOrganization in cls.permission_classes, f"{cls.__name__} is not checked against the table"
    handled = [m for m in cls.http_method_names if m not in ("head", "options") and hasattr(cls, m)]
    return {method: action_for(cls, method) for method in handled}


def test_every_view_names_an_action_of_the_permission_table() -> None:
    problems, checked = [], 0
    for route, name, namespace, view in url_patterns():
        if namespace.split(":")[0] == "admin" or name in OUTSIDE_THE_TABLE:
            continue
        try:
            actions = declared_actions(view)
        except (AttributeError, ImproperlyConfigured, AssertionError) as exc:
            problems.append(f"/{route} ({name}): {exc}")
            continue
        checked += 1
        problems += [f"/{route} ({name}) {m}: {a!r}" for m, a in actions.items() if a not in TABLE]

    assert not problems, f"views without an action of the permission table: {problems}"
    # The walk saw every view of the matrix (each URL name is one view).
    assert checked == len({row.name for row in [*DASHBOARD, *API]} - set(OUTSIDE_THE_TABLE))


# The matrix's columns that stand for a role of the table (a key counts as an admin).
ROLE_OF = {"viewer": Role.VIEWER, "manager": Role.MANAGER, "admin": Role.ADMIN, "key": ApiKey()}


@pytest.mark.parametrize(
    "row", [r for r in [*DASHBOARD, *API] if r.name not in OUTSIDE_THE_TABLE], ids=lambda row: row.id
)
def test_the_matrix_refuses_exactly_whom_the_table_refuses(row) -> None:
    view = {name: view for _, name, _, view in url_patterns()}[row.name]
    actions = declared_actions(view)
    action = actions.get(row.method, actions.get("*"))
    actors = DASHBOARD_ACTORS if row in DASHBOARD else API_ACTORS

    for actor, who in ROLE_OF.items():
        if actor in actors:
            refused = row.expect[actors.index(actor)] == 403
            assert refused == (not allowed(who, action)), f"{row.id}: {actor} and {action} disagree"


def test_every_action_of_the_permission_table_is_named_by_a_view() -> None:
    named = {
        action
        for _, name, namespace, view in url_patterns()
        if namespace.split(":")[0] != "admin" and name not in OUTSIDE_THE_TABLE
        for action in declared_actions(view).values()
    }

    assert set(TABLE) == set(Action)
    assert set(Action) - named == AWAITING_A_VIEW, "update AWAITING_A_VIEW: a view arrived, or a row is dead"


# -- the login throttle --------------------------------------------------------------------------


def _sign_in(client: Client, username: str, password: str, addr: str):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=addr)


def _fail(client: Client, username: str, times: int, *, addr: str | None = None) -> None:
    """`times` wrong passwords for `username`, from `addr` or each from an address of its own."""
    for i in range(times):
        response = _sign_in(client, username, "wrong", addr or f"10.1.{i // 250}.{i % 250 + 1}")
        assert response.status_code == 200


def _signed_in(client: Client) -> bool:
    return client.get(reverse("campaigns:list")).status_code == 200


def test_past_the_limit_a_username_is_refused_even_with_the_right_password(
    client, owner, manager, settings
) -> None:
    _fail(client, "olivia", settings.LOGIN_FAILURE_LIMIT)

    refused = _sign_in(client, "olivia", "correct horse battery", "10.2.0.1")

    assert refused.status_code == 429
    assert THROTTLED in refused.content.decode()
    assert not _signed_in(client)
    # Someone else, from another address, is not held up.
    assert _sign_in(client, "manny", "correct horse battery", "10.2.0.2").status_code == 302
    assert _signed_in(client)


def test_past_the_limit_an_address_is_refused_for_every_username(client, owner, manager, settings) -> None:
    for i in range(settings.LOGIN_ADDRESS_FAILURE_LIMIT):
        assert _sign_in(client, f"guess{i}", "wrong", "10.3.0.1").status_code == 200

    refused = _sign_in(client, "manny", "correct horse battery", "10.3.0.1")

    assert refused.status_code == 429
    assert THROTTLED in refused.content.decode()
    assert _sign_in(client, "manny", "correct horse battery", "10.3.0.2").status_code == 302


def test_one_attempt_short_of_the_limit_still_signs_in(client, owner, settings) -> None:
    _fail(client, "olivia", settings.LOGIN_FAILURE_LIMIT - 1, addr="10.4.0.1")

    assert _sign_in(client, "olivia", "correct horse battery", "10.4.0.1").status_code == 302


def test_a_successful_login_clears_the_usernames_count(client, owner, settings) -> None:
    limit = settings.LOGIN_FAILURE_LIMIT
    assert limit >= 2, "with a limit of 1 there is nothing left to clear"
    _fail(client, "olivia", limit - 1)
    assert _sign_in(client, "olivia", "correct horse battery", "10.5.0.1").status_code == 302
    client.logout()

    _fail(client, "olivia", limit - 1)  # 2 × (limit - 1) ≥ limit, had the first ones stayed

    assert _sign_in(client, "olivia", "correct horse battery", "10.5.0.2").status_code == 302


def test_the_login_never_sends_people_off_site(client, owner) -> None:
    url = reverse("login") + "?next=https://evil.example/"

    response = client.post(url, {"username": "olivia", "password": "correct horse battery"})

    assert response.status_code == 302
    assert response["Location"] == reverse("campaigns:list")
