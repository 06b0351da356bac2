"""A person's notices in this organization (newest first), marking them read, and whether they
also come by email."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from campaigns import services
from campaigns.models import Notification
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view


@require_GET
@dashboard_view(Action.CAMPAIGNS_READ)
def notifications(request: HtmxHttpRequest) -> HttpResponse:
    notices = Notification.objects.filter(user=request.user, organization=request.organization)
    return render(
        request, "campaigns/notifications.html", {"notices": list(notices.select_related("campaign")[:50])}
    )


@require_POST
@dashboard_view(Action.CAMPAIGNS_READ)
def notifications_read(request: HtmxHttpRequest) -> HttpResponse:
    services.notifications_read(user=request.user, organization_id=request.organization.pk)
    return redirect("campaigns:notifications")


@require_POST
@dashboard_view(Action.CAMPAIGNS_READ)
def notifications_email(request: HtmxHttpRequest) -> HttpResponse:
    enabled = request.POST.get("email") == "on"
    services.membership_set_email_notifications(
        membership=request.membership, by=request.user, enabled=enabled
    )
    messages.success(request, "Notices come by email too." if enabled else "Notices stay in the app only.")
    return redirect("campaigns:notifications")
