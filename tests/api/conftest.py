"""The real app on the test's embedded Postgres, with an HS256 secret and helpers to mint tokens."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from core.embeddings import Embedder
from core.services import Services
from core.settings import Settings
from text.classifier import load_or_fit_default

JWT_SECRET = "test-secret-that-is-long-enough-0123456789"
TokenFactory = Callable[..., dict[str, str]]


@pytest.fixture(scope="session")
def fitted_classifier(embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default classifier fitted once per session (its cache folder), instead of once per app."""
    home = tmp_path_factory.mktemp("classifier_home")
    load_or_fit_default(Settings(home=home, mistral_api_key=None), embedder)
    return home / "classifier"


@pytest.fixture(autouse=True)
def _classifier_in_home(settings: Settings, fitted_classifier: Path) -> None:
    shutil.copytree(fitted_classifier, settings.home / "classifier", dirs_exist_ok=True)


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    """The test's settings with bearer tokens signed by JWT_SECRET."""
    return settings.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})


def bearer(subject: str = "alice", roles: list[str] | None = None, **claims: Any) -> dict[str, str]:
    """An Authorization header with an HS256 token valid for six hours.

    Test modules mint theirs at import, when pytest collects the whole suite, so a token must outlive the run.
    """
    payload = {"sub": subject, "roles": roles or [], "exp": int(time.time()) + 6 * 3600} | claims
    return {"Authorization": f"Bearer {jwt.encode(payload, JWT_SECRET, algorithm='HS256')}"}


@pytest.fixture
def client(api_settings: Settings, services: Services) -> Iterator[TestClient]:
    """The app with the real ticket service, on the test's database."""
    with TestClient(create_app(api_settings, services)) as test_client:
        yield test_client


@pytest.fixture
def agent() -> dict[str, str]:
    """Headers of a support agent."""
    return bearer("agent-1", ["agent"])


@pytest.fixture
def admin() -> dict[str, str]:
    """Headers of an admin."""
    return bearer("root", ["admin"])
