"""Header-aware chunking: section paths, sizes, overlap, merging of short chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigurationError
from core.settings import Settings
from kb.chunking import ChunkingParams, chunk_document, chunk_text, split_markdown
from kb.readers import Page, ReadDocument
from text.markdown_text import to_plain_text

PARAMS = ChunkingParams(chunk_size=200, chunk_overlap=40, min_chunk_size=50)


def sentences(count: int, word: str = "relay") -> str:
    return " ".join(f"Sentence {i} is about the {word} number {i}." for i in range(count))


def markdown(text: str, title: str = "Guide") -> ReadDocument:
    return ReadDocument(Path("guide.md"), title, "markdown", (Page(None, text),), len(text))


def test_markdown_headings_build_the_section_path() -> None:
    text = "# Guide\n\nIntro text.\n\n## Install\n\nRun it.\n\n### On Linux\n\nUse apt.\n\n## Remove\n\nDelete."

    assert split_markdown(text, "Guide") == [
        ("Guide", "Intro text."),
        ("Guide > Install", "Run it."),
        ("Guide > Install > On Linux", "Use apt."),
        ("Guide > Remove", "Delete."),
    ]


def test_headings_inside_code_fences_are_text() -> None:
    text = "# Guide\n\n## Shell\n\n```\n# not a heading\n```"

    assert split_markdown(text, "Guide") == [("Guide > Shell", "```\n# not a heading\n```")]


def test_a_section_that_opens_with_an_indented_log_keeps_its_first_line_indented() -> None:
    text = "# Guide\n\n## Log error\n\n    12:00 [WARN] stuck\n    12:01 [WARN] failed\n\nUse bridges.\n"
    sections = split_markdown(text, "Guide")
    assert sections == [("Guide > Log error", "    12:00 [WARN] stuck\n    12:01 [WARN] failed\n\nUse bridges.")]
    assert to_plain_text(sections[0][1]).startswith("    12:00")


def test_sections_without_body_are_left_out() -> None:
    assert split_markdown("# Guide\n## Empty\n## Full\nBody.", "Guide") == [("Guide > Full", "Body.")]


def test_chunks_respect_the_size_and_cover_the_text() -> None:
    text = sentences(40)

    chunks = chunk_text(text, PARAMS)

    assert len(chunks) > 3
    assert all(len(chunk) <= PARAMS.chunk_size + PARAMS.min_chunk_size for chunk in chunks)
    for sentence in text.split(". "):
        assert any(sentence.rstrip(".") in chunk for chunk in chunks)


def test_consecutive_chunks_overlap_at_sentence_boundaries() -> None:
    params = ChunkingParams(chunk_size=200, chunk_overlap=60, min_chunk_size=50)
    chunks = chunk_text(sentences(30), params)

    for previous, following in zip(chunks, chunks[1:], strict=False):
        first_sentence = following.split(". ")[0]
        assert first_sentence.startswith("Sentence ")
        assert previous.endswith(first_sentence + ".")


def test_overlap_shorter_than_a_sentence_falls_back_to_whole_words() -> None:
    chunks = chunk_text(sentences(30), PARAMS)

    for previous, following in zip(chunks, chunks[1:], strict=False):
        shared = following.split(". ")[0] + "."
        assert 0 < len(shared) <= PARAMS.chunk_overlap
        assert previous.endswith(" " + shared)


def test_no_overlap_when_overlap_is_zero() -> None:
    chunks = chunk_text(sentences(30), ChunkingParams(chunk_size=200, chunk_overlap=0, min_chunk_size=0))

    assert sum(len(c) for c in chunks) + (len(chunks) - 1) == len(sentences(30))


def test_a_short_trailing_chunk_is_merged_into_its_neighbour() -> None:
    text = "A" * 10 + " " + "word " * 36 + "\n\nTail."

    chunks = chunk_text(text, ChunkingParams(chunk_size=200, chunk_overlap=0, min_chunk_size=50))

    assert chunks[-1].endswith("Tail.")
    assert all(len(chunk) >= 50 for chunk in chunks)


def test_a_huge_word_is_cut_hard() -> None:
    chunks = chunk_text("x" * 450, PARAMS)

    assert "".join(chunks).count("x") >= 450
    assert all(len(chunk) <= PARAMS.chunk_size + PARAMS.min_chunk_size for chunk in chunks)


def test_chunks_know_their_section_and_embed_the_path() -> None:
    doc = markdown("# Guide\n\n## Billing\n\n" + sentences(12, "invoice") + "\n\n## Login\n\nReset it.")

    sections = chunk_document(doc, PARAMS)

    assert [s.path for s in sections] == ["Guide > Billing", "Guide > Login"]
    assert [c.ordinal for s in sections for c in s.chunks] == list(range(sum(len(s.chunks) for s in sections)))
    billing_chunk = sections[0].chunks[0]
    assert billing_chunk.text in sections[0].text
    assert billing_chunk.embedded_text == f"Guide > Billing\n\n{billing_chunk.text}"


def test_pdf_pages_become_sections_with_page_numbers() -> None:
    doc = ReadDocument(Path("a.pdf"), "Manual", "pdf", (Page(1, "One."), Page(3, "Three.")), 10, 3)

    sections = chunk_document(doc, PARAMS)

    assert [(s.path, s.page, s.chunks[0].page) for s in sections] == [("Manual", 1, 1), ("Manual", 3, 3)]


def test_fingerprint_changes_with_parameters() -> None:
    assert PARAMS.fingerprint != ChunkingParams(chunk_size=300).fingerprint
    assert PARAMS.fingerprint == ChunkingParams(200, 40, 50).fingerprint


@pytest.mark.parametrize(("size", "overlap", "minimum"), [(0, 0, 0), (100, 100, 10), (100, 10, 101)])
def test_inconsistent_parameters_are_refused(size: int, overlap: int, minimum: int) -> None:
    with pytest.raises(ValueError):
        ChunkingParams(size, overlap, minimum)


def test_inconsistent_settings_are_a_configuration_error() -> None:
    settings = Settings(chunk_size=200, chunk_overlap=250, mistral_api_key=None)

    with pytest.raises(ConfigurationError, match="DOXA_CHUNK_"):
        ChunkingParams.from_settings(settings)
