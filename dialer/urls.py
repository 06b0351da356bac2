"""Dialer endpoints, mounted at the site root: provider webhooks."""

from __future__ import annotations

from django.urls import path

from dialer.webhooks import provider_webhook

urlpatterns = [
    path("webhooks/vapi/<str:token>", provider_webhook, name="provider-webhook"),
]
