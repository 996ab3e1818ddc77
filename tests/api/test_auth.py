"""Authentication and roles: bearer tokens (HS256 and JWKS), API keys, auth disabled, production refusals."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.auth.api_keys import ApiKeyStore, hash_key
from api.auth.dependencies import AUTH_DISABLED_WARNING
from core.errors import ConfigurationError
from core.services import Services
from core.settings import Settings
from tests.api.conftest import JWT_SECRET, bearer

NEW_TICKET = {"subject": "Password reset", "body": "The reset link never arrives."}


def assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith('Bearer realm="doxa"')


def test_missing_expired_and_forged_tokens_are_401_with_a_challenge(client: TestClient) -> None:
    assert_unauthorized(client.post("/tickets", json=NEW_TICKET))
    assert_unauthorized(client.get("/tickets"))
    expired = bearer("bob", ["agent"], exp=int(time.time()) - 3600)
    response = client.get("/tickets", headers=expired)
    assert_unauthorized(response)
    assert "expired" in response.json()["detail"]
    forged = jwt.encode({"sub": "bob", "roles": ["admin"], "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
    response = client.get("/tickets", headers={"Authorization": f"Bearer {forged}"})
    assert_unauthorized(response)
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert_unauthorized(client.get("/tickets", headers={"Authorization": "Bearer not-a-jwt"}))
    unsigned = jwt.encode({"sub": "bob", "roles": ["admin"], "exp": int(time.time()) + 60}, None, algorithm="none")
    assert_unauthorized(client.get("/tickets", headers={"Authorization": f"Bearer {unsigned}"}))


def test_wrong_role_is_403_and_admin_holds_every_role(client: TestClient) -> None:
    nobody = bearer("eve", ["viewer"])
    assert client.get("/tickets", headers=nobody).status_code == 403
    assert client.get("/tickets", headers=bearer("root", ["admin"])).status_code == 200
    assert (
        client.post(
            "/kb/documents", files={"file": ("a.md", b"# A\n\ntext")}, headers=bearer("a", ["agent"])
        ).status_code
        == 403
    )


def test_operations_and_docs_stay_open(client: TestClient) -> None:
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}


def test_issuer_audience_and_a_nested_roles_claim(api_settings: Settings, services: Services) -> None:
    settings = api_settings.model_copy(
        update={"jwt_issuer": "https://id.example", "jwt_audience": "doxa", "jwt_roles_claim": "realm_access.roles"}
    )
    claims = {"iss": "https://id.example", "aud": "doxa", "realm_access": {"roles": ["agent"]}}
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/tickets", headers=bearer("amy", [], **claims)).status_code == 200
        assert_unauthorized(client.get("/tickets", headers=bearer("amy", [], **claims | {"iss": "https://evil"})))
        assert_unauthorized(client.get("/tickets", headers=bearer("amy", [], **claims | {"aud": "other"})))
        assert (
            client.get("/tickets", headers=bearer("amy", ["agent"], iss="https://id.example", aud="doxa")).status_code
            == 403
        )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [public | {"kid": kid, "use": "sig", "alg": "RS256"}]}


def rs256(key: rsa.RSAPrivateKey, kid: str, roles: list[str]) -> dict[str, str]:
    token = jwt.encode(
        {"sub": "svc", "roles": roles, "exp": int(time.time()) + 60}, key, algorithm="RS256", headers={"kid": kid}
    )
    return {"Authorization": f"Bearer {token}"}


def test_jwks_keys_are_fetched_once_cached_and_refreshed_for_a_new_key_id(
    settings: Settings, services: Services, rsa_key: rsa.RSAPrivateKey
) -> None:
    fetches: list[float] = []
    current = {"document": jwks_of(rsa_key, "k1")}

    def fetch() -> dict[str, Any]:
        fetches.append(time.monotonic())
        return current["document"]

    with TestClient(create_app(settings, services, jwks_fetcher=fetch)) as client:
        assert client.get("/tickets", headers=rs256(rsa_key, "k1", ["service"])).status_code == 200
        assert client.get("/tickets", headers=rs256(rsa_key, "k1", ["service"])).status_code == 200
        assert len(fetches) == 1
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert_unauthorized(client.get("/tickets", headers=rs256(other, "k1", ["service"])))  # forged with kid k1
        # An unknown key id refetches (rate-limited); the rotated set holds k2 now.
        current["document"] = jwks_of(other, "k2")
        client.app.state.authenticator.tokens.jwks._fetched_at -= 60  # type: ignore[attr-defined]
        assert client.get("/tickets", headers=rs256(other, "k2", ["service"])).status_code == 200
        assert len(fetches) == 2


@pytest.fixture
def jwks_server(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    """A JWKS endpoint on loopback, like an identity provider's."""
    body = json.dumps(jwks_of(rsa_key, "lo")).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def test_jwks_url_is_fetched_over_http(
    settings: Settings, services: Services, rsa_key: rsa.RSAPrivateKey, jwks_server: str
) -> None:
    with TestClient(create_app(settings.model_copy(update={"jwt_jwks_url": jwks_server}), services)) as client:
        assert (
            client.post(
                "/tickets", json={"subject": "", "body": ""}, headers=rs256(rsa_key, "lo", ["agent"])
            ).status_code
            == 422
        )
        assert client.get("/tickets", headers=rs256(rsa_key, "lo", ["reviewer"])).status_code == 200


