"""Header-aware chunking: documents become sections (parents) and overlapping chunks (children).

Markdown headings build a section path ("Title > Section > Sub"); a PDF page or a plain-text file is
one section under the document title. Each section is cut into chunks of about `chunk_size`
characters at paragraph, line, sentence or word boundaries, consecutive chunks share up to
`chunk_overlap` characters, and chunks shorter than `min_chunk_size` are merged into a neighbour of
the same section. The text that is embedded is the section path, a blank line and the passage, so a
passage that never names its topic is still found by it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.errors import ConfigurationError
from core.settings import Settings
from kb.readers import ReadDocument

# Bump when the algorithm changes, so every document is re-chunked on the next ingest.
CHUNKER_VERSION = "1"
PATH_SEPARATOR = " > "

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class ChunkingParams:
    """How long chunks are, how much they overlap and when a chunk is too short to stand alone."""

    chunk_size: int = 512
    chunk_overlap: int = 100
    min_chunk_size: int = 100

    def __post_init__(self) -> None:
        if self.chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ValueError(f"chunk_overlap must be in [0, chunk_size), got {self.chunk_overlap}")
        if not 0 <= self.min_chunk_size <= self.chunk_size:
            raise ValueError(f"min_chunk_size must be in [0, chunk_size], got {self.min_chunk_size}")

    @classmethod
    def from_settings(cls, settings: Settings) -> ChunkingParams:
        """The parameters configured by DOXA_CHUNK_SIZE, DOXA_CHUNK_OVERLAP and DOXA_MIN_CHUNK_SIZE."""
        try:
            return cls(settings.chunk_size, settings.chunk_overlap, settings.min_chunk_size)
        except ValueError as exc:
            raise ConfigurationError(f"inconsistent DOXA_CHUNK_* settings: {exc}") from exc

    @property
    def fingerprint(self) -> str:
        """A string that changes whenever the same text would be chunked differently."""
        return (
            f"chunker={CHUNKER_VERSION};size={self.chunk_size};overlap={self.chunk_overlap};min={self.min_chunk_size}"
        )


@dataclass(frozen=True)
class Chunk:
    """A passage: what retrieval returns and what people read."""

    ordinal: int  # position in the document
    text: str
    section_path: str
    page: int | None

    @property
    def embedded_text(self) -> str:
        """The text whose vector is stored: the section path, then the passage."""
        return f"{self.section_path}\n\n{self.text}"


@dataclass(frozen=True)
class Section:
    """A run of text under one heading (or one PDF page), with the chunks cut from it."""

    ordinal: int  # position in the document
    path: str
    page: int | None
    text: str
    chunks: tuple[Chunk, ...] = field(default=())


@dataclass(frozen=True)
class _Unit:
    """An indivisible piece of text and the separator that precedes it inside a chunk."""

    text: str
    joiner: str


@dataclass
class _Draft:
    """Units of one chunk; the first `carried` of them repeat the previous chunk (overlap)."""

    units: list[_Unit]
    carried: int = 0

    @property
    def length(self) -> int:
        return _joined_length(self.units)


def chunk_document(document: ReadDocument, params: ChunkingParams) -> list[Section]:
    """Split a read document into sections with their chunks, numbered in reading order."""
    raw_sections: list[tuple[str, int | None, str]] = []
    for page in document.pages:
        if document.file_format == "markdown":
            raw_sections.extend((path, page.number, text) for path, text in split_markdown(page.text, document.title))
        else:
            raw_sections.append((document.title, page.number, page.text.strip()))
    sections: list[Section] = []
    chunk_ordinal = 0
    for path, page_number, text in raw_sections:
        if not text:
            continue
        chunks = []
        for passage in chunk_text(text, params):
            chunks.append(Chunk(chunk_ordinal, passage, path, page_number))
            chunk_ordinal += 1
        sections.append(Section(len(sections), path, page_number, text, tuple(chunks)))
    return sections


def split_markdown(text: str, title: str) -> list[tuple[str, str]]:
    """`(section path, body)` for each heading's run of text; the first H1 is the document title."""
    sections: list[tuple[str, str]] = []
    headings: list[tuple[int, str]] = []
    body: list[str] = []
    title_seen = False
    in_fence = False

    def close_section() -> None:
        # Not strip(): the first line's indent may open an indented code block (a log excerpt).
        joined = "\n".join(body).strip("\n").rstrip()
        if joined:
            sections.append((PATH_SEPARATOR.join([title, *(name for _, name in headings)]), joined))
        body.clear()

    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading is None:
            body.append(line)
            continue
        close_section()
        level, name = len(heading.group(1)), heading.group(2).strip()
        if level == 1 and not title_seen and name == title:
            title_seen = True
            continue
        while headings and headings[-1][0] >= level:
            headings.pop()
        headings.append((level, name))
    close_section()
    return sections


