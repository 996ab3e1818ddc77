"""Console sign-in (local users, tokens, lockout), the `doxa user` commands, and the console's page and headers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.auth.users import ConsoleUserStore, hash_password, verify_password
from api.routes import console as console_routes
from cli import user as user_cli
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.services import Services
from core.settings import Settings
from tests.api.conftest import JWT_SECRET
from tests.api.test_faq_api import stage

PASSWORD = "correct horse battery staple"
CONSOLE_DIR = Path(console_routes.__file__).resolve().parents[1] / "console"


@pytest.fixture
def users(services: Services) -> ConsoleUserStore:
    store = ConsoleUserStore(services.db, max_failures=3, lockout_s=600)
    store.add("rita", PASSWORD, ["reviewer"])
    return store


def login(client: TestClient, name: str = "rita", password: str = PASSWORD) -> tuple[int, dict[str, object]]:
    response = client.post("/auth/login", json={"username": name, "password": password})
    return response.status_code, response.json()


def test_password_hashes_are_salted_scrypt_and_verify() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "!", first)
    assert not verify_password(PASSWORD, "garbage") and not verify_password(PASSWORD, "md5$x$y$z$a$b")


def test_login_returns_a_token_the_api_accepts_as_that_reviewer(
    client: TestClient, users: ConsoleUserStore, services: Services
) -> None:
    status, body = login(client)

    assert status == 200, body
    assert body["subject"] == "rita" and body["roles"] == ["reviewer"] and body["token_type"] == "bearer"
    claims = jwt.decode(str(body["access_token"]), JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == "rita" and claims["roles"] == ["reviewer"]
    assert claims["exp"] - claims["iat"] == services.settings.console_token_ttl_s
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    candidate = stage(services, ["T-1"])
    reviewed = client.post(
        f"/staging-faq/{candidate}/review", json={"decision": "approve", "reviewed_by": "someone"}, headers=headers
    )
    assert reviewed.status_code == 200 and reviewed.json()["reviewed_by"] == "rita"
    assert client.post("/tickets", json={"subject": "x", "body": "y"}, headers=headers).status_code == 403
    assert users.list()[0].last_login_at is not None


def test_wrong_password_and_unknown_user_get_the_same_401(client: TestClient, users: ConsoleUserStore) -> None:
    wrong_status, wrong = login(client, password="not the password")
    unknown_status, unknown = login(client, name="nobody")
    assert (wrong_status, unknown_status) == (401, 401)
    assert wrong["detail"] == unknown["detail"] == "unknown user or wrong password"
    assert client.post("/auth/login", json={"username": "rita"}).status_code == 422
    assert client.post("/auth/login", json={"username": "", "password": "x"}).status_code == 422


def test_failed_logins_lock_the_name_then_even_the_right_password_waits(
    client: TestClient, users: ConsoleUserStore, services: Services
) -> None:
    # The app reads its limits from the settings: 5 by default.
    for _ in range(services.settings.console_max_failed_logins):
        assert login(client, password="wrong guess")[0] == 401
    locked = client.post("/auth/login", json={"username": "rita", "password": PASSWORD})
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= services.settings.console_lockout_s
    # A lockout is per name: another user signs in, and an admin can clear it.
    users.add("bob", PASSWORD, ["reviewer"])
    assert login(client, name="bob")[0] == 200
    users.unlock("rita")
    assert login(client)[0] == 200


def test_a_success_clears_the_failure_count(users: ConsoleUserStore) -> None:
    assert users.authenticate("rita", "wrong") is None
    assert users.authenticate("rita", "wrong") is None
    assert users.authenticate("rita", PASSWORD) is not None
    assert users.authenticate("rita", "wrong") is None
    assert users.authenticate("rita", "wrong") is None
    assert users.authenticate("rita", PASSWORD) is not None  # 2 failures since the success: below 3


def test_unknown_names_are_locked_too(users: ConsoleUserStore) -> None:
    from api.auth.users import LoginLockedError

    for _ in range(3):
        assert users.authenticate("ghost", "guess") is None
    with pytest.raises(LoginLockedError):
        users.authenticate("ghost", "guess")


def test_user_store_validates_names_roles_passwords(users: ConsoleUserStore) -> None:
    with pytest.raises(ConflictError):
        users.add("rita", PASSWORD, ["reviewer"])
    with pytest.raises(InvalidInputError):
        users.add("bad name", PASSWORD, ["reviewer"])
    with pytest.raises(InvalidInputError):
        users.add("carol", PASSWORD, ["wizard"])
    with pytest.raises(InvalidInputError):
        users.add("carol", "short", ["reviewer"])
    users.remove("rita")
    with pytest.raises(NotFoundError):
        users.remove("rita")


def test_login_is_off_without_a_jwt_secret(settings: Settings, services: Services) -> None:
    with TestClient(create_app(settings, services)) as client:
        assert client.get("/auth/methods").json() == {"password": False, "token": True}
        refused = client.post("/auth/login", json={"username": "rita", "password": PASSWORD})
        assert refused.status_code == 404 and "DOXA_JWT_SECRET" in refused.json()["detail"]


def test_methods_offer_passwords_with_a_secret(client: TestClient) -> None:
    assert client.get("/auth/methods").json() == {"password": True, "token": True}


def test_the_console_is_served_with_a_strict_csp(client: TestClient) -> None:
    page = client.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert '<script src="console.js"' in page.text and "<script>" not in page.text
    assert "style=" not in page.text  # inline styles would be blocked by the CSP
    script = client.get("/console/console.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/console/console.css").headers["content-type"].startswith("text/css")
    redirect = client.get("/console", follow_redirects=False)
    assert redirect.status_code == 308 and redirect.headers["location"] == "/console/"
    assert client.get("/console/secrets.txt").status_code == 404


def test_the_script_never_writes_html() -> None:
    # User text (a candidate's question, a ticket's subject) is written with textContent only.
    script = (CONSOLE_DIR / "console.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", script)


@pytest.fixture
def cli_users(services: Services, monkeypatch: pytest.MonkeyPatch) -> ConsoleUserStore:
    store = ConsoleUserStore(services.db)

    @contextmanager
    def open_users() -> Iterator[ConsoleUserStore]:
        yield store

    monkeypatch.setattr(user_cli, "_users", open_users)
    return store


def test_doxa_user_add_list_remove(cli_users: ConsoleUserStore) -> None:
    runner = CliRunner()
    added = runner.invoke(user_cli.app, ["add", "alice", "--role", "reviewer"], input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert cli_users.authenticate("alice", PASSWORD) is not None

    listed = runner.invoke(user_cli.app, ["list", "--json"])
    assert listed.exit_code == 0 and '"name": "alice"' in listed.stdout and "scrypt" not in listed.stdout

    duplicate = runner.invoke(user_cli.app, ["add", "alice", "--role", "reviewer"], input=PASSWORD + "\n")
    assert isinstance(duplicate.exception, ConflictError)
    short = runner.invoke(user_cli.app, ["add", "bob", "--role", "reviewer"], input="short\n")
    assert isinstance(short.exception, InvalidInputError)

    assert runner.invoke(user_cli.app, ["remove", "alice"]).exit_code == 0
    assert cli_users.list() == []


def test_login_refuses_names_that_cannot_exist(client: TestClient) -> None:
    for name in ("a\x00b", "with space", "x" * 101):
        assert client.post("/auth/login", json={"username": name, "password": PASSWORD}).status_code == 422


def test_a_locked_name_still_admits_the_right_password_from_a_client_that_did_not_guess(
    users: ConsoleUserStore,
) -> None:
    from api.auth.users import LoginLockedError

    for _ in range(users.max_failures):
        assert users.authenticate("rita", "wrong guess", client="203.0.113.9") is None
    with pytest.raises(LoginLockedError):
        users.authenticate("rita", PASSWORD, client="203.0.113.9")  # the guessing client waits
    assert users.authenticate("rita", PASSWORD, client="198.51.100.7") is not None  # the real user does not


def test_guesses_spread_over_many_names_lock_the_client(users: ConsoleUserStore) -> None:
    from api.auth.users import LoginLockedError

    spread = ConsoleUserStore(users.db, max_failures=5, lockout_s=900, max_client_failures=6)
    for n in range(6):
        assert spread.authenticate(f"name-{n}", "guess", client="203.0.113.50") is None
    with pytest.raises(LoginLockedError):
        spread.authenticate("rita", PASSWORD, client="203.0.113.50")
    assert spread.authenticate("rita", PASSWORD, client="198.51.100.8") is not None
