"""The ticket category taxonomy: configuration, not code.

A taxonomy is a list of categories, each with a description, example phrases and keywords, in the
languages tickets arrive in (French and English by default). The offline classifier learns from the
examples and descriptions and lets the keywords nudge its decision when examples are few.

Example:
    >>> taxonomy = default_taxonomy()
    >>> taxonomy.names()[:2]
    ['technique', 'facturation']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from core.errors import InvalidInputError, NotFoundError

DEFAULT_TAXONOMY_FILE = "default_taxonomy.json"


class Category(BaseModel):
    """One ticket category and what teaches the classifier to recognise it."""

    name: str = Field(min_length=1, description="Identifier used as the label (e.g. `facturation`).")
    description: str = Field(default="", description="What belongs here, in every supported language.")
    examples: list[str] = Field(default_factory=list, description="Typical ticket phrases of this category.")
    keywords: list[str] = Field(
        default_factory=list,
        description="Words or phrases (any language) whose presence in a ticket favours this category.",
    )

    @field_validator("name")
    @classmethod
    def _strip_name(cls, name: str) -> str:
        stripped = name.strip()
        if not stripped:
            raise ValueError("a category name cannot be blank")
        return stripped

    def training_texts(self) -> list[str]:
        """The texts the classifier learns this category from: the examples, then the description."""
        texts = [example for example in self.examples if example.strip()]
        if self.description.strip():
            texts.append(self.description)
        return texts


class Taxonomy(BaseModel):
    """An ordered set of categories with unique names."""

    name: str = Field(default="custom", description="A label for this taxonomy (shown in reports).")
    categories: list[Category] = Field(min_length=2, description="At least two categories.")

    @model_validator(mode="after")
    def _unique_and_teachable(self) -> Taxonomy:
        seen: set[str] = set()
        for category in self.categories:
            if category.name in seen:
                raise ValueError(f"category {category.name!r} appears twice")
            seen.add(category.name)
            if not category.training_texts():
                raise ValueError(f"category {category.name!r} has neither examples nor a description")
        return self

    def names(self) -> list[str]:
        """The category names in file order."""
        return [category.name for category in self.categories]

    def category(self, name: str) -> Category:
        """The category called `name`."""
        for category in self.categories:
            if category.name == name:
                return category
        raise NotFoundError(f"no category {name!r} in taxonomy {self.name!r}")

    def training_pairs(self) -> tuple[list[str], list[str]]:
        """Parallel lists of training texts and their labels, from every category."""
        texts: list[str] = []
        labels: list[str] = []
        for category in self.categories:
            for text in category.training_texts():
                texts.append(text)
                labels.append(category.name)
        return texts, labels

    def keywords(self) -> dict[str, list[str]]:
        """Keywords by category name, for categories that have any."""
        return {category.name: list(category.keywords) for category in self.categories if category.keywords}


def parse_taxonomy(raw_json: str, source: str = "<string>") -> Taxonomy:
    """A taxonomy from its JSON text; `source` names it in error messages."""
    try:
        return Taxonomy.model_validate_json(raw_json)
    except ValidationError as exc:
        raise InvalidInputError(f"{source} is not a valid taxonomy: {exc}") from exc


def load_taxonomy(path: Path) -> Taxonomy:
    """A taxonomy from a JSON file."""
    if not path.is_file():
        raise NotFoundError(f"taxonomy file {path} does not exist")
    return parse_taxonomy(path.read_text(encoding="utf-8"), source=str(path))


def save_taxonomy(taxonomy: Taxonomy, path: Path) -> None:
    """Write a taxonomy as indented UTF-8 JSON (accents kept readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(taxonomy.model_dump_json(indent=2) + "\n", encoding="utf-8")


def default_taxonomy() -> Taxonomy:
    """Default categories (docs/design.md §3.4): technique, facturation, authentification, feature_request, autre."""
    raw_json = resources.files("core").joinpath(DEFAULT_TAXONOMY_FILE).read_text(encoding="utf-8")
    return parse_taxonomy(raw_json, source=DEFAULT_TAXONOMY_FILE)
