"""Bearer-token verification: an HS256 shared secret, or the public keys of an identity provider's JWKS."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt

from api.auth.principal import Principal, known_roles

log = logging.getLogger(__name__)

JwksFetcher = Callable[[], dict[str, Any]]
ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
# An unknown `kid` refetches the key set, but not more often than this, so forged kids cannot flood the provider.
MIN_REFETCH_INTERVAL_S = 10.0


class InvalidTokenError(Exception):
    """The bearer token is missing a part, expired, forged or for someone else; the message says which."""


def http_jwks_fetcher(url: str, timeout_s: float = 5.0) -> JwksFetcher:
    """Fetch a JWKS document over HTTP(S)."""

    def fetch() -> dict[str, Any]:
        response = httpx.get(url, timeout=timeout_s)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return fetch


class JwksKeySource:
    """Signing keys from a JWKS, cached for `ttl_s` and refreshed when a token names an unknown key id."""

    def __init__(self, fetch: JwksFetcher, ttl_s: float) -> None:
        self._fetch = fetch
        self._ttl_s = ttl_s
        self._lock = threading.Lock()
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")

    def key_for(self, kid: str | None) -> jwt.PyJWK:
        """The key that signed a token with this `kid` (the only key when the set has one and no kid is given)."""
        with self._lock:
            now = time.monotonic()
            stale = now - self._fetched_at > self._ttl_s
            unknown = kid is not None and kid not in self._keys
            if stale or (unknown and now - self._fetched_at > MIN_REFETCH_INTERVAL_S):
                self._refresh(now)
            if kid is None:
                if len(self._keys) == 1:
                    return next(iter(self._keys.values()))
                raise InvalidTokenError("the token names no key id (kid)")
            key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError(f"no signing key {kid!r} in the key set")
        return key

    def _refresh(self, now: float) -> None:
        try:
            document = self._fetch()
            key_set = jwt.PyJWKSet.from_dict(document)
        except (httpx.HTTPError, jwt.PyJWKSetError, ValueError) as exc:
            if not self._keys:
                raise InvalidTokenError(f"the signing keys cannot be fetched: {exc.__class__.__name__}") from exc
            log.warning("JWKS refresh failed, keeping the cached keys: %s", exc)
            return
        self._keys = {key.key_id or f"#{index}": key for index, key in enumerate(key_set.keys)}
        self._fetched_at = now


class JwtVerifier:
    """Checks a bearer token's signature, expiry, issuer and audience, and reads its roles."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        jwks: JwksKeySource | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        roles_claim: str = "roles",
    ) -> None:
        if secret is None and jwks is None:
            raise ValueError("a JwtVerifier needs a secret or a JWKS key source")
        self.secret = secret
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience
        self.roles_claim = roles_claim

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; InvalidTokenError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError("the token is not a JWT") from exc
        algorithm = header.get("alg")
        key: Any
        if algorithm == "HS256" and self.secret is not None:
            key, algorithms = self.secret, ["HS256"]
        elif algorithm in ASYMMETRIC_ALGORITHMS and self.jwks is not None:
            key, algorithms = self.jwks.key_for(header.get("kid")), [algorithm]
        else:
            raise InvalidTokenError(f"tokens signed with {algorithm!r} are not accepted")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
                leeway=30,
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidTokenError("the token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"the token is not valid: {exc}") from exc
        return Principal(subject=str(claims["sub"]), roles=known_roles(self._claim(claims)), method="jwt")

    def _claim(self, claims: dict[str, Any]) -> object:
        value: object = claims
        for part in self.roles_claim.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value
