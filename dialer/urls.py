"""Dialer endpoints, mounted at the site root: provider webhooks.

Each provider account posts to its own address, `/webhooks/<its kind>/<its token>`
(`reverse("provider-webhook", kwargs={"kind": ..., "token": ...})`). Before each kind had its
own path, every account was given `/webhooks/vapi/<token>`, whatever its kind, and that is what
providers are set up with: it still finds any account by its token (for a Vapi account it is
also its own address).
"""

from __future__ import annotations

from django.urls import path

from dialer.webhooks import provider_webhook, provider_webhook_legacy

urlpatterns = [
    path("webhooks/vapi/<str:token>", provider_webhook_legacy, name="provider-webhook-legacy"),
    path("webhooks/<str:kind>/<str:token>", provider_webhook, name="provider-webhook"),
]
