"""The login throttle holds across real web processes, and one client does not lock out its proxy.

Three real gunicorn servers share the test database (and so the cache table in it): two behind
"our proxy" (TRUSTED_PROXIES=127.0.0.1, so X-Forwarded-For says who the client is) and one
facing clients directly (no trusted proxies, X-Forwarded-For ignored). Limits are small so the
tests stay fast: 4 failures per username, 8 per address.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2SHA1PasswordHasher, make_password
from django.core.cache import cache

from campaigns.clientaddr import UNKNOWN, address_block, client_address_from
from campaigns.login import THROTTLED
from tests.support import process_env, wait_for
from tests.test_settings import start_with

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"
LIMIT = 4  # LOGIN_FAILURE_LIMIT of the servers
ADDRESS_LIMIT = 8  # LOGIN_ADDRESS_FAILURE_LIMIT of the servers
PASSWORD = "correct horse battery"


# -- the client address, a table ------------------------------------------------------------------

OURS = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("remote_addr", "forwarded_for", "client"),
    [
        # Not from our proxy: X-Forwarded-For is whatever the client wrote.
        ("203.0.113.7", "1.2.3.4", "203.0.113.7"),
        ("2001:db8::5", "203.0.113.7", "2001:db8::5"),
        # From our proxy: the right-most address that is not ours.
        ("10.0.0.2", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.2", "1.2.3.4, 203.0.113.7", "203.0.113.7"),  # the client prepended 1.2.3.4
        ("10.0.0.2", "1.2.3.4,203.0.113.7", "203.0.113.7"),  # two headers, joined by gunicorn
        ("10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # through two of ours
        ("10.0.0.2", "", "10.0.0.2"),  # the proxy's own request
        ("10.0.0.2", "10.0.0.5, 10.0.0.9", "10.0.0.5"),  # from inside, every hop ours
        # An entry that is no address ends the walk at the last hop of ours.
        ("10.0.0.2", "203.0.113.7, unknown, 10.0.0.9", "10.0.0.9"),
        ("10.0.0.2", "203.0.113.7, garbage", "10.0.0.2"),
        # Spellings proxies use: ports, brackets, IPv4 in IPv6, upper case.
        ("10.0.0.2", "203.0.113.7:51000", "203.0.113.7"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("::1", "2001:DB8:0:0::7", "2001:db8::7"),
        ("::ffff:10.0.0.2", "203.0.113.7", "203.0.113.7"),
        ("::ffff:203.0.113.7", "1.2.3.4", "203.0.113.7"),
        # A peer that is no address (a UNIX socket): one shared, unknown client.
        ("", "203.0.113.7", UNKNOWN),
    ],
)
def test_the_client_address_is_the_right_most_address_that_is_not_our_proxy(
    remote_addr, forwarded_for, client
) -> None:
    assert client_address_from(remote_addr, forwarded_for, OURS) == client


def test_with_no_trusted_proxies_x_forwarded_for_is_never_read() -> None:
    assert client_address_from("127.0.0.1", "203.0.113.7", []) == "127.0.0.1"


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        (UNKNOWN, UNKNOWN),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64(address, block) -> None:
    assert address_block(address) == block


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        (
            {"TRUSTED_PROXIES": "10.0.0.1, proxy.internal"},
            "TRUSTED_PROXIES must list IP addresses or networks",
        ),
        ({"TRUSTED_PROXIES": "10.0.0.1/8"}, "TRUSTED_PROXIES must list IP addresses or networks"),
        ({"TRUSTED_PROXIES": "10.0.0.1/8"}, "has host bits set"),
        (
            {"LOGIN_FAILURE_LIMIT": "10", "LOGIN_ADDRESS_FAILURE_LIMIT": "3"},
            "LOGIN_ADDRESS_FAILURE_LIMIT must be at least 10, not 3",
        ),
        ({"LOGIN_FAILURE_LIMIT": "5000"}, "LOGIN_FAILURE_LIMIT must be at most 1000"),
        ({"LOGIN_ADDRESS_FAILURE_LIMIT": "5000"}, "LOGIN_ADDRESS_FAILURE_LIMIT must be at most 1000"),
    ],
)
def test_settings_refuse_a_bad_value_and_name_the_variable(env, complaint) -> None:
    result = start_with(**env)

    assert result.returncode != 0
    assert complaint in result.stderr


# -- real servers ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Servers:
    proxied: list[str]  # base URLs of two processes behind our proxy (127.0.0.1 trusted)
    direct: str  # base URL of a process facing clients directly


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory) -> Iterator[Servers]:
    """Three gunicorns (one worker of 4 threads each, as in the Procfile) on the test database."""
    logs = tmp_path_factory.mktemp("gunicorn")
    limits = {"LOGIN_FAILURE_LIMIT": str(LIMIT), "LOGIN_ADDRESS_FAILURE_LIMIT": str(ADDRESS_LIMIT)}
    started: list[tuple[subprocess.Popen, str, Path]] = []
    for name, trusted in (("proxied-a", "127.0.0.1,::1"), ("proxied-b", "127.0.0.1,::1"), ("direct", "")):
        url, log = f"http://127.0.0.1:{_free_port()}", logs / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", url.removeprefix("http://")]
                + ["--workers", "1", "--threads", "4", "--access-logfile", "-"],
                env=process_env(TRUSTED_PROXIES=trusted, **limits),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        started.append((proc, url, log))
    try:
        for proc, url, log in started:
            wait_for(partial(_answers, proc, url, log), timeout=60, what=f"gunicorn at {url}")
        yield Servers(proxied=[started[0][1], started[1][1]], direct=started[2][1])
    finally:
        for proc, _, _ in started:
            proc.send_signal(signal.SIGTERM)
        for proc, _, _ in started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _answers(proc: subprocess.Popen, url: str, log: Path) -> bool:
    if proc.poll() is not None:
        pytest.fail(f"gunicorn at {url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
    try:
        with requests.Session() as session:
            session.trust_env = False  # never through an HTTP proxy from the environment
            return session.get(url + LOGIN, timeout=(1, 20)).status_code == 200
    except requests.RequestException:  # not listening yet, or its first request still loading Django
        return False


class QuickHasher(PBKDF2SHA1PasswordHasher):
    """Hashes the servers check cheaply: their preferred hasher runs 1,000,000 iterations, and
    pads a wrong guess against a weaker hash of its own algorithm up to that cost; against
    another of their hashers (PBKDF2-SHA1) it does not."""

    iterations = 1000


@pytest.fixture
def people(transactional_db) -> Iterator[None]:
    """Users the servers can see (committed), and an empty cache before and after each test."""
    cache.clear()
    names = ["olivia", "manny", "vera", *(f"user{i}" for i in range(ADDRESS_LIMIT + 2))]
    hashed = make_password(PASSWORD, hasher=QuickHasher())
    get_user_model().objects.bulk_create(get_user_model()(username=name, password=hashed) for name in names)
    yield
    cache.clear()


class Browser:
    """One client: its own cookies (CSRF token, the signed-in-before cookie), at one address.

    `forwarded_for` is the X-Forwarded-For header the server receives: what our proxy would
    send for a client at that address (or what a client writes itself, to a direct server).
    """

    def __init__(self, forwarded_for: str | None = None) -> None:
        self.session = requests.Session()
        self.session.trust_env = False  # never through an HTTP proxy from the environment
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}

    def sign_in(self, server: str, username: str, password: str) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            assert self.session.get(server + LOGIN, timeout=10).status_code == 200
        form = {
            "username": username,
            "password": password,
            "csrfmiddlewaretoken": self.session.cookies["csrftoken"],
        }
        return self.session.post(
            server + LOGIN, data=form, headers=self.headers, allow_redirects=False, timeout=30
        )


def _refused(response: requests.Response) -> bool:
    return response.status_code == 429 and THROTTLED in response.text


def test_a_username_gets_the_limit_across_two_processes_and_no_more(servers, people) -> None:
    a, b = servers.proxied
    attacker = Browser(forwarded_for="203.0.113.7")

    for i in range(LIMIT):  # alternately on each process: a per-process count would allow 2 × LIMIT
        assert attacker.sign_in((a, b)[i % 2], "olivia", f"guess {i}").status_code == 200

    assert _refused(attacker.sign_in(a, "olivia", "guess again"))
    assert _refused(attacker.sign_in(b, "olivia", "guess again"))
    # The right password too, from anywhere, however the username is spelled ...
    stored = get_user_model().objects.get(username="olivia").password
    assert _refused(Browser(forwarded_for="198.51.100.20").sign_in(b, "olivia", PASSWORD))
    assert _refused(Browser(forwarded_for="198.51.100.21").sign_in(a, "OLIVIA", PASSWORD))
    # ... without the password being checked: a right one would have its weak hash upgraded.
    assert get_user_model().objects.get(username="olivia").password == stored
    # A colleague behind the same address is not locked out.
    assert Browser(forwarded_for="203.0.113.7").sign_in(a, "manny", PASSWORD).status_code == 302


def test_a_burst_of_simultaneous_guesses_gets_the_limit_and_no_more(servers, people) -> None:
    a, b = servers.proxied
    attacker = Browser(forwarded_for="203.0.113.8")
    attacker.session.get(a + LOGIN, timeout=10)  # the CSRF cookie, before the burst

    def guess(i: int) -> int:
        return attacker.sign_in((a, b)[i % 2], "olivia", f"guess {i}").status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(guess, range(3 * LIMIT)))

    assert sorted(answers) == [200] * LIMIT + [429] * (2 * LIMIT)


def test_an_address_spraying_usernames_is_stopped_but_people_known_there_still_sign_in(
    servers, people
) -> None:
    a, b = servers.proxied
    manny = Browser(forwarded_for="203.0.113.50")  # in the office, signed in here before
    assert manny.sign_in(a, "manny", PASSWORD).status_code == 302
    sprayer = Browser(forwarded_for="203.0.113.50")

    for i in range(ADDRESS_LIMIT):  # one guess per username: no username reaches its own limit
        assert sprayer.sign_in((a, b)[i % 2], f"user{i}", "Summer2024!").status_code == 200

    assert _refused(sprayer.sign_in(a, f"user{ADDRESS_LIMIT}", "Summer2024!"))
    assert _refused(sprayer.sign_in(b, "manny", "Summer2024!"))
    # Someone signing in for the first time from this address waits too ...
    assert _refused(Browser(forwarded_for="203.0.113.50").sign_in(a, "vera", PASSWORD))
    # ... but a browser that signed in as manny before still signs manny in, on either process.
    assert manny.sign_in(b, "manny", PASSWORD).status_code == 302
    # Elsewhere nobody is held up.
    assert Browser(forwarded_for="198.51.100.9").sign_in(a, "vera", PASSWORD).status_code == 302


def test_behind_our_proxy_the_right_most_address_that_is_not_ours_is_counted(servers, people) -> None:
    a, b = servers.proxied
    for i in range(ADDRESS_LIMIT):  # a sprayer at 203.0.113.9 writes a new left-most address each time
        sprayer = Browser(forwarded_for=f"10.9.9.{i}, 203.0.113.9")
        assert sprayer.sign_in((a, b)[i % 2], f"user{i}", "wrong").status_code == 200

    # Still 203.0.113.9, whatever it prepends, and through a second proxy of ours.
    assert _refused(Browser(forwarded_for="192.0.2.1, 203.0.113.9").sign_in(a, "vera", PASSWORD))
    assert _refused(Browser(forwarded_for="203.0.113.9, 127.0.0.1").sign_in(b, "vera", PASSWORD))
    # Someone else, even one who writes 203.0.113.9 in front of their own address, is not.
    assert Browser(forwarded_for="203.0.113.9, 198.51.100.77").sign_in(a, "vera", PASSWORD).status_code == 302


def test_facing_clients_directly_x_forwarded_for_is_ignored(servers, people) -> None:
    for i in range(ADDRESS_LIMIT):  # each claims another address; all come from 127.0.0.1
        sprayer = Browser(forwarded_for=f"198.51.100.{i}")
        assert sprayer.sign_in(servers.direct, f"user{i}", "wrong").status_code == 200

    assert _refused(Browser(forwarded_for="198.51.100.200").sign_in(servers.direct, "vera", PASSWORD))
    # The same count as every other process: 127.0.0.1 (no X-Forwarded-For) behind the proxy.
    assert _refused(Browser().sign_in(servers.proxied[0], "vera", PASSWORD))
