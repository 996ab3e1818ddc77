"""Console sign-in: `POST /auth/login` checks a local user and returns a short-lived HS256 JWT.

Only when DOXA_JWT_SECRET is set (the token is signed with it, so the API's own verifier accepts it);
otherwise the console asks for a pasted token or API key, and `GET /auth/methods` tells it which.
The token carries the configured issuer, audience and roles claim, exactly as an external one would.
"""

from __future__ import annotations

import time
from typing import Any

import jwt
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api.auth.users import MAX_PASSWORD_CHARS, USER_NAME, ConsoleUserStore, LoginLockedError
from api.deps import ServicesDep, SettingsDep
from api.problems import problem_responses
from api.responses import SignInMethods
from core.settings import Settings

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    """A console user's name and password."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USER_NAME.pattern, description="The name given to `doxa user add`.")
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_CHARS, description="The user's password.")


class LoginResponse(BaseModel):
    """A bearer token for the API."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds the token stays valid.")
    subject: str
    roles: list[str]


def issue_token(settings: Settings, subject: str, roles: list[str]) -> str:
    """An HS256 JWT for `subject` with `roles` under the configured roles claim, issuer and audience."""
    if settings.jwt_secret is None:
        raise ValueError("issuing tokens needs DOXA_JWT_SECRET")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + settings.console_token_ttl_s}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    *parents, leaf = settings.jwt_roles_claim.split(".")
    holder = claims
    for part in parents:
        holder = holder.setdefault(part, {})
    holder[leaf] = roles
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@router.get("/methods", responses=problem_responses(500))
async def sign_in_methods(settings: SettingsDep) -> SignInMethods:
    """How the console can sign in: `password` (local users, when a JWT secret is set) and pasted `token`s."""
    return SignInMethods(password=settings.jwt_secret is not None and not settings.auth_disabled, token=True)


@router.post(
    "/login",
    responses=problem_responses(
        401,
        404,
        422,
        429,
        500,
        503,
        _401="unknown user or wrong password",
        _404="local sign-in is off (no DOXA_JWT_SECRET)",
        _429="too many failed sign-ins from this client, or for this name from a client that failed",
    ),
)
async def login(body: LoginRequest, request: Request, services: ServicesDep, settings: SettingsDep) -> LoginResponse:
    """Check a console user's password and return a bearer token valid for DOXA_CONSOLE_TOKEN_TTL_S seconds."""
    if settings.jwt_secret is None:
        raise HTTPException(404, "local sign-in is off: DOXA_JWT_SECRET is not set; paste a token or an API key")
    users = ConsoleUserStore(
        services.db,
        max_failures=settings.console_max_failed_logins,
        lockout_s=settings.console_lockout_s,
        max_client_failures=settings.console_max_failed_logins_per_client,
    )
    client = request.client.host if request.client is not None else None
    try:
        user = await run_in_threadpool(users.authenticate, body.username, body.password, client)
    except LoginLockedError as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after_s)}) from exc
    if user is None:
        raise HTTPException(401, "unknown user or wrong password", headers={"WWW-Authenticate": 'Bearer realm="doxa"'})
    token = issue_token(settings, user.name, user.roles)
    return LoginResponse(
        access_token=token, expires_in=settings.console_token_ttl_s, subject=user.name, roles=user.roles
    )