def test_api_keys_authenticate_until_revoked_and_only_their_hash_is_stored(
    client: TestClient, services: Services
) -> None:
    store = ApiKeyStore(services.db)
    key, record = store.create("zendesk-bridge", ["service"])
    assert key.startswith("doxa_") and record.key_prefix == key[:12]
    with services.db.connection() as conn:
        row = conn.execute("SELECT key_hash FROM api_key WHERE name = 'zendesk-bridge'").fetchone()
    assert row is not None and row["key_hash"] == hash_key(key) and key not in row["key_hash"]
    assert client.get("/tickets", headers={"X-API-Key": key}).status_code == 200
    assert store.list()[0].last_used_at is not None
    assert client.post("/kb/documents", files={"file": ("a.md", b"# A")}, headers={"X-API-Key": key}).status_code == 403
    assert_unauthorized(client.get("/tickets", headers={"X-API-Key": key + "x"}))
    store.revoke("zendesk-bridge")
    assert_unauthorized(client.get("/tickets", headers={"X-API-Key": key}))
    assert store.list() == [] and len(store.list(include_revoked=True)) == 1


def test_api_key_names_are_unique_and_roles_known(services: Services) -> None:
    from core.errors import ConflictError, InvalidInputError

    store = ApiKeyStore(services.db)
    store.create("bot", ["agent"])
    with pytest.raises(ConflictError):
        store.create("bot", ["agent"])
    with pytest.raises(InvalidInputError):
        store.create("other", ["superuser"])


def test_auth_disabled_in_demo_warns_loudly_and_lets_callers_in(
    settings: Settings, services: Services, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with (
        caplog.at_level(logging.WARNING),
        TestClient(create_app(settings.model_copy(update={"auth_disabled": True}), services)) as client,
    ):
        assert client.get("/tickets").status_code == 200
    assert AUTH_DISABLED_WARNING in caplog.text
    assert "AUTHENTICATION IS DISABLED" in capsys.readouterr().err


@pytest.mark.parametrize(
    "update",
    [
        {"auth_disabled": True},
        {"jwt_secret": SecretStr("short")},
        {"jwt_secret": SecretStr("changeme")},
    ],
)
def test_production_refuses_unsafe_auth(settings: Settings, services: Services, update: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        create_app(settings.model_copy(update={"environment": "production"} | update), services)


def test_production_accepts_a_long_secret(settings: Settings, services: Services) -> None:
    production = settings.model_copy(update={"environment": "production", "jwt_secret": SecretStr(JWT_SECRET)})
    assert create_app(production, services).title == "Doxa"
