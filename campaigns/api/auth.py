"""Who is calling, for which organization, and how often.

- API clients send ``Authorization: Bearer <key>``; the key acts as its organization
  (full access). Unknown or revoked keys answer 401.
- The dashboard's own calls use the session (CSRF enforced by DRF's
  SessionAuthentication); the organization is the user's membership, and only
  admins and managers may write.
Views read `request.organization` and `request.actor` (what services record as `by`).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from campaigns.models import ApiKey, Membership, hash_api_key

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
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
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


class HasOrganization(BasePermission):
    """Sets `request.organization` and `request.actor`; refuses anyone without one.

    No credentials: 401. A session user without a membership, or a viewer
    writing: 403. API keys act as their organization with full access.
    """

    message = "You do not have access to this organization"

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, ApiKey):
            request.organization = request.auth.organization
            request.actor = request.auth
            return True
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        membership = _membership(request)
        if membership is None:
            return False
        if request.method not in SAFE_METHODS and not membership.can_manage_campaigns:
            self.message = "Viewers can read but not change anything"
            return False
        request.organization = membership.organization
        request.actor = user
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
