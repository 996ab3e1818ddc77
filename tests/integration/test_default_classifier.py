import json
from pathlib import Path

from core.embeddings import Embedder
from core.settings import Settings
from text.classifier import load_or_fit_default
from text.taxonomy import default_taxonomy


def test_taxonomy_model_is_fitted_once_then_loaded(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings(home=tmp_path, mistral_api_key=None)
    first = load_or_fit_default(settings, embedder)
    cached = list((tmp_path / "classifier").glob("taxonomy-*.npz"))
    assert len(cached) == 1
    cached[0].touch()
    before = cached[0].stat().st_mtime_ns
    second = load_or_fit_default(settings, embedder)
    assert cached[0].stat().st_mtime_ns == before, "the cached model was loaded, not refitted"
    text = "I was charged twice on my last invoice"
    assert second.predict(text).label == first.predict(text).label == "facturation"


def test_configured_taxonomy_replaces_the_default(tmp_path: Path, embedder: Embedder) -> None:
    taxonomy = default_taxonomy().model_dump()
    taxonomy["categories"] = [c for c in taxonomy["categories"] if c["name"] in {"facturation", "technique"}]
    path = tmp_path / "taxonomy.json"
    path.write_text(json.dumps(taxonomy), encoding="utf-8")
    classifier = load_or_fit_default(Settings(home=tmp_path, taxonomy_path=path, mistral_api_key=None), embedder)
    assert sorted(classifier.labels) == ["facturation", "technique"]
