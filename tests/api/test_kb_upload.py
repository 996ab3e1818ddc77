"""POST /kb/documents: admin-only upload, size limit, safe names, all-or-nothing ingestion."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from core.services import Services
from core.settings import Settings
from tests.api.conftest import JWT_SECRET

GUIDE = (
    b"# Proxy guide\n\n## Connection refused\n\n"
    b"When the proxy refuses connections, restart the agent and check port 3128.\n"
)


def uploads(settings: Settings) -> list[str]:
    folder = settings.home / "uploads"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_admin_uploads_a_document_that_becomes_searchable(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    response = client.post(
        "/kb/documents",
        files={"file": ("proxy guide.md", GUIDE, "text/markdown")},
        data={"category": "technique"},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    report = response.json()
    assert report["filename"] == "proxy-guide.md"
    assert report["documents_added"] == 1 and report["chunks_added"] >= 1 and report["failed"] == []
    assert uploads(api_settings) == ["proxy-guide.md"]
    found = client.get("/kb/search", params={"q": "proxy refuses connections"}).json()
    assert found["results"][0]["metadata"]["category"] == "technique"
    again = client.post("/kb/documents", files={"file": ("proxy guide.md", GUIDE)}, headers=admin).json()
    assert again["documents_unchanged"] == 1


def test_upload_needs_an_admin(client: TestClient, agent: dict[str, str]) -> None:
    files = {"file": ("a.md", GUIDE)}
    assert client.post("/kb/documents", files=files).status_code == 401
    assert client.post("/kb/documents", files=files, headers=agent).status_code == 403


def test_a_path_in_the_file_name_stays_inside_the_uploads_folder(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    response = client.post("/kb/documents", files={"file": ("../../etc/évil name.md", GUIDE)}, headers=admin)
    assert response.status_code == 201, response.text
    assert uploads(api_settings) == ["evil-name.md"]
    assert not (api_settings.home / "etc").exists()


def test_unsupported_or_unreadable_files_are_422_and_leave_nothing(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    unsupported = client.post("/kb/documents", files={"file": ("tool.exe", b"MZ\x90\x00")}, headers=admin)
    assert unsupported.status_code == 422 and ".exe" in unsupported.json()["detail"]
    binary = client.post("/kb/documents", files={"file": ("notes.md", b"\x00\x01\x02" * 100)}, headers=admin)
    assert binary.status_code == 422, binary.text
    assert "notes.md cannot be ingested" in binary.json()["detail"]
    empty = client.post("/kb/documents", files={"file": ("empty.md", b"")}, headers=admin)
    assert empty.status_code == 422
    assert uploads(api_settings) == []
    assert client.get("/kb/status").json()["documents"] == 0


def test_a_bad_new_version_keeps_the_good_one(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    assert client.post("/kb/documents", files={"file": ("guide.md", GUIDE)}, headers=admin).status_code == 201
    broken = client.post("/kb/documents", files={"file": ("guide.md", b"# Only a heading\n")}, headers=admin)
    assert broken.status_code == 422
    assert (api_settings.home / "uploads" / "guide.md").read_bytes() == GUIDE
    assert uploads(api_settings) == ["guide.md"]
    assert client.get("/kb/status").json()["chunks"] >= 1


def test_a_file_over_the_size_limit_is_413(settings: Settings, services: Services, admin: dict[str, str]) -> None:

    small = settings.model_copy(update={"max_file_bytes": 1000, "jwt_secret": SecretStr(JWT_SECRET)})
    with TestClient(create_app(small, services)) as client:
        declared = client.post(
            "/kb/documents", files={"file": ("big.md", b"# Big\n\n" + b"a" * 200_000)}, headers=admin
        )
        assert declared.status_code == 413
        # Under the request limit (file + multipart framing) but over the file limit.
        framed = client.post("/kb/documents", files={"file": ("big.md", b"# Big\n\n" + b"a" * 2_000)}, headers=admin)
        assert framed.status_code == 413
        assert framed.headers["content-type"].startswith("application/problem+json")
    assert uploads(small) == []


def test_a_chunked_body_without_length_is_still_limited(client: TestClient, agent: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"subject": "x", "body": "'
        for _ in range(400):
            yield b"y" * 1024
        yield b'"}'

    response = client.post("/tickets", content=chunks(), headers=agent | {"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["status"] == 413


def test_a_nul_byte_after_the_first_8_kib_is_a_422_and_leaves_no_vector(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    vectors_before = client.get("/kb/status").json()["vector_store"]["vector_count"]
    deep = b"# Notes\n\n" + b"Restart the agent. " * 600 + b"\x00tail\n"
    response = client.post("/kb/documents", files={"file": ("notes.md", deep)}, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "binary file" in response.json()["detail"] and response.headers.get("x-request-id")
    assert client.get("/kb/status").json()["vector_store"]["vector_count"] == vectors_before
    assert uploads(api_settings) == []


def test_the_upload_report_shows_no_server_path(
    client: TestClient, admin: dict[str, str], api_settings: Settings
) -> None:
    response = client.post("/kb/documents", files={"file": ("proxy.md", GUIDE)}, headers=admin)
    assert response.status_code == 201, response.text
    assert response.json()["source"] == "Proxy guide"
    assert str(api_settings.home) not in response.text
    found = client.get("/kb/search", params={"q": "proxy refuses connections"})
    assert str(api_settings.home) not in found.text
