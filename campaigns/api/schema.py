"""drf-spectacular extensions: how our authentication appears in the OpenAPI document."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "campaigns.api.auth.ApiKeyAuthentication"
    name = "bearer"  # Vapi's OpenAPI calls its scheme "bearer" too

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key of your organization: `Authorization: Bearer <key>`.",
        }
