"""Read help-centre files (Markdown, plain text, PDF) into text with a title and page numbers.

Every way a file can be unusable (too large, empty, binary, not UTF-8, corrupt or encrypted PDF)
raises `UnreadableFileError` with a reason meant for the person reading the ingest summary. Text files
must be UTF-8: guessing another encoding would silently garble the knowledge base, so such files are
refused and reported instead.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Literal

from core.errors import InvalidInputError

log = logging.getLogger(__name__)

FileFormat = Literal["markdown", "text", "pdf"]
SUPPORTED_SUFFIXES: dict[str, FileFormat] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
}
# Reads the given 0-based pages of a PDF and returns their text by page index.
PageOcr = Callable[[bytes, Sequence[int]], dict[int, str]]

_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_COMMENT = re.compile(r"<!--.*?-->\s*", re.DOTALL)
# YAML-style front matter at the very top of a Markdown file: "---", "key: value" lines, "---".
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_LINE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_PUBLIC_URL = re.compile(r"^https?://[^\s<>\"]+$", re.IGNORECASE)
# Titles PDF producers write when the author gave none.
_PLACEHOLDER_TITLES = {"", "untitled", "untitled document", "title"}
_MISTRAL_OCR_URL = "https://api.mistral.ai/v1/ocr"
_MISTRAL_OCR_MODEL = "mistral-ocr-latest"


class UnreadableFileError(InvalidInputError):
    """A file that cannot be ingested; the message is the reason shown in the ingest summary."""


class UnsupportedFileError(InvalidInputError):
    """A file whose type Doxa does not read (skipped and counted, not a failure)."""


@dataclass(frozen=True)
class Page:
    """Text of one page (PDF) or of the whole file (number None)."""

    number: int | None
    text: str


@dataclass(frozen=True)
class ReadDocument:
    """A file's extracted text, split by page where the format has pages."""

    path: Path
    title: str
    file_format: FileFormat
    pages: tuple[Page, ...]
    byte_size: int
    page_count: int | None = None
    pages_without_text: tuple[int, ...] = ()  # PDF pages with neither a text layer nor OCR text
    url: str | None = None  # the public address given in the front matter (`url:`), if any

    @property
    def text(self) -> str:
        """All pages' text joined by blank lines."""
        return "\n\n".join(page.text for page in self.pages)


def file_format(path: Path) -> FileFormat | None:
    """The format Doxa reads this file as, or None when the type is unsupported."""
    return SUPPORTED_SUFFIXES.get(path.suffix.lower())


