"""Settings refuse values they cannot understand, naming the variable, and write nothing.

The embedded defaults' folders and development key are made by `manage.py prepare_local`
(`make run` and `make test` run it first); without a key, the web process refuses to start.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def start_with(**env: str) -> subprocess.CompletedProcess:
    full = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; settings.DATABASES",
        ],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://root@localhost/x", "DATABASE_URL must be a sqlite:// or postgres:// URL"),
        ("DEBUG", "maybe", "DEBUG must be true, false, 1 or 0, not 'maybe'"),
        ("DEBUG", "yes", "DEBUG must be true, false, 1 or 0"),
        ("SIMULATED_TIME_SCALE", "fast", "SIMULATED_TIME_SCALE must be a number"),
        ("SIMULATED_TIME_SCALE", "0", "SIMULATED_TIME_SCALE must be greater than 0"),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL must be filesystem://, redis:// or amqp://"),
        ("DIALER_REAP_GRACE_SECONDS", "-5", "DIALER_REAP_GRACE_SECONDS must be at least 0"),
        ("SITE_URL", "ftp://example.com", "SITE_URL must be an http(s) URL"),
        (
            "DATABASE_PREPARED_STATEMENTS",
            "sometimes",
            "DATABASE_PREPARED_STATEMENTS must be true, false, 1 or 0, not 'sometimes'",
        ),
        ("DIALDECK_CREDENTIALS_KEYS", "not-a-key", "DIALDECK_CREDENTIALS_KEYS: key 1 is not a Fernet key"),
        (
            "DIALDECK_CREDENTIALS_KEYS",
            "ZmVybmV0LWtleS1vZi0zMi1ieXRlcy1leGFjdGx5ISE=,short",
            "DIALDECK_CREDENTIALS_KEYS: key 2 is not a Fernet key",
        ),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR or CRITICAL, not 'LOUD'"),
        ("API_RATE_LIMIT", "fast", "API_RATE_LIMIT must be requests per period"),
        ("API_RATE_LIMIT", "100/month", "(e.g. 6000/min), not '100/month'"),  # DRF would read a minute
        ("API_RATE_LIMIT", "0/min", "a whole number from 1"),
        ("API_RATE_LIMIT", "6000 per minute", "API_RATE_LIMIT must be requests per period"),
    ],
)
def test_it_refuses_a_bad_value_and_names_the_variable(variable, value, complaint) -> None:
    result = start_with(**{variable: value})
    assert result.returncode != 0
    assert complaint in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [("API_RATE_LIMIT", "10/s"), ("API_RATE_LIMIT", "100/minute"), ("LOG_LEVEL", "debug")],
)
def test_it_accepts_what_drf_and_logging_read_the_same_way(variable, value) -> None:
    result = start_with(**{variable: value})
    assert result.returncode == 0, result.stderr


# What a fresh machine has: no key, no var folder, the embedded database and broker.
UNSET = (
    *("SECRET_KEY", "SECRET_KEY_FILE", "DIALDECK_CREDENTIALS_KEYS", "DIALDECK_CREDENTIALS_KEYS_FILE"),
    *("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_BROKER_DIR", "DEBUG"),
)


def fresh_machine(var: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    return {**env, "DIALDECK_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "config.settings", **extra}


def run(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


SECRET_KEY_OF_THE_SETTINGS = """
import django; django.setup()
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
import config.celery
settings.DATABASES, settings.STATIC_ROOT, settings.CELERY_BROKER_TRANSPORT_OPTIONS
try:
    print(settings.SECRET_KEY)
except ImproperlyConfigured as refusal:
    print(refusal)
