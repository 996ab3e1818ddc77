"""`doxa classify fit | fit-taxonomy | predict | evaluate`: the offline ticket classifier from the shell."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import InvalidInputError
from core.jsonl import read_json_objects
from core.settings import get_settings
from text.taxonomy import default_taxonomy, load_taxonomy

if TYPE_CHECKING:
    from core.embeddings import Embedder, Vectors
    from text.classifier import TicketClassifier

app = typer.Typer(help="The offline ticket classifier: fit it on labelled examples, try it.", no_args_is_help=True)

ENCODE_CHUNK = 1024  # texts per progress line while encoding
_DEFAULT_MODEL_HELP = "DOXA_HOME/classifier/model.npz"
TextFieldOption = Annotated[str, typer.Option(help="Field holding the ticket text.")]
LabelFieldOption = Annotated[str, typer.Option(help="Field holding the category.")]
OutputOption = Annotated[Path | None, typer.Option(help=f"Model file (default: {_DEFAULT_MODEL_HELP}).")]


def _embedder() -> Embedder:
    """The configured embedding model (no cache: the CLI does not start the database for this)."""
    from core.embeddings import Embedder  # numpy, and the model's stack when it first encodes

    return Embedder.from_settings(get_settings())


def _say(message: str) -> None:
    """Progress and notes go to stderr, so stdout stays the result."""
    typer.echo(message, err=True)


def read_examples(
    path: Path, text_field: str, label_field: str, split: str | None = None
) -> tuple[list[str], list[str]]:
    """Texts and labels from a JSONL file; rows of another `split`, or without text or label, are skipped."""
    texts: list[str] = []
    labels: list[str] = []
    for _, row in read_json_objects(path):
        if split is not None and row.get("split") != split:
            continue
        text, label = row.get(text_field), row.get(label_field)
        if isinstance(text, str) and text.strip() and label is not None and str(label).strip():
            texts.append(text)
            labels.append(str(label))
    if not texts:
        raise InvalidInputError(f"{path} has no rows with both {text_field!r} and {label_field!r}")
    return texts, labels


def encode_with_progress(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """Encode texts in chunks, reporting progress on stderr."""
    import numpy as np

    parts = []
    for start in range(0, len(texts), ENCODE_CHUNK):
        parts.append(embedder.encode(list(texts[start : start + ENCODE_CHUNK])))
        _say(f"encoded {min(start + ENCODE_CHUNK, len(texts))}/{len(texts)} texts")
    return np.concatenate(parts)


def scores(classifier: TicketClassifier, texts: list[str], labels: list[str], vectors: Vectors) -> str:
    """Accuracy and macro-F1 of a classifier on labelled texts, as one line."""
    predicted = [p.label for p in classifier.predict_batch(texts, vectors)]
    from sklearn.metrics import accuracy_score, f1_score  # seconds to import: only `classify evaluate` pays

    accuracy = accuracy_score(labels, predicted)
    macro_f1 = f1_score(labels, predicted, average="macro")
    return f"accuracy {accuracy:.2%}, macro-F1 {macro_f1:.4f} on {len(texts)} examples"


def held_out_scores(
    embedder: Embedder, texts: list[str], labels: list[str], vectors: Vectors, fraction: float
) -> str | None:
    """Scores of a classifier fitted without a stratified `fraction` of the examples, or None if too few."""
    from text.classifier import TicketClassifier  # scikit-learn: loaded by the commands that use it

    counts = Counter(labels)
    held_out = round(len(texts) * fraction)
    if fraction <= 0 or min(counts.values()) < 2 or held_out < len(counts):
        return None
    from sklearn.model_selection import train_test_split

    train_idx, test_idx = train_test_split(list(range(len(texts))), test_size=held_out, random_state=0, stratify=labels)
    classifier = TicketClassifier.fit(
        [texts[i] for i in train_idx], [labels[i] for i in train_idx], embedder, vectors=vectors[train_idx]
    )
    return scores(classifier, [texts[i] for i in test_idx], [labels[i] for i in test_idx], vectors[test_idx])


@app.command()
def fit(
    examples: Annotated[Path, typer.Argument(help="JSONL file of labelled tickets.")],
    text_field: TextFieldOption = "body",
    label_field: LabelFieldOption = "category",
    split: Annotated[str | None, typer.Option(help="Use only rows whose `split` field has this value.")] = None,
    holdout: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share held out to report accuracy (0: skip).")
    ] = 0.2,
    output: OutputOption = None,
) -> None:
    """Fit the classifier on your own labelled examples; it replaces the default taxonomy's model."""
    from text.classifier import TicketClassifier, default_model_path  # scikit-learn: loaded by the commands that use it

    texts, labels = read_examples(examples, text_field, label_field, split)
    counts = Counter(labels)
    typer.echo(f"{len(texts)} examples, {len(counts)} labels")
    for label, count in sorted(counts.items()):
        typer.echo(f"  {label}: {count}")
    embedder = _embedder()
    vectors = encode_with_progress(embedder, texts)
    held_out = held_out_scores(embedder, texts, labels, vectors, holdout)
    typer.echo(f"held-out {held_out}" if held_out else "held-out accuracy: skipped (too few examples)")
    _say("fitting on all examples")
    classifier = TicketClassifier.fit(texts, labels, embedder, vectors=vectors, provenance={"source": str(examples)})
    path = classifier.save(output or default_model_path(get_settings()))
    typer.echo(f"saved {path}")


