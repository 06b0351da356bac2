"""Dashboard sign-in with a brake on password guessing that holds across every web process.

Failed attempts are counted in the shared cache (settings.CACHES: a database table by default,
Redis in production), over a sliding 15 minutes, three ways:

1. Per username (NFKC, case-folded), from every address together: at most
   LOGIN_FAILURE_LIMIT. This is the bound that matters: someone guessing one user's password
   gets that many tries per 15 minutes however many processes, machines or addresses they
   use. The price is that anyone can hold up one username for 15 minutes by failing on
   purpose; a successful sign-in starts its count over.
2. Per client address (campaigns.clientaddr: REMOTE_ADDR, or behind TRUSTED_PROXIES the
   right-most forwarded address; an IPv6 /64 as one), every username together: at most
   LOGIN_ADDRESS_FAILURE_LIMIT, ten times (1) by default. Someone spraying many usernames
   from one address is stopped; someone mistyping behind an office proxy uses up their own
   username's tries long before the address's, so colleagues behind the same proxy are not
   locked out.
3. A browser that has signed in as a username gets a signed cookie saying so. Its attempts
   for that same username skip (2), so people already known on an office proxy still sign in
   while a sprayer behind the same address is held up. (1) still applies to them, and the
   cookie only vouches for the username it was issued for, which the holder could sign in as.

Each attempt takes one place of each count *before* the password is checked, and gives it
back on success. A place is a cache entry `<count>:<n>` for n below the limit, taken with
cache.add(), which exactly one of several concurrent requests can win (Redis SET NX; an
INSERT on the key in the database), and which expires 15 minutes after it was taken. So at
most `limit` attempts can be under way or failed within any 15 minutes, even when many arrive
at once: a count that is read and then incremented lets every request that read it in the same
instant through, and Django's DatabaseCache.incr() is itself such a read and a write.
One gap remains with the database cache: Django deletes an expired entry it reads without
looking again, so two requests racing for the same just-expired place can both have it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from campaigns.clientaddr import address_block, client_address

WINDOW_SECONDS = 15 * 60
THROTTLED = "Too many failed sign-ins. Wait 15 minutes and try again."
KNOWN_COOKIE = "dialdeck_signed_in"
KNOWN_SALT = "campaigns.login.known"
KNOWN_MAX_AGE = 90 * 24 * 60 * 60


def username_digest(raw: str) -> str:
    """One short, secret-keyed name per username however it is spelled (case, Unicode form).

    Keyed, so neither the cache nor the cookie shows the usernames people typed.
    """
    normalized = unicodedata.normalize("NFKC", raw).strip().casefold()
    return salted_hmac(KNOWN_SALT, normalized).hexdigest()[:32]


@dataclass
class Attempt:
    """One sign-in attempt's places in the counts it is subject to (see the module docstring)."""

    username: str  # username_digest() of the username tried
    counts: list[list[str]]  # per count, the keys of its places: the username's first
    held: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, request: HttpRequest) -> Attempt:
        digest = username_digest(request.POST.get("username", ""))
        counts = [_places(f"login:user:{digest}", settings.LOGIN_FAILURE_LIMIT)]
        if _known_username(request) != digest:
            block = address_block(client_address(request))
            counts.append(_places(f"login:addr:{block}", settings.LOGIN_ADDRESS_FAILURE_LIMIT))
        return cls(username=digest, counts=counts)

    def reserve(self) -> bool:
        """Take one free place in every count; False (holding nothing) if any count is full."""
        taken = set(cache.get_many([key for places in self.counts for key in places]))
        for places in self.counts:
            place = _take_one(places, taken)
            if place is None:
                self.release()
                return False
            self.held.append(place)
        return True

    def release(self) -> None:
        cache.delete_many(self.held)
        self.held = []

    def succeeded(self) -> None:
        """Not a failure after all; and the username's count starts over."""
        cache.delete_many([*self.held, *self.counts[0]])
        self.held = []


def _places(prefix: str, limit: int) -> list[str]:
    return [f"{prefix}:{n}" for n in range(limit)]


def _take_one(places: list[str], taken: set[str]) -> str | None:
    """The first free place this request wins; a place another request wins first is not free."""
    for key in places:
        if key not in taken and cache.add(key, 1, WINDOW_SECONDS):
            return key
    return None


def _known_username(request: HttpRequest) -> str | None:
    return request.get_signed_cookie(KNOWN_COOKIE, default=None, salt=KNOWN_SALT, max_age=KNOWN_MAX_AGE)


class ThrottledLoginView(LoginView):
    """Django's LoginView; past a limit the form is refused with 429, right password or not."""

    attempt: Attempt

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        self.attempt = Attempt.of(request)
        if not self.attempt.reserve():
            # Bound to the username alone: validating a form that holds the password would check
            # the password, which a refused attempt must never do (nor spend a hash on).
            form = self.get_form_class()(request, data={"username": request.POST.get("username", "")})
            form.errors.clear()
            form.add_error(None, THROTTLED)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # A refused form (200) keeps its places: those are the failures being counted.
        return super().post(request, *args, **kwargs)

    def form_valid(self, form) -> HttpResponse:
        response = super().form_valid(form)
        self.attempt.succeeded()
        response.set_signed_cookie(
            KNOWN_COOKIE,
            self.attempt.username,
            salt=KNOWN_SALT,
            max_age=KNOWN_MAX_AGE,
            path=self.request.path,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response
