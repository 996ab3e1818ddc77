"""Ingestion against the real embedded Postgres, both vector back ends and the real model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr
from reportlab.pdfgen import canvas

from core.errors import InvalidInputError
from core.services import Services
from kb.ingest import KnowledgeBaseIngestor
from kb.repository import KnowledgeBaseRepository
from kb.retrieval import HybridRetriever
from kb.vector_store.base import SearchFilter, VectorPoint
from kb.vector_store.factory import open_vector_store

BILLING = "# Billing\n\n## Refunds\n\nRefunds are paid back to the card used within ten days.\n\n" + (
    "## Invoices\n\nInvoices are e-mailed on the first day of every month. " * 1
)
LOGIN = "# Login help\n\nIf you forgot your password, use the reset link on the sign-in page.\n"
RELAYS = "# Relays\n\n" + "\n\n".join(
    f"Paragraph {i}: a relay forwards traffic for other users and needs a stable connection." for i in range(12)
)


class EncodeCounter:
    """Counts texts that reach the model (cache misses)."""

    def __init__(self, services: Services) -> None:
        self.texts = 0
        embedder = services.embedder
        original = embedder.encode

        def counting_encode(texts: Sequence[str]):  # type: ignore[no-untyped-def]
            self.texts += len(texts)
            return original(texts)

        embedder.encode = counting_encode  # type: ignore[method-assign]


@pytest.fixture(params=["qdrant", "pgvector"])
def kb_services(request: pytest.FixtureRequest, services: Services) -> Services:
    services.settings = services.settings.model_copy(update={"vector_backend": request.param})
    return services


@pytest.fixture
def ingestor(kb_services: Services) -> KnowledgeBaseIngestor:
    return KnowledgeBaseIngestor.from_services(kb_services)


@pytest.fixture
def helpdocs(tmp_path: Path) -> Path:
    folder = tmp_path / "help"
    folder.mkdir()
    (folder / "billing.md").write_text(BILLING, encoding="utf-8")
    (folder / "login.md").write_text(LOGIN, encoding="utf-8")
    (folder / "relays.md").write_text(RELAYS, encoding="utf-8")
    return folder


def chunk_ids_by_source(repo: KnowledgeBaseRepository) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for chunk in repo.iter_chunks():
        found.setdefault(Path(chunk.source).name, set()).add(chunk.id)
    return found


def test_first_ingest_stores_documents_sections_chunks_and_vectors(
    ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    report = ingestor.run([helpdocs])

    counts = ingestor.repository.counts()
    assert (report.files_read, report.documents_added, report.failed) == (3, 3, [])
    assert report.chunks_added == counts.chunks == ingestor.store.count() > 3
    assert counts.documents == 3 and counts.sections >= 4 and counts.revision == 3
    assert ingestor.store.ids() == ingestor.repository.chunk_ids()
    refund = next(c for c in ingestor.repository.iter_chunks() if "Refunds are paid" in c.text)
    assert (refund.section_path, refund.title, refund.page) == ("Billing > Refunds", "Billing", None)
    section = ingestor.repository.fetch_section(refund.section_id or "")
    assert section is not None and "Refunds are paid" in section.text


def test_reingesting_an_unchanged_directory_writes_nothing(
    kb_services: Services, ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    first = ingestor.run([helpdocs])
    revision, ids = ingestor.repository.revision(), ingestor.store.ids()
    counter = EncodeCounter(kb_services)

    again = ingestor.run([helpdocs])

    assert counter.texts == 0
    assert ingestor.repository.revision() == revision
    assert ingestor.store.ids() == ids
    assert (again.documents_unchanged, again.chunks_unchanged, again.chunks_added) == (3, first.chunks_added, 0)


def test_a_changed_file_replaces_only_its_own_changed_chunks(
    kb_services: Services, ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs])
    before = chunk_ids_by_source(ingestor.repository)
    (helpdocs / "relays.md").write_text(RELAYS + "\n\nA brand new closing paragraph about exits.", encoding="utf-8")
    counter = EncodeCounter(kb_services)

    report = ingestor.run([helpdocs])

    after = chunk_ids_by_source(ingestor.repository)
    assert (report.documents_updated, report.documents_unchanged) == (1, 2)
    assert after["billing.md"] == before["billing.md"] and after["login.md"] == before["login.md"]
    kept = after["relays.md"] & before["relays.md"]
    assert kept, "unchanged passages keep their ids"
    assert report.chunks_added == len(after["relays.md"] - kept) == counter.texts > 0
    assert report.chunks_removed == len(before["relays.md"] - kept)
    assert ingestor.store.ids() == ingestor.repository.chunk_ids()


def test_prune_removes_documents_whose_files_are_gone(ingestor: KnowledgeBaseIngestor, helpdocs: Path) -> None:
    ingestor.run([helpdocs])
    login_ids = chunk_ids_by_source(ingestor.repository)["login.md"]
    (helpdocs / "login.md").unlink()

    without_prune = ingestor.run([helpdocs])
    assert without_prune.documents_removed == 0 and "login.md" in chunk_ids_by_source(ingestor.repository)

    report = ingestor.run([helpdocs], prune=True)

    assert (report.documents_removed, report.chunks_removed) == (1, len(login_ids))
    assert "login.md" not in chunk_ids_by_source(ingestor.repository)
    assert not login_ids & ingestor.store.ids()


def test_prune_only_looks_inside_the_given_directories(
    ingestor: KnowledgeBaseIngestor, helpdocs: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "faq.md").write_text("# FAQ\n\nAnswers to frequent questions about accounts.", encoding="utf-8")
    ingestor.run([helpdocs, other])

    report = ingestor.run([helpdocs], prune=True)

    assert report.documents_removed == 0
    assert ingestor.repository.counts().documents == 4


def test_a_file_that_fails_on_reingest_keeps_its_previous_chunks(
    ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs])
    before = chunk_ids_by_source(ingestor.repository)
    (helpdocs / "login.md").write_bytes("# Connexion\n\nMot de passe oublié".encode("latin-1"))
    (helpdocs / "billing.md").write_text(BILLING + "\n\nNew: refunds for annual plans.", encoding="utf-8")

    report = ingestor.run([helpdocs])

    assert [(Path(f.path).name, f.reason.split(" (")[0]) for f in report.failed] == [("login.md", "not UTF-8 text")]
    assert report.documents_updated == 1
    after = chunk_ids_by_source(ingestor.repository)
    assert after["login.md"] == before["login.md"]
    assert before["login.md"] <= ingestor.store.ids()


def test_bad_files_are_reported_and_the_rest_of_the_batch_is_ingested(kb_services: Services, tmp_path: Path) -> None:
    kb_services.settings = kb_services.settings.model_copy(update={"max_file_bytes": 2_000})
    ingestor = KnowledgeBaseIngestor.from_services(kb_services)
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.md").write_text(LOGIN, encoding="utf-8")
    (folder / "empty.md").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + b"\x13garbage" * 50)
    (folder / "huge.md").write_text("# Huge\n\n" + "text " * 1_000, encoding="utf-8")
    (folder / "headings.md").write_text("# Only\n\n## Headings\n", encoding="utf-8")
    (folder / "photo.png").write_bytes(b"\x89PNG")

    report = ingestor.run([folder])

    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert set(reasons) == {"empty.md", "binary.txt", "broken.pdf", "huge.md", "headings.md"}
    assert reasons["empty.md"] == "empty file"
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["broken.pdf"].startswith("corrupt or unreadable PDF")
    assert reasons["huge.md"].startswith("file too large")
    assert [Path(p).name for p in report.skipped] == ["photo.png"]
    assert (report.files_read, report.documents_added) == (2, 1)
    assert ingestor.repository.counts().documents == 1


def test_pdf_chunks_carry_their_page_numbers(ingestor: KnowledgeBaseIngestor, tmp_path: Path) -> None:
    path = tmp_path / "manual.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Relay Manual")
    for line in ["Relays need a stable connection.", "", "Bridges are unlisted relays."]:
        if line:
            pdf.drawString(72, 720, line)
        pdf.showPage()
    pdf.save()

    report = ingestor.run([path])

    chunks = sorted(ingestor.repository.iter_chunks(), key=lambda c: c.ordinal)
    assert [(c.page, c.title) for c in chunks] == [(1, "Relay Manual"), (3, "Relay Manual")]
    assert report.pages_without_text == {str(path): [2]}


def test_category_filters_and_survives_reingest_without_embedding(
    kb_services: Services, ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs / "billing.md"], category="billing")
    ingestor.run([helpdocs / "login.md"], category="account")
    query = kb_services.embedder.embed_query("forgot password")

    hits = ingestor.store.search(query, top_k=5, filters=SearchFilter(category="billing"))
    assert hits and {h.payload["category"] for h in hits} == {"billing"}

    assert ingestor.run([helpdocs / "billing.md"]).documents_unchanged == 1
    counter = EncodeCounter(kb_services)
    relabel = ingestor.run([helpdocs / "billing.md"], category="payments")

    assert counter.texts == 0
    assert relabel.chunks_updated == len(hits) and relabel.chunks_added == 0
    relabelled = ingestor.store.search(query, top_k=5, filters=SearchFilter(category="payments"))
    assert {h.id for h in relabelled} == {h.id for h in hits}


def test_rebuild_recreates_every_vector_from_the_cache(
    kb_services: Services, ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs])
    ids = ingestor.store.ids()
    counter = EncodeCounter(kb_services)

    written = ingestor.rebuild(batch_size=4)

    assert written == len(ids) and ingestor.store.ids() == ids
    assert counter.texts == 0


def test_an_empty_vector_store_is_refilled_from_stored_chunks(
    kb_services: Services, ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs])
    other_store = open_vector_store(kb_services, "kb_switched")
    switched = KnowledgeBaseIngestor.from_services(kb_services, store=other_store)
    counter = EncodeCounter(kb_services)

    report = switched.run([helpdocs])

    assert report.vectors_rebuilt == len(ingestor.repository.chunk_ids()) == other_store.count()
    assert (report.documents_unchanged, counter.texts) == (3, 0)
    assert switched.run([helpdocs]).vectors_rebuilt == 0


def test_a_failed_write_leaves_the_previous_version_and_no_stray_vectors(
    ingestor: KnowledgeBaseIngestor, helpdocs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingestor.run([helpdocs])
    before = chunk_ids_by_source(ingestor.repository)
    (helpdocs / "login.md").write_text(LOGIN + "\nAlso: two-factor codes expire after 30 seconds.", encoding="utf-8")

    def crash(*args: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(ingestor.repository, "replace_document", crash)
    with pytest.raises(RuntimeError):
        ingestor.run([helpdocs])
    monkeypatch.undo()

    assert chunk_ids_by_source(ingestor.repository) == before
    # The failed attempt took its own vectors with it (one document is all-or-nothing), so gc has nothing left.
    assert ingestor.store.ids() == ingestor.repository.chunk_ids()
    assert ingestor.gc() == 0
    assert ingestor.run([helpdocs]).documents_updated == 1


def test_gc_removes_vectors_a_killed_write_left_behind(ingestor: KnowledgeBaseIngestor, helpdocs: Path) -> None:
    ingestor.run([helpdocs])
    stray = "00000000-0000-4000-8000-000000000001"
    # A process killed between writing vectors and their rows leaves vectors no chunk refers to.
    ingestor.store.upsert([VectorPoint(stray, _unit_vector(ingestor), {})])

    assert ingestor.gc() == 1
    assert ingestor.store.ids() == ingestor.repository.chunk_ids()


def _unit_vector(ingestor: KnowledgeBaseIngestor) -> np.ndarray:
    vector = np.zeros(ingestor.store.dimension, dtype=np.float32)
    vector[0] = 1.0
    return vector


def test_delete_source_forgets_one_file(ingestor: KnowledgeBaseIngestor, helpdocs: Path) -> None:
    ingestor.run([helpdocs])
    login_ids = chunk_ids_by_source(ingestor.repository)["login.md"]

    assert ingestor.delete_source(helpdocs / "login.md") == len(login_ids)
    assert not login_ids & ingestor.store.ids()
    assert ingestor.repository.get_document(str(helpdocs / "login.md")) is None


def test_a_missing_path_is_refused_before_anything_is_written(ingestor: KnowledgeBaseIngestor, helpdocs: Path) -> None:
    with pytest.raises(InvalidInputError, match="path not found"):
        ingestor.run([helpdocs, helpdocs / "nope"])
    assert ingestor.repository.counts().documents == 0


def test_fetch_chunks_keeps_the_order_asked_and_skips_unknown_ids(
    ingestor: KnowledgeBaseIngestor, helpdocs: Path
) -> None:
    ingestor.run([helpdocs])
    ids = sorted(ingestor.repository.chunk_ids())[:3]
    unknown = "00000000-0000-4000-8000-000000000000"

    chunks = ingestor.repository.fetch_chunks([ids[2], unknown, ids[0]])

    assert [c.id for c in chunks] == [ids[2], ids[0]]
    assert all(c.title and c.source.endswith(".md") and c.section_id for c in chunks)


def test_ocr_is_wired_only_when_a_mistral_key_is_set(kb_services: Services) -> None:
    assert KnowledgeBaseIngestor.from_services(kb_services).ocr is None

    kb_services.settings = kb_services.settings.model_copy(update={"mistral_api_key": SecretStr("sk-test")})

    assert callable(KnowledgeBaseIngestor.from_services(kb_services).ocr)


def test_documents_are_cited_by_their_public_url_never_their_path(kb_services: Services, tmp_path: Path) -> None:
    folder = tmp_path / "help"
    (folder / "connecting").mkdir(parents=True)
    (folder / "connecting" / "proxy.md").write_text(
        "---\nurl: https://support.example.org/proxy/\n---\n# Proxy errors\n\nDisable the antivirus and restart.\n",
        encoding="utf-8",
    )
    (folder / "connecting" / "bridges.md").write_text("# Bridges\n\nUse a bridge when Tor is blocked.\n", "utf-8")
    (tmp_path / "alone.md").write_text("# Alone\n\nA file given on its own is cited by its title.\n", "utf-8")
    kb_services.settings = kb_services.settings.model_copy(update={"kb_base_url": "https://help.example.com/kb/"})
    KnowledgeBaseIngestor.from_services(kb_services).run([folder, tmp_path / "alone.md"])

    repository = KnowledgeBaseRepository(kb_services.db)
    urls = {Path(c.source).name: c.url for c in repository.iter_chunks()}
    assert urls == {
        "proxy.md": "https://support.example.org/proxy/",  # the front matter wins
        "bridges.md": "https://help.example.com/kb/connecting/bridges",  # base URL + path under the folder
        "alone.md": None,
    }
    retriever = HybridRetriever.from_services(kb_services)
    context = retriever.retrieve("antivirus restart", top_k=3, score_threshold=0.0)
    sources = [r["metadata"]["source"] for r in context["results"]]
    assert sources and not any(str(tmp_path) in source or source.endswith(".md") for source in sources)
    assert "https://support.example.org/proxy/" in sources

    # A new base URL is a change: the document is rewritten with its new address.
    kb_services.settings = kb_services.settings.model_copy(update={"kb_base_url": "https://docs.example.com/"})
    report = KnowledgeBaseIngestor.from_services(kb_services).run([folder])
    assert report.documents_updated == 1 and report.documents_unchanged == 1


def test_a_nul_byte_deep_in_a_text_file_is_refused_and_writes_no_vector(
    ingestor: KnowledgeBaseIngestor, tmp_path: Path
) -> None:
    path = tmp_path / "deep.md"
    path.write_bytes(b"# Deep\n\n" + b"Plain help text. " * 1_000 + b"\x00 hidden after 16 KiB\n")
    vectors_before = ingestor.store.count()

    report = ingestor.run([path])

    assert [f.reason.split(" (")[0] for f in report.failed] == ["binary file"]
    assert ingestor.store.count() == vectors_before
    assert ingestor.repository.counts().documents == 0


def test_rows_that_fail_to_land_take_this_attempts_vectors_with_them(
    ingestor: KnowledgeBaseIngestor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    path = tmp_path / "guide.md"
    path.write_text(LOGIN, encoding="utf-8")
    vectors_before = ingestor.store.count()

    def refuse(*args: object, **kwargs: object) -> None:
        raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    monkeypatch.setattr(ingestor.repository, "replace_document", refuse)
    report = ingestor.run([path])

    assert [f.reason for f in report.failed] == ["the document's text cannot be stored: DataError"]
    assert ingestor.store.count() == vectors_before, "no stray vectors"
