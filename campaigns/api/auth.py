"""Who is calling, for which organization, and how often.

- API clients send ``Authorization: Bearer <key>``; the key acts as its organization
  (full access). Unknown or revoked keys answer 401.
- The dashboard's own calls use the session (CSRF enforced by DRF's
  SessionAuthentication); the organization is the user's membership.
- What either may do is the permission table's (campaigns/permissions.py): each view
  declares the action of each method in `needs`; API keys count as admins.
Views read `request.organization` and `request.actor` (what services record as `by`).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from campaigns import services
from campaigns.models import ApiKey, Membership, hash_api_key
from campaigns.permissions import Action, allowed, refusal

# last_used_at is a hint for people, not an audit log: one write a minute per key is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer <key>``: the ApiKey becomes `request.auth`, the user is anonymous."""

    keyword = "bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.encode():
            return None  # not ours: the session may still authenticate
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Authorization must be 'Bearer <API key>'")
        try:
            raw = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid API key") from None
        key = ApiKey.objects.select_related("organization").filter(hashed_key=hash_api_key(raw)).first()
        if key is None or key.revoked_at is not None:
            raise exceptions.AuthenticationFailed("Invalid API key")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            services.api_key_touch(key=key, now=now)
        return AnonymousUser(), key

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) when no credentials were sent.
        return 'Bearer realm="api"'


def _membership(request) -> Membership | None:
    memberships = Membership.objects.filter(user=request.user).select_related("organization")
    chosen = request.session.get("organization_id") if hasattr(request, "session") else None
    if chosen:
        membership = memberships.filter(organization_id=chosen).first()
        if membership is not None:
            return membership
    return memberships.first()


def action_for(view, method: str) -> Action | None:
    """The action `view` (an API view or its class) declares for `method` (HEAD is GET's); None
    for what DRF answers by itself: OPTIONS (the view's description, no data) and methods the
    view lacks (405).

    Raises ImproperlyConfigured for a method the view handles but declares no action for:
    a view left out of the table is a bug of ours, never something to guess at."""
    name = method.lower()
    name = "get" if name == "head" else name
    if name == "options" or name not in view.http_method_names or not hasattr(view, name):
        return None
    needs = getattr(view, "needs", {})
    if name not in needs:
        cls = view if isinstance(view, type) else type(view)
        raise ImproperlyConfigured(f"{cls.__name__}.needs names no action for {name}")
    return needs[name]


class HasOrganization(BasePermission):
    """Sets `request.organization` and `request.actor`; refuses anyone without one, or whom
    the permission table does not allow the view's action for this method.

    No credentials: 401. A session user without a membership, or whose role may not do
    the action: 403 with the table's refusal. API keys act as their organization.
    """

    message = "You do not have access to this organization"

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            organization, actor, who = request.auth.organization, request.auth, request.auth
        else:
            user = request.user
            if user is None or not user.is_authenticated:
                return False
            membership = _membership(request)
            if membership is None:
                return False
            organization, actor, who = membership.organization, user, membership.role
        action = action_for(view, request.method)
        if action is not None and not allowed(who, action):
            self.message = refusal(action)
            return False
        request.organization, request.actor = organization, actor
        return True


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (dashboard sessions: per user), rate from DEFAULT_THROTTLE_RATES['api_key']."""

    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read at request time, so a changed setting (tests, reload) takes effect.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # anonymous requests are refused before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": ident}