def read_document(path: Path, *, max_bytes: int, ocr: PageOcr | None = None) -> ReadDocument:
    """Read one file; raise `UnreadableFileError` (or `UnsupportedFileError`) with the reason.

    Example:
        >>> read_document(Path("help/reset-password.md"), max_bytes=20_000_000).title
        'Reset your password'
    """
    kind = file_format(path)
    if kind is None:
        raise UnsupportedFileError(f"unsupported file type {path.suffix or '(no extension)'!r}")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise UnreadableFileError(f"file too large ({size:,} bytes; the limit is {max_bytes:,})")
        raw = path.read_bytes()
    except (FileNotFoundError, PermissionError, IsADirectoryError) as exc:
        raise UnreadableFileError(f"cannot read file ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise UnreadableFileError("empty file")
    if kind == "pdf":
        return _read_pdf(path, raw, ocr)
    text = _decode_text(raw)
    url: str | None = None
    if kind == "markdown":
        front, text = split_front_matter(text)
        url = public_url(front.get("url"))
        text = _HTML_COMMENT.sub("", text)
        heading = _H1.search(text)
        title = front.get("title") or (heading.group(1).strip() if heading else _title_from_filename(path))
    else:
        title = _title_from_filename(path)
    if not text.strip():
        raise UnreadableFileError("empty file (no text besides comments)")
    return ReadDocument(path, title, kind, (Page(None, text.strip()),), len(raw), url=url)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """`(front matter fields, the rest)`; a file without front matter gives `({}, text)`.

    Only flat `key: value` lines are read (quotes around a value are dropped): the fields Doxa uses are
    `url` and `title`, and a YAML parser would turn a stray colon in a title into an ingest failure.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        found = _FRONT_MATTER_LINE.match(line)
        if found and found.group(2):
            fields[found.group(1).lower()] = found.group(2).strip().strip("\"'").strip()
    return fields, text[match.end() :]


def public_url(value: str | None) -> str | None:
    """The value when it is an absolute http(s) address a customer can open; None otherwise (logged)."""
    if not value:
        return None
    if _PUBLIC_URL.match(value):
        return value
    log.warning("front matter url %r is not an http(s) address; the document is cited by its title", value)
    return None


def collect_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """`(supported files, skipped files, directories)` under the given paths, resolved and sorted.

    Hidden files and directories are left out of directory walks. Raises `InvalidInputError` when a
    path does not exist, before anything is written.
    """
    files: set[Path] = set()
    skipped: set[Path] = set()
    directories: list[Path] = []
    for given in paths:
        path = given.expanduser().resolve()
        if not path.exists():
            raise InvalidInputError(f"path not found: {given}")
        if path.is_dir():
            directories.append(path)
            candidates = [
                p
                for p in path.rglob("*")
                if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ]
        else:
            candidates = [path]
        for candidate in candidates:
            (files if file_format(candidate) else skipped).add(candidate)
    return sorted(files), sorted(skipped), directories


def _decode_text(raw: bytes) -> str:
    # The whole file, not a prefix: PostgreSQL text cannot hold U+0000, and a NUL after the first few
    # KiB used to reach the database as a 500 with the vectors already written.
    if (offset := raw.find(b"\x00")) >= 0:
        raise UnreadableFileError(f"binary file (NUL byte at offset {offset}), not text")
    try:
        return raw.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); convert it to UTF-8"
        ) from exc


def _title_from_filename(path: Path) -> str:
    words = re.sub(r"[_\-]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else path.name


def _read_pdf(path: Path, raw: bytes, ocr: PageOcr | None) -> ReadDocument:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFileError("encrypted PDF (a password is needed)")
        # A text layer may decode to U+0000 (broken font maps); it carries nothing and PostgreSQL refuses it.
        page_texts = [(page.extract_text() or "").replace("\x00", "").strip() for page in reader.pages]
        metadata_title = (reader.metadata.title if reader.metadata else None) or ""
    except UnreadableFileError:
        raise
    # pypdf documents PyPdfError for malformed files; broken object tables also surface as these.
    except (PyPdfError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise UnreadableFileError(f"corrupt or unreadable PDF ({type(exc).__name__}: {exc})") from exc
    if not page_texts:
        raise UnreadableFileError("PDF has no pages")
    blank = [index for index, text in enumerate(page_texts) if not text]
    if blank and ocr is not None:
        for index, text in ocr(raw, blank).items():
            page_texts[index] = text.replace("\x00", "").strip()
    still_blank = tuple(index + 1 for index, text in enumerate(page_texts) if not text)
    if len(still_blank) == len(page_texts):
        hint = "OCR found no text" if ocr is not None else "OCR needs MISTRAL_API_KEY"
        raise UnreadableFileError(f"PDF has no text layer (scanned?); {hint}")
    pages = tuple(Page(index + 1, text) for index, text in enumerate(page_texts) if text)
    title = metadata_title.strip()
    if title.lower() in _PLACEHOLDER_TITLES:
        title = _title_from_filename(path)
    return ReadDocument(path, title, "pdf", pages, len(raw), len(page_texts), still_blank)


def mistral_ocr(api_key: str, *, timeout_s: float = 60.0) -> PageOcr:
    """A `PageOcr` that sends a PDF's pages without a text layer to Mistral's OCR API.

    Used only when MISTRAL_API_KEY is set. A failed call leaves those pages without text (they are
    reported as pages without a text layer); it does not fail the document's other pages.
    """

    def read_pages(pdf: bytes, page_indexes: Sequence[int]) -> dict[int, str]:
        import httpx

        body = {
            "model": _MISTRAL_OCR_MODEL,
            "document": {
                "type": "document_url",
                "document_url": "data:application/pdf;base64," + base64.b64encode(pdf).decode("ascii"),
            },
            "pages": list(page_indexes),
        }
        try:
            response = httpx.post(
                _MISTRAL_OCR_URL,
                json=body,
                headers={"Authorization": f"Bearer {api_key}"},
                timeout=timeout_s,
            )
            response.raise_for_status()
            pages = response.json().get("pages", [])
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: a reply that is not JSON
            log.warning("Mistral OCR failed for %d page(s): %s", len(page_indexes), exc)
            return {}
        return {int(page["index"]): str(page.get("markdown", "")) for page in pages}

    return read_pages
