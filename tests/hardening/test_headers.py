"""Response headers a browser obeys: secrets shown once are never cached; every page has a CSP.

The policy itself is proved in a real browser by tests/e2e/test_csp.py; here,
with Django's test client, that each answer carries it, and that our templates
keep nothing the policy would refuse.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import ProviderAccount

ROOT = Path(__file__).resolve().parents[2]
MIX = {f"mix_{k}": "1" for k in ("answered", "noAnswer", "busy", "voicemail", "failed", "optOut")}
DIRECTIVES = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


@pytest.fixture
def as_owner(owner) -> Client:
    client = Client()
    client.force_login(owner)
    return client


def policy(response) -> dict[str, list[str]]:  # noqa: ANN001
    header = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";"))}


def no_store(response) -> bool:  # noqa: ANN001
    return "no-store" in response.headers.get("Cache-Control", "")


# -- secrets shown once ----------------------------------------------------------------------------


def test_the_answer_that_shows_a_new_api_key_is_never_stored(as_owner, org) -> None:
    response = as_owner.post(reverse("campaigns:api-key-add"), {"name": "CRM sync"})
    assert response.status_code == 201 and 'data-testid="api-key">dd_' in response.content.decode()
    assert no_store(response), response.headers.get("Cache-Control")
    assert "private" in response.headers["Cache-Control"]


def test_the_answer_that_shows_a_webhook_secret_is_never_stored(as_owner, org) -> None:
    data = {"name": "Vapi", "kind": "vapi", "base_url": "https://api.vapi.ai", "api_key": "k", **MIX}
    response = as_owner.post(reverse("campaigns:provider-add"), data)
    account = ProviderAccount.objects.get(organization=org)
    assert response.status_code == 201 and account.webhook_secret in response.content.decode()
    assert no_store(response), response.headers.get("Cache-Control")


def test_a_refused_form_is_not_stored_either(as_owner) -> None:
    """The same views answer errors: no-store on every answer, so none is ever cached by mistake."""
    response = as_owner.post(reverse("campaigns:api-key-add"), {"name": ""})
    assert response.status_code == 422 and no_store(response)


# -- Content-Security-Policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/accounts/login/", "/app/campaigns", "/app/api-keys", "/api/docs", "/admin/login/", "/no-such-page"],
)
def test_every_answer_carries_the_policy(as_owner, path) -> None:
    directives = policy(as_owner.get(path))
    for name, value in DIRECTIVES.items():
        assert directives[name] == [value], (name, directives)
    for name in ("script-src", "style-src"):
        assert directives[name][0] == "'self'"
        assert all(v.startswith("'nonce-") for v in directives[name][1:]), directives[name]
    assert "'unsafe-inline'" not in str(directives) and "'unsafe-eval'" not in str(directives)


def test_an_htmx_fragment_carries_it_too(as_owner, make_campaign) -> None:
    campaign = make_campaign(2)
    fragment = as_owner.get(reverse("campaigns:counters", args=[campaign.pk]), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and policy(fragment)["frame-ancestors"] == ["'none'"]


def test_a_request_refused_before_any_view_carries_it_too() -> None:
    """A bad Host is refused by CommonMiddleware: the policy's middleware sits outside it."""
    response = Client(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400 and policy(response)["default-src"] == ["'self'"]


def test_the_api_docs_inline_script_carries_the_answers_nonce() -> None:
    response = Client().get("/api/docs")
    html = response.content.decode()
    nonce = policy(response)["script-src"][1].removeprefix("'nonce-").removesuffix("'")
    assert f'<script nonce="{nonce}">' in html
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [f' nonce="{nonce}"'], inline
    assert "<style" not in html  # its page rules are in static/css/api-docs.css


# What the policy refuses, as it would be written in a template.
REFUSED = {
    "an inline <script> without a src": re.compile(r"<script(?![^>]*\b(src|nonce)=)[^>]*>", re.I),
    "a <style> element": re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I),
    "a style= attribute": re.compile(r"<[a-z][^>]*\sstyle=", re.I),
    "an on*= handler": re.compile(r"<[a-z][^>]*\son[a-z]+=", re.I),
    "an hx-on handler": re.compile(r"\b(data-)?hx-on", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "a js: value for htmx": re.compile(r"hx-(vals|vars|headers)=['\"]\s*js:", re.I),
    "an htmx trigger filter (eval)": re.compile(r"hx-trigger=\"[^\"]*\[", re.I),
}


def test_no_template_holds_what_the_policy_refuses() -> None:
    found = []
    for template in sorted((ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        found += [f"{template.relative_to(ROOT)}: {what}" for what, rx in REFUSED.items() if rx.search(text)]
    assert found == []
