"""Provider URLs may not point into our own network (server-side request forgery): campaigns.egress
refuses private, loopback and link-local targets unless PROVIDER_ALLOWED_HOSTS allows them, when an
account is created (service, dashboard) and again at request time (tests/dialer/test_vapi_provider)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from campaigns import egress, services
from campaigns.models import ProviderAccount
from tests.dashboard.conftest import as_owner  # noqa: F401  (a client logged in as the owner)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def nothing_allowed(settings):
    """Whatever the suite allows for its fake providers, these tests start from an empty list."""
    settings.PROVIDER_ALLOWED_HOSTS = []


class Resolver:
    """The system resolver, except for names of our choosing (each lookup of those is counted)."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.lookups: list[str] = []
        self.real = socket.getaddrinfo

    def __setitem__(self, name: str, addresses: list[str]) -> None:
        self.names[name] = addresses

    def getaddrinfo(self, host, port, *args, **kwargs):
        if host not in self.names:
            return self.real(host, port, *args, **kwargs)
        self.lookups.append(host)
        family = {True: socket.AF_INET6, False: socket.AF_INET}
        return [(family[":" in a], socket.SOCK_STREAM, 6, "", (a, port)) for a in self.names[host]]


@pytest.fixture
def dns(monkeypatch) -> Resolver:
    resolver = Resolver()
    monkeypatch.setattr(socket, "getaddrinfo", resolver.getaddrinfo)
    return resolver


def refusal(url: str) -> str:
    with pytest.raises(egress.ProviderUrlRefused) as refused:
        egress.check_provider_url(url)
    return refused.value.reason


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://127.0.0.1:8000", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://localhost:6379", "localhost resolves to 127.0.0.1, which is a loopback address"),
        ("localhost:6379", "must start with https:// or http://"),
        ("ftp://8.8.8.8", "must start with https:// or http://"),
        ("http://10.1.2.3", "10.1.2.3 is a private address"),
        ("http://192.168.0.10:8080", "192.168.0.10 is a private address"),
        ("http://100.64.0.1", "100.64.0.1 is not a globally routable address"),
        ("http://0.0.0.0", "0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1", "224.0.0.1 is a multicast address"),
        ("http://240.0.0.1", "240.0.0.1 is a private address"),  # reserved, and listed private
        ("http://[::1]:8000", "::1 is a loopback address"),
        ("http://[fe80::1]", "fe80::1 is a link-local address"),
        ("http://[fd00:ec2::254]", "fd00:ec2::254 is a private address"),
        ("http://[::ffff:169.254.169.254]", "(169.254.169.254) is a link-local address"),
        ("http://[2002:7f00:1::]", "is a loopback address (6to4)"),
        ("http://[64:ff9b::a00:1]", "(10.0.0.1) is a private address"),
        ("http://2130706433", "2130706433 resolves to 127.0.0.1, which is a loopback address"),
        ("http://0x7f.1", "resolves to 127.0.0.1"),
        ("https://user:pass@api.vapi.ai", "must not contain a user name or password"),
        ("http://api.vapi.ai\\@127.0.0.1", "must not contain a user name or password"),
        ("http://127.0.0.1 /call", "must not contain spaces or control characters"),
        ("http://exämple.com", "must name its host in ASCII letters, digits, dots and dashes"),
        ("http://8.8.8.8:0", "has an invalid port"),
        ("http://8.8.8.8:70000", "has an invalid port"),
        ("http:///call", "names no host"),
        ("http://[::1/call", "is not a valid URL"),
        ("http://[vapi.ai]/call", "is not a valid URL"),
    ],
)
def test_it_refuses_targets_inside_our_network_and_urls_that_are_not_plain_http(url, reason) -> None:
    assert reason in refusal(url)


@pytest.mark.parametrize("url", ["http://8.8.8.8", "https://8.8.8.8:8443/v1", "https://[2606:4700::1111]"])
def test_public_addresses_pass(url) -> None:
    egress.check_provider_url(url)


def test_a_name_passes_only_if_every_address_it_resolves_to_is_public(dns) -> None:
    dns["api.example.test"] = ["93.184.216.34", "2606:2800:220:1::1"]
    egress.check_provider_url("https://api.example.test")

    dns["api.example.test"] = ["93.184.216.34", "10.0.0.7"]  # one private among public ones
    assert refusal("https://api.example.test").startswith(
        "api.example.test resolves to 10.0.0.7, which is a private address: "
        "a provider must be on the public internet"
    )
    dns["api.example.test"] = ["::ffff:127.0.0.1"]  # IPv4-mapped IPv6
    assert "(127.0.0.1), which is a loopback address" in refusal("https://api.example.test")


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(egress.ProviderUrlUnresolvable) as refused:
        egress.check_provider_url("https://vapi.nowhere.invalid/v1")
    assert refused.value.reason == "vapi.nowhere.invalid does not resolve"
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    "allowed, url, passes",
    [
        (["127.0.0.1:8123"], "http://127.0.0.1:8123", True),
        (["127.0.0.1:8123"], "http://127.0.0.1:8124", False),  # only that port
        (["127.0.0.1"], "http://127.0.0.1:6379", True),  # any port
        (["localhost"], "http://LOCALHOST.:6379/x", True),  # a name, case and trailing dot aside
        (["localhost:8123"], "http://localhost:6379", False),
        (["[::1]:8123"], "http://[::1]:8123", True),
        (["::1"], "http://[::1]:9", True),
        (["127.0.0.1"], "http://[::ffff:127.0.0.1]:80", True),  # the IPv4 address it maps
        (["10.0.0.0/8"], "http://10.200.0.1", True),
        (["10.0.0.0/8"], "http://192.168.0.1", False),
        (["127.0.0.1:80"], "http://127.0.0.1/", True),  # the scheme's port
        (["127.0.0.1:443"], "http://127.0.0.1/", False),
        (["vapi.internal"], "https://vapi.internal", True),  # allowed by name: never looked up
    ],
)
def test_the_allow_list_lets_exactly_its_hosts_through(settings, allowed, url, passes) -> None:
    settings.PROVIDER_ALLOWED_HOSTS = allowed
    if passes:
        egress.check_provider_url(url)
    else:
        assert "loopback" in refusal(url) or "private" in refusal(url)


