"""The ONNX Runtime encoder against PyTorch: the same vectors, the same StackFAQ ranking, a cached export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import onnx_encoder
from core.embeddings import Embedder
from core.errors import ConfigurationError
from core.settings import Settings
from kb.evaluation import faq_passages, load_faqs, load_queries, ranking_metrics
from kb.retrieval import embedded_text

VARIED = [
    "How do I reset my password?",
    "Comment réinitialiser mon mot de passe ?",
    "ERR_SSL_PROTOCOL_ERROR after upgrading to v13.5.2 (0x80070005)",
    "refund",
    " ",
    "Mein Konto ist gesperrt, was soll ich tun?",
    # Longer than the model's 256 tokens: truncation must match too.
    " ".join(["The VPN client disconnects every few minutes when the laptop is on the office Wi-Fi."] * 30),
    "Subject: Printer on floor 3\n\nThe printer shows a paper jam but there is no paper inside. "
    "I opened every tray, restarted it twice and it still refuses to print the quarterly report.",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    """The shipped MiniLM on PyTorch (sentence-transformers), the reference the ONNX graph must match."""
    model = Embedder.from_settings(Settings(embedding_backend="torch", mistral_api_key=None))
    model.warm_up()
    return model


@pytest.fixture(scope="module")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The shipped MiniLM on ONNX Runtime, exported into a fresh cache folder (no download)."""
    settings = Settings(home=tmp_path_factory.mktemp("onnx_home"), embedding_backend="onnx", mistral_api_key=None)
    model = Embedder.from_settings(settings)
    model.warm_up()
    return model


def test_onnx_vectors_match_pytorch_on_varied_texts(torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    torch_vectors = torch_embedder.encode(VARIED)
    onnx_vectors = onnx_embedder.encode(VARIED)
    one_by_one = np.stack([onnx_embedder.embed_query(text) for text in VARIED])

    assert onnx_vectors.shape == (len(VARIED), 384) and onnx_vectors.dtype == np.float32
    assert np.min(np.sum(torch_vectors * onnx_vectors, axis=1)) >= 0.9999
    assert np.min(np.sum(one_by_one * onnx_vectors, axis=1)) >= 0.9999  # padding in a batch changes nothing
    assert np.allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)


def test_onnx_ranks_stackfaq_as_pytorch_does(
    torch_embedder: Embedder, onnx_embedder: Embedder, shared_data: Path
) -> None:
    faqs = load_faqs(shared_data / "stackfaq" / "faqs.jsonl")
    queries = load_queries(shared_data / "stackfaq" / "queries.jsonl")[::4]
    passages = faq_passages(faqs)
    texts = [embedded_text(p) for p in passages]
    owners = np.array([p.document_id for p in passages])

    def rankings(model: Embedder) -> list[list[str]]:
        scores = model.encode([q.query for q in queries]) @ model.encode(texts).T
        return [list(dict.fromkeys(owners[np.argsort(-row)][:40]))[:10] for row in scores]

    torch_rankings, onnx_rankings = rankings(torch_embedder), rankings(onnx_embedder)
    torch_mrr = ranking_metrics(torch_rankings, queries)["mrr_at_10"]
    onnx_mrr = ranking_metrics(onnx_rankings, queries)["mrr_at_10"]
    same_top = np.mean([a[0] == b[0] for a, b in zip(torch_rankings, onnx_rankings, strict=True)])

    assert torch_mrr > 0.9  # the check means something only if the model ranks well at all
    assert abs(onnx_mrr - torch_mrr) <= 0.002
    assert same_top >= 0.99


def test_the_export_is_reused_from_the_cache(onnx_embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    assert onnx_embedder.onnx_cache_dir is not None
    exported = list(onnx_embedder.onnx_cache_dir.glob("*.onnx"))

    def refuse(*_: object) -> None:
        raise AssertionError("exported again although the cache holds the graph")

    monkeypatch.setattr(onnx_encoder, "export_onnx", refuse)
    again = onnx_encoder.OnnxSentenceEncoder.load(Path(onnx_embedder.model_path), onnx_embedder.onnx_cache_dir)

    assert len(exported) == 1
    assert again.encode(["refund"], batch_size=8).shape == (1, 384)


def test_onnx_refuses_an_accelerator_and_a_model_without_local_files(tmp_path: Path) -> None:
    on_gpu = Embedder("m", str(tmp_path), 384, device="cuda", backend="onnx", onnx_cache_dir=tmp_path)
    not_local = Embedder("m", "org/remote-model", 384, backend="onnx", onnx_cache_dir=tmp_path)

    with pytest.raises(ConfigurationError, match="CPU"):
        on_gpu.warm_up()
    with pytest.raises(ConfigurationError, match="tokenizer.json"):
        not_local.warm_up()
    with pytest.raises(ConfigurationError, match="torch or onnx"):
        Embedder("m", str(tmp_path), 384, backend="tensorflow")


@pytest.mark.parametrize(
    ("backend", "device", "expected"),
    [("auto", "cpu", "onnx"), ("auto", "cuda", "torch"), ("torch", "cpu", "torch"), ("onnx", "cpu", "onnx")],
)
def test_the_auto_backend_is_onnx_on_the_cpu_and_torch_on_an_accelerator(
    backend: str, device: str, expected: str, tmp_path: Path
) -> None:
    settings = Settings.model_validate(
        {"home": tmp_path, "embedding_backend": backend, "embedding_device": device, "mistral_api_key": None}
    )
    assert Embedder.from_settings(settings).backend == expected