def chunk_text(text: str, params: ChunkingParams) -> list[str]:
    """Cut one section's text into overlapping passages of about `params.chunk_size` characters."""
    units = _split_units(text.strip(), params.chunk_size)
    drafts: list[_Draft] = []
    current = _Draft([])
    for unit in units:
        if current.units and current.length + len(unit.joiner) + len(unit.text) > params.chunk_size:
            drafts.append(current)
            carried = _overlap_tail(current.units, params.chunk_overlap)
            if _joined_length(carried) + len(unit.joiner) + len(unit.text) > params.chunk_size:
                carried = []
            current = _Draft(carried, carried=len(carried))
        current.units.append(unit)
    if current.units:
        drafts.append(current)
    return [_render(draft.units) for draft in _merge_short(drafts, params.min_chunk_size)]


def _split_units(text: str, size: int) -> list[_Unit]:
    """Paragraphs, with those too long for one chunk cut into lines, sentences and words."""
    units: list[_Unit] = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= size:
            units.append(_Unit(paragraph, "\n\n"))
            continue
        pieces = _split_long(paragraph, size)
        units.append(_Unit(pieces[0].text, "\n\n"))
        units.extend(pieces[1:])
    return units


def _split_long(paragraph: str, size: int) -> list[_Unit]:
    """A too-long paragraph as units: lines, then sentences, then words, then hard cuts."""
    pieces: list[_Unit] = []
    for line in paragraph.split("\n"):
        for sentence_number, sentence in enumerate(_SENTENCE_END.split(line.strip())):
            joiner = "\n" if sentence_number == 0 else " "
            if not sentence:
                continue
            if len(sentence) <= size:
                pieces.append(_Unit(sentence, joiner))
                continue
            for word_number, piece in enumerate(_split_words(sentence, size)):
                pieces.append(_Unit(piece, joiner if word_number == 0 else " "))
    return pieces


def _split_words(sentence: str, size: int) -> list[str]:
    """Pieces of at most `size` characters cut at spaces (or anywhere, for one huge word)."""
    pieces: list[str] = []
    current = ""
    for word in sentence.split():
        while len(word) > size:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:size])
            word = word[size:]
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def _overlap_tail(units: list[_Unit], overlap: int) -> list[_Unit]:
    """The last whole units fitting in `overlap` characters, else the last words of the last unit."""
    if overlap <= 0 or not units:
        return []
    tail: list[_Unit] = []
    for unit in reversed(units):
        if _joined_length([unit, *tail]) > overlap:
            break
        tail.insert(0, unit)
    if tail:
        return tail
    last = units[-1].text
    cut = last[-overlap:]
    space = cut.find(" ")
    words = cut[space + 1 :] if 0 <= space < len(cut) - 1 else ""
    return [_Unit(words, " ")] if words else []


def _merge_short(drafts: list[_Draft], min_size: int) -> list[_Draft]:
    """Fold chunks shorter than `min_size` into the previous chunk, or the next if they come first."""
    merged: list[_Draft] = []
    pending: _Draft | None = None  # a short first chunk waiting for its successor
    for draft in drafts:
        if pending is not None:
            draft = _Draft(pending.units + draft.units[draft.carried :], pending.carried)
            pending = None
        if draft.length >= min_size:
            merged.append(draft)
        elif merged:
            previous = merged[-1]
            merged[-1] = _Draft(previous.units + draft.units[draft.carried :], previous.carried)
        else:
            pending = draft
    if pending is not None:
        merged.append(pending)
    return merged


def _render(units: list[_Unit]) -> str:
    return "".join((unit.joiner if index else "") + unit.text for index, unit in enumerate(units))


def _joined_length(units: list[_Unit]) -> int:
    return sum(len(unit.text) for unit in units) + sum(len(unit.joiner) for unit in units[1:])