def test_an_allowed_network_covers_names_resolving_into_it_and_nothing_else(settings, dns) -> None:
    settings.PROVIDER_ALLOWED_HOSTS = ["10.0.0.0/8"]
    dns["vapi.corp.test"] = ["10.4.0.2"]
    egress.check_provider_url("https://vapi.corp.test")
    dns["vapi.corp.test"] = ["10.4.0.2", "127.0.0.1"]
    assert "127.0.0.1, which is a loopback address" in refusal("https://vapi.corp.test")


@pytest.mark.parametrize(
    "entry",
    ["10.0.0.1/8", "10.0.0.0/33", "host:99999", "host:", "[::1", "[::1]x", "a..b", "-a", "http://x", "*"],
)
def test_a_malformed_allow_list_entry_is_refused_naming_the_variable(entry) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^PROVIDER_ALLOWED_HOSTS: .*is not a host name"):
        egress.allowed_hosts(["localhost", entry])


def test_the_allow_list_syntax_of_the_documentation_is_accepted() -> None:
    documented = "localhost, vapi.internal:8443, 127.0.0.1:8123, [::1]:8123, ::1, 10.0.0.0/8, fd00::/8"
    entries = documented.split(", ")
    assert len(egress.allowed_hosts(entries)) == 7


def test_dialdeck_does_not_start_with_a_malformed_allow_list() -> None:
    env = {**os.environ, "PROVIDER_ALLOWED_HOSTS": "127.0.0.1:8123,10.0.0.0/33"}
    env.pop("DATABASE_URL", None)
    started = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode != 0
    assert "PROVIDER_ALLOWED_HOSTS: '10.0.0.0/33' is not a host name" in started.stderr


def test_a_decision_is_reused_for_max_age_seconds_then_taken_again(dns) -> None:
    url = "https://cached.example.test/call"
    dns["cached.example.test"] = ["93.184.216.34"]
    for _ in range(3):
        egress.check_provider_url(url, max_age=0.3)
    assert dns.lookups == ["cached.example.test"]  # a batch of requests: one lookup

    dns["cached.example.test"] = ["169.254.169.254"]  # rebound: seen once the decision expires
    time.sleep(0.35)
    with pytest.raises(egress.ProviderUrlRefused):
        egress.check_provider_url(url, max_age=0.3)
    assert "link-local" in refusal(url)  # and every time when no reuse is asked for
    assert len(dns.lookups) == 3


# -- where accounts are created -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "base_url, reason",
    [
        ("http://127.0.0.1:6379", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254", "169.254.169.254 is a link-local address"),
        ("https://vapi.nowhere.invalid", "vapi.nowhere.invalid does not resolve"),
    ],
)
def test_the_service_refuses_such_a_base_url_and_saves_nothing(org, base_url, reason) -> None:
    with pytest.raises(services.ValidationFailed) as refused:
        services.provider_account_create(
            organization=org, by=None, name="Evil", kind="vapi", base_url=base_url
        )
    [error] = refused.value.errors
    assert error.field == "base_url" and error.message.startswith(reason)
    assert not ProviderAccount.objects.exists()


@pytest.mark.django_db
def test_the_service_accepts_an_allowed_on_premise_provider(org, settings) -> None:
    settings.PROVIDER_ALLOWED_HOSTS = ["10.0.0.0/8"]
    account = services.provider_account_create(
        organization=org, by=None, name="On premise", kind="vapi", base_url="http://10.1.2.3:8080"
    )
    assert account.base_url == "http://10.1.2.3:8080"


@pytest.mark.django_db
def test_the_dashboard_shows_the_refusal_next_to_the_base_url(as_owner, org) -> None:  # noqa: F811
    data = {"name": "Metadata", "kind": "vapi", "base_url": "http://169.254.169.254", "api_key": "k"}
    data |= {f"mix_{k}": "1" for k in ("answered", "noAnswer", "busy", "voicemail", "failed", "optOut")}

    response = as_owner.post(reverse("campaigns:provider-add"), data)

    content = response.content.decode()
    assert response.status_code == 422 and 'id="id_base_url_error"' in content
    assert "169.254.169.254 is a link-local address" in content
    assert not ProviderAccount.objects.exists()
