"""Who may do what: the one permission table of the REST API and the dashboard.

Every API view declares the action each of its methods performs (`ApiView.needs`), every
dashboard view names its action (`dashboard_view(need=...)`), and both ask `allowed`.
Templates ask the same table through `request.can` (``{% if request.can.caller_ids.write %}``,
set by `dashboard_view`), so what a page offers and what the server accepts never disagree.
tests/hardening/test_access_matrix.py fails when a view names no action, names one the
table lacks, or when the table has an action no view names.

API keys act as their organization at the admin level. Only admins create keys
(`api_keys.write`), so a key never does more than the person who made it could, and the
API offers nothing a key must be kept from: keys and members are not reachable through it, and
provider accounts' credentials are write-only there (never returned). A key belongs to the
organization, not to its creator, and keeps working when that person is demoted or leaves:
revoke it then.

The Django admin is outside this table: it is for staff and superusers, across
organizations, and Django's own model permissions govern it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from campaigns.models import ApiKey, Role


class Action(StrEnum):
    """Everything the API and the dashboard let someone do, as ``<area>.<verb>``."""

    CAMPAIGNS_READ = "campaigns.read"  # campaigns, their customers, calls, call logs, CSV export
    CAMPAIGNS_WRITE = "campaigns.write"  # create, edit, start/pause/resume/end, delete, add customers
    DNC_READ = "dnc.read"
    DNC_WRITE = "dnc.write"  # add, import, remove numbers
    AUDIENCES_READ = "audiences.read"  # contact lists, their contacts and segments
    AUDIENCES_WRITE = "audiences.write"  # create, import into and delete lists; create and delete segments
    CALLER_IDS_READ = "caller_ids.read"
    CALLER_IDS_WRITE = "caller_ids.write"  # register and retire caller IDs
    PROVIDERS_READ = "providers.read"  # provider accounts and their webhook addresses
    PROVIDERS_WRITE = "providers.write"
    API_KEYS_READ = "api_keys.read"
    API_KEYS_WRITE = "api_keys.write"  # create and revoke
    MEMBERS_READ = "members.read"
    MEMBERS_WRITE = "members.write"  # create accounts, change roles
    # The organization's compliance settings (services.organization_update): the page and its form.
    ORGANIZATION_SETTINGS = "organization.settings"
    # The organization-wide stop is a safety brake: a manager may pull it in an emergency without
    # waiting for an admin. Lifting it decides that calling is lawful again: an admin's decision.
    ORGANIZATION_PAUSE = "organization.pause"
    ORGANIZATION_RESUME = "organization.resume"
    # Usage this billing period and the quota (GET /organization/usage): every member may read it.
    ORGANIZATION_USAGE = "organization.usage"
    # Which of one's own organizations the session shows: a preference, it changes no data.
    ORGANIZATION_SWITCH = "organization.switch"


class UnknownAction(LookupError):
    """An action the table does not have. Deliberately not a KeyError: a template asking
    ``request.can.caler_ids.write`` fails loudly instead of silently hiding a button."""


@dataclass(frozen=True)
class Rule:
    roles: frozenset[Role]
    refusal: str = ""  # what the refused are told (an API 403's message, the dashboard's page)


EVERYONE = frozenset(Role)
MANAGERS = frozenset({Role.ADMIN, Role.MANAGER})
ADMINS = frozenset({Role.ADMIN})
API_KEY_ROLE = Role.ADMIN  # see the module docstring

VIEWERS_REFUSED = "Viewers can read but not change anything. Ask an admin for the manager role."

TABLE: Mapping[Action, Rule] = MappingProxyType(
    {
        Action.CAMPAIGNS_READ: Rule(EVERYONE),
        Action.CAMPAIGNS_WRITE: Rule(MANAGERS, VIEWERS_REFUSED),
        Action.DNC_READ: Rule(EVERYONE),
        Action.DNC_WRITE: Rule(MANAGERS, VIEWERS_REFUSED),
        Action.AUDIENCES_READ: Rule(EVERYONE),
        Action.AUDIENCES_WRITE: Rule(MANAGERS, VIEWERS_REFUSED),
        Action.CALLER_IDS_READ: Rule(EVERYONE),
        Action.CALLER_IDS_WRITE: Rule(ADMINS, "Only the organization's admins can add or remove caller IDs."),
        Action.PROVIDERS_READ: Rule(ADMINS, "Only the organization's admins can see provider accounts."),
        Action.PROVIDERS_WRITE: Rule(ADMINS, "Only the organization's admins can add provider accounts."),
        Action.API_KEYS_READ: Rule(ADMINS, "Only the organization's admins can see API keys."),
        Action.API_KEYS_WRITE: Rule(ADMINS, "Only the organization's admins can create or revoke API keys."),
        Action.MEMBERS_READ: Rule(ADMINS, "Only the organization's admins can see the members."),
        Action.MEMBERS_WRITE: Rule(ADMINS, "Only the organization's admins can add members or change roles."),
        Action.ORGANIZATION_SETTINGS: Rule(
            ADMINS, "Only the organization's admins can change the organization's settings."
        ),
        Action.ORGANIZATION_PAUSE: Rule(
            MANAGERS, "Viewers cannot stop dialing. Ask a manager or an admin to pause all dialing."
        ),
        Action.ORGANIZATION_RESUME: Rule(
            ADMINS, "Only the organization's admins can resume dialing after an organization-wide pause."
        ),
        Action.ORGANIZATION_USAGE: Rule(EVERYONE),
        Action.ORGANIZATION_SWITCH: Rule(EVERYONE),
    }
)


def rule(action: Action | str) -> Rule:
    """The table's row for `action`; raises UnknownAction for a name it does not have."""
    try:
        return TABLE[Action(action)]
    except ValueError:
        raise UnknownAction(action) from None


def allowed(who: Role | str | ApiKey, action: Action | str) -> bool:
    """Whether a member of this role (or an API key, see the module docstring) may do `action`."""
    role = API_KEY_ROLE if isinstance(who, ApiKey) else Role(who)
    return role in rule(action).roles


def refusal(action: Action | str) -> str:
    """What someone refused `action` is told."""
    return rule(action).refusal


class Can:
    """The table for one role, as templates read it: ``request.can.campaigns.write``."""

    def __init__(self, who: Role | str | ApiKey) -> None:
        self._who = who

    def __getitem__(self, area: str) -> _Area:
        if not any(action.startswith(f"{area}.") for action in Action):
            raise UnknownAction(area)
        return _Area(self._who, area)


class _Area:
    def __init__(self, who: Role | str | ApiKey, area: str) -> None:
        self._who, self._area = who, area

    def __getitem__(self, verb: str) -> bool:
        return allowed(self._who, f"{self._area}.{verb}")
