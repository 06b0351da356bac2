"""Production settings pass Django's deploy check; keys and secrets never reach the logs."""

from __future__ import annotations

import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from campaigns import services
from campaigns.models import ApiKey

ROOT = Path(__file__).resolve().parents[2]


def test_manage_py_check_deploy_is_clean_with_production_settings(tmp_path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},  # set for Playwright
        "DEBUG": "false",
        "SECURE_SSL": "true",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "dialer.example.com",
        "DIALDECK_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_an_api_key_is_stored_only_as_a_hash_and_never_logged(api, org, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    assert api.get("/campaign").status_code == 200
    assert api.get("/campaign/not-a-campaign").status_code == 404
    stored = list(ApiKey.objects.values_list("prefix", "hashed_key"))
    assert all(api.raw_key not in value for row in stored for value in row)
    assert api.raw_key not in caplog.text


def test_a_revoked_key_is_refused_at_once(api, org, owner) -> None:
    key = ApiKey.objects.get(organization=org)
    services.api_key_revoke(key=key, by=owner)
    response = api.get("/campaign")
    assert response.status_code == 401
    assert response.json()["statusCode"] == 401


@pytest.mark.parametrize("header", ["HTTP_X_VAPI_SECRET", "HTTP_AUTHORIZATION"])
def test_a_forged_webhook_secret_never_reaches_the_logs(client, provider, header, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    forged = "forged-" + secrets.token_hex(8)
    provider.kind = "vapi"
    provider.base_url = "https://api.example.com"
    provider.save()
    value = f"Bearer {forged}" if header == "HTTP_AUTHORIZATION" else forged
    response = client.post(
        f"/webhooks/vapi/{provider.webhook_token}",
        data=b'{"message": {"type": "status-update"}}',
        content_type="application/json",
        **{header: value},
    )
    assert response.status_code == 401
    assert forged not in caplog.text
    assert provider.webhook_secret not in caplog.text
