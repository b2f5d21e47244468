"""OpenAPI: describe API-key authentication as a bearer scheme in /api/v1/schema/."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "referral_platform.tenancy.api.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "rk_live_<prefix>.<secret> (rk_test_ in a sandbox)",
            "description": "`Authorization: Bearer <api_key>`; the key decides the tenant.",
        }
