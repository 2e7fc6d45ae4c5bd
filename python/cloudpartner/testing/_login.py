"""The fake Microsoft Entra token endpoints (``login.microsoftonline.com``): the client-credentials grant.

Public clients get their token from Entra before they call the services: cloudpub with the v1
form (``POST /{tenant}/oauth2/token``, ``resource=``; it reads ``expires_on``), azure-img-utils
through msal with the v2 form (``POST /{tenant}/oauth2/v2.0/token``, ``scope=``; msal first reads
``/{tenant}/v2.0/.well-known/openid-configuration``). The token issued is one only this portal
accepts, for the API its resource or scope names: ``cloudpartner.azure.com`` (the CPP API) or
``graph.microsoft.com`` (the Product Ingestion API). Any client id and secret are accepted.
Errors have Entra's shape: ``{"error", "error_description", "error_codes"}``.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

from ._base import Failure, Tokens
from ._http import RecordedRequest, Response

HOST = "https://login.microsoftonline.com"
_ROUTES = (
    ("token-v1", re.compile(r"/(?P<tenant>[^/]+)/oauth2/token/?")),
    ("token-v2", re.compile(r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token/?")),
    ("openid-configuration", re.compile(r"/(?P<tenant>[^/]+)(/v2\.0)?/\.well-known/openid-configuration/?")),
    ("instance-discovery", re.compile(r"/common/discovery/instance/?")),
)
ROUTES = tuple(name for name, _ in _ROUTES)
LIFETIME = 3599  # seconds, as Entra's tokens


def _audience(resource: str) -> str | None:
    """Name the API a v1 resource or v2 scope is for: ``"cpp"``, ``"ingestion"`` or None."""
    if "cloudpartner.azure.com" in resource:
        return "cpp"
    if "graph.microsoft.com" in resource:
        return "ingestion"
    return None


def _entra_error(status: int, error: str, code: int, description: str) -> Response:
    body = {"error": error, "error_description": f"AADSTS{code}: {description}", "error_codes": [code]}
    return Response(status, body)


class Service:
    """The token endpoints; each issued token is added to the accepted tokens of its API."""

    name = "login"
    routes = ROUTES

    def __init__(self, *, cpp_tokens: Tokens, ingestion_tokens: Tokens) -> None:
        self._issued = {"cpp": f"fakeportal-cpp-{secrets.token_urlsafe(16)}"}
        self._issued["ingestion"] = f"fakeportal-ingestion-{secrets.token_urlsafe(16)}"
        cpp_tokens.issue(self._issued["cpp"])
        ingestion_tokens.issue(self._issued["ingestion"])

    def token(self, api: str) -> str:
        """Return the token this portal issues for ``api`` (``"cpp"`` or ``"ingestion"``)."""
        return self._issued[api]

    def owns(self, path: str) -> bool:
        return self.route_name_of(path) is not None

    @staticmethod
    def route_name_of(path: str) -> str | None:
        return next((name for name, pattern in _ROUTES if pattern.fullmatch(path)), None)

    def route_name(self, request: RecordedRequest) -> str | None:
        return self.route_name_of(request.path)

    def injected(self, failure: Failure) -> Response:
        headers = {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
        body = {"error": "temporarily_unavailable", "error_description": "Injected failure (FakePortal.fail_next)."}
        return Response(failure.status, body, headers)

    def handle(self, request: RecordedRequest) -> Response:
        name, tenant = "", "common"
        for route, pattern in _ROUTES:
            match = pattern.fullmatch(request.path)
            if match is not None:
                name, tenant = route, match.groupdict().get("tenant") or "common"
                break
        if name == "instance-discovery":
            return Response(200, _discovery(tenant))
        if name == "openid-configuration":
            return Response(200, _openid_configuration(tenant))
        if request.method != "POST":
            return Response(405, {"error": "invalid_request", "error_description": "Use POST."}, {"Allow": "POST"})
        form = dict(parse_qsl(request.raw_body.decode("utf-8", "replace"), keep_blank_values=True))
        return self._grant(form, v2=name == "token-v2")

    def _grant(self, form: dict[str, str], *, v2: bool) -> Response:
        if form.get("grant_type") != "client_credentials":
            grant = form.get("grant_type", "")
            return _entra_error(
                400, "unsupported_grant_type", 70003, f"The app requested an unsupported grant type '{grant}'."
            )
        if not form.get("client_id"):
            return _entra_error(
                400, "invalid_request", 900144, "The request body must contain the 'client_id' parameter."
            )
        if not (form.get("client_secret") or form.get("client_assertion")):
            return _entra_error(401, "invalid_client", 7000215, "Invalid client secret provided.")
        wanted = form.get("scope", "") if v2 else form.get("resource", "")
        api = _audience(wanted)
        if api is None:
            what = "scope" if v2 else "resource"
            return _entra_error(
                400,
                "invalid_resource" if not v2 else "invalid_scope",
                500011,
                f"The {what} '{wanted}' was not found in the tenant.",
            )
        now = int(time.time())
        if v2:
            body: dict[str, Any] = {"token_type": "Bearer", "expires_in": LIFETIME, "ext_expires_in": LIFETIME}
        else:  # v1 writes its numbers as strings
            body = {
                "token_type": "Bearer",
                "expires_in": str(LIFETIME),
                "ext_expires_in": str(LIFETIME),
                "expires_on": str(now + LIFETIME),
                "not_before": str(now),
                "resource": wanted,
            }
        body["access_token"] = self._issued[api]
        return Response(200, body, {"Cache-Control": "no-store", "Pragma": "no-cache"})


def _openid_configuration(tenant: str) -> dict[str, Any]:
    return {
        "token_endpoint": f"{HOST}/{tenant}/oauth2/v2.0/token",
        "authorization_endpoint": f"{HOST}/{tenant}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{HOST}/{tenant}/oauth2/v2.0/devicecode",
        "issuer": f"{HOST}/{tenant}/v2.0",
        "jwks_uri": f"{HOST}/{tenant}/discovery/v2.0/keys",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "tenant_region_scope": "NA",
    }


def _discovery(tenant: str) -> dict[str, Any]:
    return {
        "tenant_discovery_endpoint": f"{HOST}/{tenant}/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [
            {
                "preferred_network": "login.microsoftonline.com",
                "preferred_cache": "login.windows.net",
                "aliases": ["login.microsoftonline.com", "login.windows.net", "login.microsoft.com", "sts.windows.net"],
            }
        ],
    }
