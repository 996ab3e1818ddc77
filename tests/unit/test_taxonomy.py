"""The taxonomy file: validation, round-trip and the default five categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InvalidInputError, NotFoundError
from text.taxonomy import Category, Taxonomy, default_taxonomy, load_taxonomy, parse_taxonomy, save_taxonomy


def two_categories() -> Taxonomy:
    return Taxonomy(
        name="tiny",
        categories=[
            Category(name="billing", description="Invoices", examples=["charged twice"], keywords=["facture"]),
            Category(name="other", examples=["hello"]),
        ],
    )


def test_default_taxonomy_has_the_seed_categories_with_french_and_english_material() -> None:
    taxonomy = default_taxonomy()
    assert taxonomy.names() == ["technique", "facturation", "authentification", "feature_request", "autre"]
    for category in taxonomy.categories:
        assert 15 <= len(category.examples) <= 25
        assert category.keywords
        assert category.description


def test_training_pairs_include_examples_and_description() -> None:
    texts, labels = two_categories().training_pairs()
    assert texts == ["charged twice", "Invoices", "hello"]
    assert labels == ["billing", "billing", "other"]


def test_keywords_only_for_categories_that_have_some() -> None:
    assert two_categories().keywords() == {"billing": ["facture"]}


def test_save_and_load_round_trip_keeps_accents(tmp_path: Path) -> None:
    taxonomy = default_taxonomy()
    path = tmp_path / "nested" / "taxonomy.json"
    save_taxonomy(taxonomy, path)
    assert "prélevé" in path.read_text(encoding="utf-8")
    assert load_taxonomy(path) == taxonomy


def test_duplicate_category_names_are_refused() -> None:
    raw = '{"categories": [{"name": "a", "examples": ["x"]}, {"name": "a", "examples": ["y"]}]}'
    with pytest.raises(InvalidInputError, match="appears twice"):
        parse_taxonomy(raw)


def test_a_category_without_examples_or_description_is_refused() -> None:
    raw = '{"categories": [{"name": "a", "examples": ["x"]}, {"name": "empty"}]}'
    with pytest.raises(InvalidInputError, match="neither examples nor a description"):
        parse_taxonomy(raw)


def test_a_single_category_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        parse_taxonomy('{"categories": [{"name": "a", "examples": ["x"]}]}')


def test_missing_file_and_unknown_category_raise_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        load_taxonomy(tmp_path / "absent.json")
    with pytest.raises(NotFoundError):
        two_categories().category("absent")
