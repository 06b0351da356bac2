"""The permission table (campaigns/permissions.py): the policy it states, and pages that offer
exactly what it allows.

- POLICY is the product's rule written out by hand: a change to the table must change it too.
- Pages: every link and form a member is shown leads to a view the table lets their role use,
  and the write controls each role may use are really there.
The access matrix (test_access_matrix.py) checks what the server answers; this file checks the
table itself and what the pages show.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template
from django.test import Client
from django.urls import Resolver404, resolve, reverse
from rest_framework.response import Response

from campaigns import services
from campaigns.api.auth import action_for
from campaigns.api.views.base import ApiView
from campaigns.models import ApiKey, Role
from campaigns.permissions import TABLE, Action, Can, UnknownAction, allowed, refusal
from tests.conftest import _member

# fmt: off
#                                  admin  manager viewer API key
POLICY = {
    Action.CAMPAIGNS_READ:         (True,  True,   True,  True),
    Action.CAMPAIGNS_WRITE:        (True,  True,   False, True),
    Action.DNC_READ:               (True,  True,   True,  True),
    Action.DNC_WRITE:              (True,  True,   False, True),
    Action.AUDIENCES_READ:         (True,  True,   True,  True),
    Action.AUDIENCES_WRITE:        (True,  True,   False, True),
    Action.CALLER_IDS_READ:        (True,  True,   True,  True),
    Action.CALLER_IDS_WRITE:       (True,  False,  False, True),
    Action.PROVIDERS_READ:         (True,  False,  False, True),
    Action.PROVIDERS_WRITE:        (True,  False,  False, True),
    Action.API_KEYS_READ:          (True,  False,  False, True),
    Action.API_KEYS_WRITE:         (True,  False,  False, True),
    Action.MEMBERS_READ:           (True,  False,  False, True),
    Action.MEMBERS_WRITE:          (True,  False,  False, True),
    Action.ORGANIZATION_SETTINGS:  (True,  False,  False, True),
    Action.ORGANIZATION_PAUSE:     (True,  True,   False, True),
    Action.ORGANIZATION_RESUME:    (True,  False,  False, True),
    Action.ORGANIZATION_SWITCH:    (True,  True,   True,  True),
    Action.ORGANIZATION_USAGE:     (True,  True,   True,  True),
}
# fmt: on
WHO = (Role.ADMIN, Role.MANAGER, Role.VIEWER, ApiKey())


@pytest.mark.parametrize("action", list(Action))
def test_the_table_allows_each_role_what_the_policy_says(action) -> None:
    assert tuple(allowed(who, action) for who in WHO) == POLICY[action]


def test_the_table_and_the_policy_name_the_same_actions() -> None:
    assert set(TABLE) == set(POLICY) == set(Action)


@pytest.mark.parametrize("action", [a for a in Action if not all(POLICY[a])])
def test_everyone_refused_is_told_why(action) -> None:
    assert refusal(action).endswith(".") and len(refusal(action)) > 20


def test_managers_are_told_that_caller_ids_are_the_admins() -> None:
    assert refusal(Action.CALLER_IDS_WRITE) == "Only the organization's admins can add or remove caller IDs."


def test_roles_are_read_from_their_stored_values_too() -> None:
    assert allowed("manager", "dnc.write") and not allowed("manager", "caller_ids.write")


def test_an_unknown_action_is_an_error_not_a_refusal() -> None:
    with pytest.raises(UnknownAction):
        allowed(Role.ADMIN, "caller_ids.wirte")
    with pytest.raises(UnknownAction):
        Can(Role.ADMIN)["callerids"]
    with pytest.raises(ValueError):
        allowed("owner", Action.CAMPAIGNS_READ)  # not a role


def test_a_template_naming_an_unknown_action_fails_loudly() -> None:
    class Request:
        can = Can(Role.ADMIN)

    shown = Template("{% if request.can.caller_ids.write %}Remove{% endif %}")
    misspelt = Template("{% if request.can.caller_ids.wirte %}Remove{% endif %}")

    assert shown.render(Context({"request": Request()})) == "Remove"
    with pytest.raises(UnknownAction):
        misspelt.render(Context({"request": Request()}))


def test_every_action_a_template_asks_is_in_the_table() -> None:
    asked = {
        f"{area}.{verb}"
        for folder in settings.TEMPLATES[0]["DIRS"]
        for path in Path(folder).rglob("*.html")
        for area, verb in re.findall(r"\bcan\.(\w+)\.(\w+)", path.read_text())
    }

    assert asked, "no template asks the table: the pattern above is stale"
    assert asked <= set(Action), asked - set(Action)
    # No role condition bypasses the table.
    for folder in settings.TEMPLATES[0]["DIRS"]:
        for path in Path(folder).rglob("*.html"):
            assert not re.search(r"is_admin|can_manage|membership\.role", path.read_text()), path


class Undeclared(ApiView):
    def get(self, request):
        return Response({})

    def post(self, request):
        return Response({}, status=201)


class Declared(Undeclared):
    needs = {"get": Action.CAMPAIGNS_READ, "post": Action.CAMPAIGNS_WRITE}


def test_an_api_method_without_an_action_is_a_bug_not_a_guess() -> None:
    with pytest.raises(ImproperlyConfigured, match="Undeclared.needs names no action for post"):
        action_for(Undeclared, "POST")


def test_head_is_gets_options_and_unhandled_methods_are_drfs() -> None:
    assert action_for(Declared, "HEAD") == Action.CAMPAIGNS_READ
    assert action_for(Declared, "POST") == Action.CAMPAIGNS_WRITE
    assert action_for(Declared, "OPTIONS") is None  # DRF describes the view; no data
    assert action_for(Declared, "DELETE") is None  # DRF answers 405


# -- pages offer what the table allows -----------------------------------------------------------

LINKS = re.compile(r'\b(?:href|action|hx-get|hx-post)="([^"]+)"')


@pytest.fixture
def site(org, owner, caller_id, make_campaign) -> dict[str, str]:
    """A page of every kind, each with something to act on; name -> URL."""
    strategy = {"respect_recipient_time_zone": False, "auto_start": False}
    scheduled = make_campaign(3, name="Renewals", strategy=strategy)
    paused = services.campaign_pause(
        campaign=services.campaign_start(
            campaign=make_campaign(3, name="Paused", strategy=strategy), by=owner
        ),
        by=owner,
    )
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550188", "asked")])
    services.api_key_create(organization=org, by=owner, name="CRM sync")
    _member(org, "tina", Role.VIEWER)
    pages = {
        "list": reverse("campaigns:list"),
        "create": reverse("campaigns:create"),
        "do-not-call": reverse("campaigns:do-not-call"),
        "caller-ids": reverse("campaigns:caller-ids"),
        "providers": reverse("campaigns:providers"),
        "api-keys": reverse("campaigns:api-keys"),
        "members": reverse("campaigns:members"),
    }
    for campaign in (scheduled, paused):
        for page in ("detail", "customers", "calls"):
            pages[f"{page} {campaign.status}"] = reverse(f"campaigns:{page}", args=[campaign.pk])
    pages["edit"] = reverse("campaigns:edit", args=[paused.pk])
    return pages


def offered(content: str) -> set[tuple[str, Action]]:
    """The dashboard views a page links or posts to, with the action each performs."""
    found = set()
    for target in LINKS.findall(content):
        path = urlsplit(target).path
        if not path.startswith("/") or path.startswith(settings.STATIC_URL):
            continue
        try:
            match = resolve(path)
        except Resolver404:
            continue
        need = getattr(match.func, "need", None)
        if need is not None:
            found.add((match.view_name, need))
    return found


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER, Role.VIEWER])
def test_every_link_and_form_a_page_shows_leads_where_the_role_may_go(role, site, org, owner) -> None:
    user = owner if role == Role.ADMIN else _member(org, f"a-{role}", role)
    client = Client()
    client.force_login(user)
    shown: set[tuple[str, Action]] = set()

    for url in site.values():
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        shown |= offered(response.content.decode())

    refused = sorted(f"{name} ({action})" for name, action in shown if not allowed(role, action))
    assert not refused, f"a {role} is shown what the table refuses them: {refused}"
    # And the controls the role may use are there (the check above is not vacuous).
    may = {name for name, action in shown}
    writes = {
        Role.ADMIN: {
            "campaigns:create",
            "campaigns:start",
            "campaigns:resume",
            "campaigns:end",
            "campaigns:edit",
            "campaigns:do-not-call-add",
            "campaigns:do-not-call-remove",
            "campaigns:caller-id-add",
            "campaigns:caller-id-remove",
            "campaigns:provider-add",
            "campaigns:api-key-add",
            "campaigns:api-key-revoke",
            "campaigns:member-add",
            "campaigns:member-role",
        },
        Role.MANAGER: {
            "campaigns:create",
            "campaigns:start",
            "campaigns:resume",
            "campaigns:end",
            "campaigns:edit",
            "campaigns:do-not-call-add",
            "campaigns:do-not-call-remove",
        },
        Role.VIEWER: set(),
    }[role]
    assert writes <= may, writes - may
    assert {"campaigns:list", "campaigns:do-not-call", "campaigns:caller-ids"} <= may


def test_a_manager_sees_the_caller_ids_but_no_control_to_change_them(site, org, caller_id) -> None:
    client = Client()
    client.force_login(_member(org, "manny", Role.MANAGER))

    page = client.get(site["caller-ids"]).content.decode()

    assert caller_id.number in page
    assert reverse("campaigns:caller-id-add") not in page
    assert "/remove" not in page