"""


def test_loading_the_settings_writes_nothing_and_no_key_is_made_up(tmp_path) -> None:
    var = tmp_path / "var"

    result = run(fresh_machine(var), "-c", SECRET_KEY_OF_THE_SETTINGS)

    assert result.returncode == 0, result.stderr
    assert not var.exists()
    assert result.stdout.strip() == "The SECRET_KEY setting must not be empty."


def test_prepare_local_makes_the_embedded_defaults_once_and_every_process_reads_its_key(tmp_path) -> None:
    var, env = tmp_path / "var", fresh_machine(tmp_path / "var")

    first = run(env, "manage.py", "prepare_local")
    key = (var / "secret_key").read_text()
    second = run(env, "manage.py", "prepare_local")
    seen = run(env, "-c", SECRET_KEY_OF_THE_SETTINGS)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "wrote a development secret key" in first.stdout and second.stdout == ""
    assert (var / "secret_key").read_text() == key and len(key) >= 50
    assert (var / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only
    assert seen.stdout.strip() == key
    for folder in ("staticfiles", "broker/queue", "broker/processed", "broker/control"):
        assert (var / folder).is_dir(), folder


CREDENTIALS_KEYS_OF_THE_SETTINGS = """
import django; django.setup()
from django.conf import settings
print(",".join(settings.CREDENTIALS_KEYS))
"""


def test_prepare_local_writes_a_credentials_key_once_unless_one_is_set(tmp_path) -> None:
    var, env = tmp_path / "var", fresh_machine(tmp_path / "var")
    assert run(env, "-c", CREDENTIALS_KEYS_OF_THE_SETTINGS).stdout.strip() == ""  # settings write nothing

    first = run(env, "manage.py", "prepare_local")
    key = (var / "credentials_keys").read_text()
    run(env, "manage.py", "prepare_local")
    seen = run(env, "-c", CREDENTIALS_KEYS_OF_THE_SETTINGS)
    given = "ZmVybmV0LWtleS1vZi0zMi1ieXRlcy1leGFjdGx5ISE="
    both = {**env, "DIALDECK_CREDENTIALS_KEYS": f" {given} , {key}"}
    chosen = run(both, "-c", CREDENTIALS_KEYS_OF_THE_SETTINGS)

    assert "wrote a development credentials key" in first.stdout, first.stderr
    assert (var / "credentials_keys").read_text() == key and len(key) == 44
    assert (var / "credentials_keys").stat().st_mode & 0o077 == 0
    assert seen.stdout.strip() == key
    assert chosen.stdout.strip() == f"{given},{key}"  # the variable wins, in its order


@pytest.mark.parametrize("given", ["SECRET_KEY", "SECRET_KEY_FILE"])
def test_a_key_that_is_set_is_used_and_no_development_key_is_written(given, tmp_path) -> None:
    key = "k" * 20 + "-a-production-key-" + "z" * 20
    (tmp_path / "key").write_text(key + "\n")
    env = fresh_machine(tmp_path / "var", **{given: key if given == "SECRET_KEY" else str(tmp_path / "key")})

    prepared = run(env, "manage.py", "prepare_local")
    seen = run(env, "-c", SECRET_KEY_OF_THE_SETTINGS)

    assert prepared.returncode == 0, prepared.stderr
    assert "SECRET_KEY is set: no development key needed" in prepared.stdout
    assert not (tmp_path / "var" / "secret_key").exists()
    assert seen.stdout.strip() == key


def test_without_a_key_the_web_process_refuses_to_start(tmp_path) -> None:
    gunicorn = ["-m", "gunicorn", "config.wsgi", "--config", "config/gunicorn.conf.py"]

    result = run(fresh_machine(tmp_path / "var"), *gunicorn, "--bind", "127.0.0.1:0")

    assert result.returncode == 1
    assert "no secret key: set SECRET_KEY or SECRET_KEY_FILE" in result.stderr
    assert not (tmp_path / "var").exists()


def test_the_embedded_sqlite_database_is_set_up_for_a_concurrent_worker() -> None:
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("runs on the embedded default")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    assert "journal_mode=WAL" in options["init_command"]
    assert "synchronous=NORMAL" in options["init_command"]