@app.command("fit-taxonomy")
def fit_taxonomy(
    taxonomy_file: Annotated[Path | None, typer.Argument(help="Taxonomy JSON (default: the built-in one).")] = None,
    output: OutputOption = None,
) -> None:
    """Fit the classifier on a taxonomy's examples, descriptions and keywords."""
    from text.classifier import TicketClassifier, default_model_path  # scikit-learn: loaded by the commands that use it

    taxonomy = load_taxonomy(taxonomy_file) if taxonomy_file else default_taxonomy()
    classifier = TicketClassifier.from_taxonomy(taxonomy, _embedder())
    path = classifier.save(output or default_model_path(get_settings()))
    typer.echo(f"taxonomy {taxonomy.name}: {len(taxonomy.categories)} categories, saved {path}")


@app.command()
def predict(
    text: Annotated[str, typer.Argument(help="The ticket text.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the prediction as JSON.")] = False,
    model: Annotated[Path | None, typer.Option(help=f"Model file (default: {_DEFAULT_MODEL_HELP}).")] = None,
) -> None:
    """Classify one ticket with the fitted model (else one fitted on DOXA_TAXONOMY_PATH or the default taxonomy)."""
    from text.classifier import (
        TicketClassifier,
        default_model_path,
        load_or_fit_default,
    )  # scikit-learn: loaded by the commands that use it

    settings = get_settings()
    embedder = _embedder()
    if model is not None:
        classifier = TicketClassifier.load(model, embedder)
    else:
        if not default_model_path(settings).is_file():
            source = f"the taxonomy {settings.taxonomy_path}" if settings.taxonomy_path else "the default taxonomy"
            _say(f"no fitted model under DOXA_HOME: using {source}")
        classifier = load_or_fit_default(settings, embedder)
    prediction = classifier.predict(text)
    if as_json:
        typer.echo(prediction.model_dump_json())
        return
    typer.echo(f"{prediction.label} ({prediction.confidence:.2f})")
    for label, probability in prediction.alternatives:
        typer.echo(f"  {label} ({probability:.2f})")


@app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="JSONL file with a `split` field.")],
    train_split: Annotated[str, typer.Option(help="Split to fit on.")] = "train",
    test_split: Annotated[str, typer.Option(help="Split to measure on.")] = "test",
    text_field: TextFieldOption = "body",
    label_field: LabelFieldOption = "category",
) -> None:
    """Fit on one split of a labelled file and report accuracy and macro-F1 on another."""
    from text.classifier import TicketClassifier  # scikit-learn: loaded by the commands that use it

    train_texts, train_labels = read_examples(data, text_field, label_field, train_split)
    test_texts, test_labels = read_examples(data, text_field, label_field, test_split)
    embedder = _embedder()
    _say(f"{len(train_texts)} training and {len(test_texts)} test examples")
    classifier = TicketClassifier.fit(
        train_texts, train_labels, embedder, vectors=encode_with_progress(embedder, train_texts)
    )
    test_vectors = encode_with_progress(embedder, test_texts)
    typer.echo(f"{test_split}: {scores(classifier, test_texts, test_labels, test_vectors)}")
