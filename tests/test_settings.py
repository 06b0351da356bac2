"""Settings refuse values they cannot understand, naming the variable."""

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
    ],
)
def test_it_refuses_a_bad_value_and_names_the_variable(variable, value, complaint) -> None:
    result = start_with(**{variable: value})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_it_starts_with_nothing_set_and_keeps_its_generated_secret_key(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG")}
    env.update(DIALDECK_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    first = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    second = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_the_embedded_sqlite_database_is_set_up_for_a_concurrent_worker() -> None:
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("runs on the embedded default")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] == 20
    assert "journal_mode=WAL" in options["init_command"]
    assert "synchronous=NORMAL" in options["init_command"]
