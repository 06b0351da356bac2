"""Dashboard login with a brake on guessing: failed attempts are counted per client address
and per username, and past the limit the form is refused (429) for 15 minutes."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

WINDOW_SECONDS = 15 * 60


def _keys(request: HttpRequest) -> list[str]:
    # REMOTE_ADDR, not X-Forwarded-For: a client can write that header itself. Behind a proxy,
    # have the proxy set REMOTE_ADDR (e.g. gunicorn's --forwarded-allow-ips).
    username = request.POST.get("username", "").strip().lower()[:150]
    return [f"login-failures:addr:{request.META.get('REMOTE_ADDR', '')}", f"login-failures:user:{username}"]


class ThrottledLoginView(LoginView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        keys = _keys(request)
        if any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in keys):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, "Too many failed sign-ins. Wait 15 minutes and try again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:  # the form was refused: a failed attempt
            for key in keys:
                cache.add(key, 0, WINDOW_SECONDS)
                cache.incr(key)
        else:
            cache.delete(keys[1])
        return response
