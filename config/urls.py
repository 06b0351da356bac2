from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from campaigns.login import ThrottledLoginView

urlpatterns = [
    # Provider webhooks first: /webhooks/<kind>/<token>, the most frequent request of all.
    path("", include("dialer.urls")),
    # Django's own admin login has no brake on guessing: staff sign in through the throttled one.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="login", query_string=True),
        name="admin-login-throttled",
    ),
    path("admin/", admin.site.urls),
    # REST API at the root, as Vapi's paths are: /campaign, /phone-number, /dnc, plus
    # /api/schema (OpenAPI) and /api/docs (Swagger UI). See campaigns/api/urls.py.
    path("", include("campaigns.api.urls")),
    # The dashboard (HTMX pages) under /app/.
    path("", RedirectView.as_view(pattern_name="campaigns:list", permanent=False), name="home"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/", include("campaigns.urls")),
]

# An unknown path answers Vapi's JSON error envelope (404), not Django's HTML page, to the API
# clients that meet it; the dashboard's unknown pages (/app/...) keep the HTML page.
handler404 = "campaigns.api.errors.not_found"
