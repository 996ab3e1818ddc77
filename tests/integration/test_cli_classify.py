"""`doxa classify ...` through Typer's test runner, with DOXA_HOME in a temporary directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import classify
from cli.main import app
from core.embeddings import Embedder
from core.errors import InvalidInputError
from core.settings import get_settings
from text.taxonomy import Category, Taxonomy, save_taxonomy

pytestmark = pytest.mark.slow
runner = CliRunner()

EXAMPLES = {
    "billing": ["I was charged twice", "refund my last payment", "my invoice is wrong", "update my credit card"],
    "access": ["I cannot log in", "password reset link broken", "my account is locked", "2FA code never arrives"],
    "bug": ["the app crashes on start", "error 500 when saving", "export fails", "the page stays blank"],
}


@pytest.fixture
def doxa_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder) -> Iterator[Path]:
    """A fresh DOXA_HOME; the CLI shares the session's loaded model instead of loading it again."""
    home = tmp_path / "doxa"
    monkeypatch.setenv("DOXA_HOME", str(home))
    monkeypatch.setattr(classify, "_embedder", lambda: embedder)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


def write_examples(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for label, texts in EXAMPLES.items():
            for text in texts:
                stream.write(json.dumps({"text": text, "intent": label, "split": "train"}) + "\n")
        stream.write(json.dumps({"text": "login loop", "intent": "access", "split": "test"}) + "\n")
        stream.write(json.dumps({"text": "", "intent": "bug", "split": "train"}) + "\n")
    return path


def test_fit_then_predict_uses_the_saved_model(doxa_home: Path, tmp_path: Path) -> None:
    examples = write_examples(tmp_path / "examples.jsonl")
    result = runner.invoke(
        app, ["classify", "fit", str(examples), "--text-field", "text", "--label-field", "intent", "--split", "train"]
    )
    assert result.exit_code == 0, result.output
    assert "12 examples, 3 labels" in result.stdout
    assert "held-out accuracy" in result.stdout
    assert (doxa_home / "classifier" / "model.npz").is_file()

    result = runner.invoke(app, ["classify", "predict", "my password is refused", "--json"])
    assert result.exit_code == 0, result.output
    prediction = json.loads(result.stdout)
    assert prediction["label"] == "access"
    assert 0.0 <= prediction["confidence"] <= 1.0
    assert [label for label, _ in prediction["alternatives"]] != []


def test_predict_without_a_fitted_model_uses_the_default_taxonomy(doxa_home: Path) -> None:
    result = runner.invoke(app, ["classify", "predict", "I was charged twice on my invoice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("facturation (")
    assert "default taxonomy" in result.stderr


def test_predict_with_a_custom_taxonomy_names_it(
    doxa_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "taxonomy.json"
    categories = [
        Category(name="billing", examples=["I was charged twice", "refund my payment", "wrong invoice"]),
        Category(name="access", examples=["I cannot log in", "password reset fails", "account locked"]),
    ]
    save_taxonomy(Taxonomy(name="shop", categories=categories), path)
    monkeypatch.setenv("DOXA_TAXONOMY_PATH", str(path))
    get_settings.cache_clear()
    result = runner.invoke(app, ["classify", "predict", "I was charged twice on my invoice"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("billing (")
    assert f"using the taxonomy {path}" in result.stderr and "default taxonomy" not in result.stderr


def test_fit_taxonomy_writes_to_the_given_output(doxa_home: Path, tmp_path: Path) -> None:
    output = tmp_path / "models" / "default.npz"
    result = runner.invoke(app, ["classify", "fit-taxonomy", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.is_file()
    result = runner.invoke(app, ["classify", "predict", "Could you add dark mode?", "--model", str(output)])
    assert result.stdout.startswith("feature_request (")


def test_evaluate_reports_accuracy_on_the_test_split(doxa_home: Path, tmp_path: Path) -> None:
    examples = write_examples(tmp_path / "examples.jsonl")
    result = runner.invoke(
        app, ["classify", "evaluate", "--data", str(examples), "--text-field", "text", "--label-field", "intent"]
    )
    assert result.exit_code == 0, result.output
    assert "test: accuracy 100.00%" in result.stdout


def test_fit_on_a_file_without_the_fields_is_refused(doxa_home: Path, tmp_path: Path) -> None:
    examples = write_examples(tmp_path / "examples.jsonl")
    result = runner.invoke(app, ["classify", "fit", str(examples)])
    assert isinstance(result.exception, InvalidInputError)
