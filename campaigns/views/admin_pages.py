"""Admins only: API keys and members (provider accounts: views/providers.py).

Secrets are shown once, in the answer to the POST that made them (never put
in a redirect, a message or the session), and never again; that answer is
`never_cache` (Cache-Control: no-store), so no browser or proxy keeps a copy.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from campaigns import selectors, services
from campaigns.forms.directory import ApiKeyForm, MemberAddForm, MemberRoleForm
from campaigns.forms.errors import attach, simple
from campaigns.models import Role
from campaigns.permissions import Action
from campaigns.views.base import HtmxHttpRequest, dashboard_view

# -- API keys ------------------------------------------------------------------------------------


def _keys_page(request: HtmxHttpRequest, form=None, created=None, raw: str = "", *, status: int = 200):
    context = {
        "keys": selectors.api_keys_for(request.organization),
        "form": form or ApiKeyForm(),
        "created": created,
        "raw": raw,
    }
    return render(request, "campaigns/api_keys.html", context, status=status)


@require_GET
@dashboard_view(Action.API_KEYS_READ)
def api_keys(request: HtmxHttpRequest) -> HttpResponse:
    return _keys_page(request)


@require_POST
@never_cache
@dashboard_view(Action.API_KEYS_WRITE)
def api_key_add(request: HtmxHttpRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw = services.api_key_create(
                organization=request.organization, by=request.user, name=form.cleaned_data["name"]
            )
        except services.ValidationFailed as exc:
            attach(form, exc.errors, simple({"name": "name"}))
        else:
            return _keys_page(request, created=key, raw=raw, status=201)
    return _keys_page(request, form, status=422)


@require_POST
@dashboard_view(Action.API_KEYS_WRITE)
def api_key_revoke(request: HtmxHttpRequest, pk: object) -> HttpResponse:
    key = selectors.api_key_for(request.organization, pk)
    if key is None:
        raise Http404("No such key")
    try:
        services.api_key_revoke(key=key, by=request.user)
    except services.InvalidTransition as exc:
        messages.error(request, str(exc).capitalize() + ".")
    else:
        messages.success(request, f"Revoked “{key.name}”: requests with it now get 401.")
    return redirect("campaigns:api-keys")


# -- members -------------------------------------------------------------------------------------


def _members_page(request: HtmxHttpRequest, form=None, *, status: int = 200) -> HttpResponse:
    context = {
        "members": selectors.members_for(request.organization),
        "form": form or MemberAddForm(),
        "roles": Role.choices,
    }
    return render(request, "campaigns/members.html", context, status=status)


@require_GET
@dashboard_view(Action.MEMBERS_READ)
def members(request: HtmxHttpRequest) -> HttpResponse:
    return _members_page(request)


@require_POST
@dashboard_view(Action.MEMBERS_WRITE)
def member_add(request: HtmxHttpRequest) -> HttpResponse:
    """Invite someone by creating their account with a role (existing accounts are refused)."""
    form = MemberAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        if not data["password"]:
            form.add_error("password", "Give the new account a password.")
        else:
            try:
                password_validation.validate_password(data["password"])
            except ValidationError as exc:
                form.add_error("password", exc)
        if form.is_valid():
            try:
                services.member_add(
                    organization=request.organization,
                    by=request.user,
                    username=data["username"],
                    email=data["email"],
                    password=data["password"],
                    role=data["role"],
                )
            except services.ValidationFailed as exc:
                attach(form, exc.errors, simple({"username": "username", "role": "role"}))
            else:
                messages.success(request, f"Created the account {data['username']} as {data['role']}.")
                return redirect("campaigns:members")
    return _members_page(request, form, status=422)


@require_POST
@dashboard_view(Action.MEMBERS_WRITE)
def member_role(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = selectors.member_for(request.organization, pk)
    if membership is None:
        raise Http404("No such member")
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a role: admin, manager or viewer.")
        return redirect("campaigns:members")
    try:
        services.member_set_role(membership=membership, by=request.user, role=form.cleaned_data["role"])
    except services.ValidationFailed as exc:
        messages.error(request, f"Could not change {membership.user}'s role: {exc.errors[0].message}.")
    else:
        messages.success(request, f"{membership.user} is now {form.cleaned_data['role']}.")
    return redirect("campaigns:members")
