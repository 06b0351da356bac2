"""Personas and factories shared by every test.

- `org`, `owner` (admin of org), `manager` (teammate who runs campaigns), `viewer` (read only);
- `other_org`, `outsider` (admin of another organization: must never see ours);
- `make_campaign(...)` builds campaigns through the real services.
"""

from __future__ import annotations

import os

os.environ.setdefault("SIMULATED_TIME_SCALE", "0.02")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from campaigns import services  # noqa: E402
from campaigns.models import Membership, Organization, PhoneNumber, ProviderAccount, Role  # noqa: E402
from tests.support import Processes, isolate_celery  # noqa: E402

# Each pytest process gets its own queue (and broker folder), so the real Celery workers
# started by tests never take another process's tasks.
_RUN = isolate_celery()


@pytest.fixture(autouse=True)
def fake_providers_allowed(settings):
    """The fake providers listen on 127.0.0.1, which real deployments may not send to (campaigns.egress);
    api.vapi.ai stands for a public provider in pages that create an account (no DNS here)."""
    settings.PROVIDER_ALLOWED_HOSTS = ["127.0.0.1", "api.vapi.ai"]


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The personas' passwords are hashed in every test; the real hasher costs ~0.3 s each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str):
    return get_user_model().objects.create_user(username, f"{username}@example.com", "correct horse battery")


@pytest.fixture
def org(db) -> Organization:
    """Acme's admin lets campaigns turn off callee-local hours, so tests can dial at any hour
    (`dialingStrategy.respectRecipientTimeZone: false`); `other_org` keeps every default."""
    return Organization.objects.create(name="Acme Outbound", slug="acme", allow_ignoring_recipient_time=True)


@pytest.fixture
def other_org(db) -> Organization:
    return Organization.objects.create(name="Globex", slug="globex")


def _member(org: Organization, username: str, role: str):
    user = _user(username)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


@pytest.fixture
def owner(org):
    return _member(org, "olivia", Role.ADMIN)


@pytest.fixture
def manager(org):
    return _member(org, "manny", Role.MANAGER)


@pytest.fixture
def viewer(org):
    return _member(org, "vera", Role.VIEWER)


@pytest.fixture
def outsider(other_org):
    return _member(other_org, "oscar", Role.ADMIN)


@pytest.fixture
def provider(org) -> ProviderAccount:
    return ProviderAccount.objects.create(
        organization=org, name="Simulated", kind="simulated", settings={"seed": 3}
    )


@pytest.fixture
def caller_id(org, provider) -> PhoneNumber:
    return PhoneNumber.objects.create(organization=org, provider_account=provider, number="+14155550100")


@pytest.fixture
def second_caller_id(org, provider) -> PhoneNumber:
    return PhoneNumber.objects.create(organization=org, provider_account=provider, number="+14155550111")


@pytest.fixture
def other_caller_id(other_org) -> PhoneNumber:
    account = ProviderAccount.objects.create(organization=other_org, name="Theirs", kind="simulated")
    return PhoneNumber.objects.create(organization=other_org, provider_account=account, number="+14155550199")


def customers(count: int, *, start: int = 0, area: str = "415") -> list[services.CustomerInput]:
    """`count` distinct US customers, numbered from `start`."""
    return [
        services.CustomerInput(
            number=f"+1{area}555{i:04d}", name=f"Customer {i}", source=f"customers.{i - start}"
        )
        for i in range(start, start + count)
    ]


@pytest.fixture
def make_campaign(org, owner, caller_id):
    """Build a campaign through services.campaign_create; keyword overrides go to CampaignInput."""

    def make(count: int = 3, *, strategy: dict | None = None, **overrides):
        data = services.CampaignInput(
            name=overrides.pop("name", "Renewals"),
            assistant_id=overrides.pop("assistant_id", "asst-1"),
            phone_number_id=str(caller_id.pk),
            customers=overrides.pop("customers", None) or customers(count),
            strategy=strategy,
            **overrides,
        )
        return services.campaign_create(organization=org, by=owner, data=data)

    return make


@pytest.fixture
def celery_processes(transactional_db, tmp_path):
    """Start real Celery processes for a test against the test database; stopped at teardown."""
    processes = Processes(tmp_path, run_id=_RUN)
    yield processes
    processes.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    """A failed test that ran real Celery processes shows the end of their logs."""
    outcome = yield
    report = outcome.get_result()
    processes = getattr(item, "funcargs", {}).get("celery_processes")
    if report.failed and call.when == "call" and processes is not None:
        report.sections.append(("Celery worker and beat logs (last 4,000 characters each)", processes.logs()))
