"""Admins only: provider accounts, their settings, a connection test and the webhook to paste.

Credentials are write-only: a form never shows a stored one (only its last four characters);
the webhook secret Dialdeck makes (Vapi's X-Vapi-Secret) is shown once, in the answer to the
POST that created the account, which is `never_cache`.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campaigns import connections, selectors, services
from campaigns.credentials import mask
from campaigns.forms.directory import ProviderAccountEditForm, ProviderAccountForm
from campaigns.forms.errors import attach
from campaigns.models import ProviderAccount, ProviderKind
from campaigns.permissions import Action
from campaigns.rules.provider_settings import OUR_SECRET, SECRET_FROM_CONSOLE
from campaigns.views.base import HtmxHttpRequest, dashboard_view


def webhook_url(account: ProviderAccount) -> str:
    """The address to paste into the provider's dashboard (selectors.provider_webhook_url)."""
    return selectors.provider_webhook_url(account)


def _field_for(path: str) -> str:
    """The services' `settings.<name>` is the form's `<name>`."""
    return path.removeprefix("settings.")


def _providers_page(request: HtmxHttpRequest, form=None, created=None, *, status: int = 200) -> HttpResponse:
    context = {
        "accounts": selectors.provider_accounts_for(request.organization),
        "form": form or ProviderAccountForm(),
        "created": created,
        "created_webhook_url": webhook_url(created) if created else "",
        "created_our_secret": created is not None and created.kind in OUR_SECRET,
    }
    return render(request, "campaigns/providers.html", context, status=status)


@require_GET
@dashboard_view(Action.PROVIDERS_READ)
def providers(request: HtmxHttpRequest) -> HttpResponse:
    return _providers_page(request)


@require_POST
@never_cache
@dashboard_view(Action.PROVIDERS_WRITE)
def provider_add(request: HtmxHttpRequest) -> HttpResponse:
    form = ProviderAccountForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        remote = data["kind"] != ProviderKind.SIMULATED
        try:
            account = services.provider_account_create(
                organization=request.organization,
                by=request.user,
                name=data["name"],
                kind=data["kind"],
                base_url=data["base_url"] if remote else "",
                api_key=data["api_key"] if remote else "",
                webhook_secret=data["webhook_secret"] if remote else "",
                settings=form.settings(),
            )
        except services.ValidationFailed as exc:
            for message in attach(form, exc.errors, _field_for):
                form.add_error(None, message)
        else:
            return _providers_page(request, created=account, status=201)
    return _providers_page(request, form, status=422)


def _account(request: HtmxHttpRequest, pk: object) -> ProviderAccount:
    account = selectors.provider_account_for(request.organization, pk)
    if account is None:
        raise Http404("no such provider account")
    return account


def _account_page(request: HtmxHttpRequest, account: ProviderAccount, form=None, *, status: int = 200):
    context = {
        "account": account,
        "form": form or ProviderAccountEditForm(account=account),
        "webhook_url": webhook_url(account),
        "api_key_mask": mask(account.api_key),
        "secret_from_console": account.kind in SECRET_FROM_CONSOLE,
        "webhook_secret_mask": mask(account.webhook_secret),
    }
    return render(request, "campaigns/provider.html", context, status=status)


@require_GET
@dashboard_view(Action.PROVIDERS_READ)
def provider_detail(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    return _account_page(request, _account(request, pk))


@require_POST
@never_cache
@dashboard_view(Action.PROVIDERS_WRITE)
def provider_edit(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    account = _account(request, pk)
    form = ProviderAccountEditForm(request.POST, account=account)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.provider_account_update(
                account=account,
                by=request.user,
                name=data["name"],
                base_url=data["base_url"] if account.kind != ProviderKind.SIMULATED else "",
                settings=form.kind_settings(account.kind)
                if account.kind != ProviderKind.SIMULATED
                else account.settings,
                api_key=data["api_key"],
                webhook_secret=data["webhook_secret"],
            )
        except services.ValidationFailed as exc:
            for message in attach(form, exc.errors, _field_for):
                form.add_error(None, message)
        else:
            messages.success(request, f"Saved “{data['name']}”.")
            return redirect("campaigns:provider", pk=account.pk)
    return _account_page(request, account, form, status=422)


@require_POST
@dashboard_view(Action.PROVIDERS_WRITE)
def provider_test(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    """Make a harmless authenticated request to the provider; the answer as a fragment (htmx) or
    the page with it (a plain POST)."""
    account = _account(request, pk)
    result = connections.check(account)
    if request.htmx:
        return render(request, "campaigns/partials/_connection_result.html", {"result": result})
    (messages.success if result.ok else messages.error)(request, f"Test connection: {result.summary}")
    return redirect("campaigns:provider", pk=account.pk)
