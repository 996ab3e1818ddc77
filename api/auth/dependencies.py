"""FastAPI dependencies: the caller's principal, `require(role, ...)`, and the start-up checks of auth settings."""

from __future__ import annotations

import logging
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.auth.api_keys import ApiKeyStore
from api.auth.principal import ROLES, Principal
from api.auth.tokens import InvalidTokenError, JwksFetcher, JwksKeySource, JwtVerifier, http_jwks_fetcher
from core.database import Database
from core.errors import ConfigurationError
from core.settings import Settings

log = logging.getLogger(__name__)

MIN_SECRET_BYTES = 32
PLACEHOLDER_SECRETS = {"changeme", "change-me", "change_me", "secret", "placeholder", "replace-me", "dev-secret"}
AUTH_DISABLED_WARNING = (
    "AUTHENTICATION IS DISABLED (DOXA_AUTH_DISABLED=true): every caller of this API is an admin. "
    "Never expose this process beyond your machine."
)

_bearer = HTTPBearer(auto_error=False, description="A JWT signed with DOXA_JWT_SECRET or a DOXA_JWT_JWKS_URL key.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="A key made by `doxa apikey create`.")


@dataclass
class Authenticator:
    """How this app authenticates: disabled, or bearer tokens (when configured) and API keys."""

    disabled: bool
    tokens: JwtVerifier | None
    api_keys: ApiKeyStore

    @classmethod
    def from_settings(cls, settings: Settings, db: Database, jwks_fetcher: JwksFetcher | None = None) -> Authenticator:
        """The authenticator the settings describe (check them first with `check_auth_settings`)."""
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        jwks = None
        if settings.jwt_jwks_url or jwks_fetcher:
            fetch = jwks_fetcher or http_jwks_fetcher(str(settings.jwt_jwks_url))
            jwks = JwksKeySource(fetch, ttl_s=settings.jwt_jwks_cache_s)
        tokens = None
        if secret or jwks:
            tokens = JwtVerifier(
                secret=secret or None,
                jwks=jwks,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
                roles_claim=settings.jwt_roles_claim,
            )
        return cls(disabled=settings.auth_disabled, tokens=tokens, api_keys=ApiKeyStore(db))


def check_auth_settings(settings: Settings) -> None:
    """Refuse unsafe auth settings in production; warn loudly (log and console) when auth is disabled elsewhere."""
    refuse_unsafe_auth(settings)
    if settings.auth_disabled:
        log.warning(AUTH_DISABLED_WARNING)
        sys.stderr.write(f"\n!!! WARNING: {AUTH_DISABLED_WARNING}\n\n")


def refuse_unsafe_auth(settings: Settings) -> None:
    """ConfigurationError for auth settings production must not run with (auth off, a short or placeholder secret)."""
    if settings.environment != "production":
        return
    if settings.auth_disabled:
        raise ConfigurationError("DOXA_AUTH_DISABLED=true is refused in production: configure JWT or API keys")
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
        if secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ConfigurationError(
                f"DOXA_JWT_SECRET must be at least {MIN_SECRET_BYTES} random bytes and not a placeholder in production"
            )


def _unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="doxa"' + (f', error="{error}"' if error else "")
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": challenge})


_ANONYMOUS_ADMIN = Principal(subject="anonymous", roles=frozenset({"admin"}), method="auth_disabled")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The authenticated caller; 401 problem+json with a WWW-Authenticate challenge otherwise."""
    authenticator: Authenticator = request.app.state.authenticator
    if authenticator.disabled:
        return _ANONYMOUS_ADMIN
    if api_key:
        principal = await run_in_threadpool(authenticator.api_keys.authenticate, api_key)
        if principal is None:
            raise _unauthorized("the API key is not valid or was revoked", "invalid_token")
        return principal
    if credentials is None:
        raise _unauthorized("authentication required: a bearer token or an X-API-Key header")
    if authenticator.tokens is None:
        raise _unauthorized("bearer tokens are not configured on this server; use an API key", "invalid_token")
    try:
        # A JWKS refresh is a blocking HTTP call: keep it off the event loop.
        return await run_in_threadpool(authenticator.tokens.verify, credentials.credentials)
    except InvalidTokenError as exc:
        raise _unauthorized(str(exc), "invalid_token") from exc


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through callers holding one of `roles` (admin always) and answers 403 to others."""
    unknown = set(roles) - ROLES
    if unknown or not roles:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    wanted = frozenset(roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(wanted):
            raise HTTPException(status_code=403, detail=f"this needs one of the roles: {', '.join(sorted(wanted))}")
        return principal

    return check
