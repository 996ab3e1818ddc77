"""Readers: Markdown, text and real PDFs, and every kind of bad input refused with its reason."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.pdfgen import canvas

from core.errors import InvalidInputError
from kb.readers import UnreadableFileError, UnsupportedFileError, file_format, read_document

LIMIT = 1_000_000


def make_pdf(path: Path, pages: Sequence[str], title: str | None = "Relay Guide") -> Path:
    """A real PDF with one text line per page ("" makes a page without a text layer)."""
    pdf = canvas.Canvas(str(path))
    if title:
        pdf.setTitle(title)
    for text in pages:
        if text:
            pdf.drawString(72, 720, text)
        else:
            pdf.rect(72, 600, 200, 100, fill=1)  # something drawn, but no text
        pdf.showPage()
    pdf.save()
    return path


def test_markdown_title_is_the_first_h1_and_comments_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "what-is-tor.md"
    path.write_text("<!-- source: x -->\n# What is Tor?\n\nTor is a network.\n\n# Second\n", encoding="utf-8")

    doc = read_document(path, max_bytes=LIMIT)

    assert (doc.title, doc.file_format, doc.page_count) == ("What is Tor?", "markdown", None)
    assert "source: x" not in doc.text
    assert doc.text.startswith("# What is Tor?")


def test_front_matter_gives_the_public_url_and_stays_out_of_the_text(tmp_path: Path) -> None:
    path = tmp_path / "proxy.md"
    path.write_text(
        "---\nurl: https://help.example.com/proxy/\ntopic: Connecting\n---\n# Proxy errors\n\nRestart it.\n",
        encoding="utf-8",
    )
    doc = read_document(path, max_bytes=LIMIT)
    assert (doc.title, doc.url) == ("Proxy errors", "https://help.example.com/proxy/")
    assert doc.text.startswith("# Proxy errors") and "topic" not in doc.text


def test_a_front_matter_url_that_is_not_http_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "proxy.md"
    path.write_text("---\nurl: /srv/help/proxy.md\n---\n# Proxy errors\n\nRestart it.\n", encoding="utf-8")
    assert read_document(path, max_bytes=LIMIT).url is None


def test_text_title_comes_from_the_filename(tmp_path: Path) -> None:
    path = tmp_path / "reset_your-password.txt"
    path.write_bytes("\ufeffClick “Forgot password”.\r\nDone.".encode())

    doc = read_document(path, max_bytes=LIMIT)

    assert doc.title == "Reset your password"
    assert doc.text == "Click “Forgot password”.\nDone."


def test_pdf_text_is_read_per_page_with_its_metadata_title(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "guide.pdf", ["Relays forward traffic.", "", "Bridges help censored users."])

    doc = read_document(path, max_bytes=LIMIT)

    assert doc.title == "Relay Guide"
    assert doc.page_count == 3
    assert [(p.number, p.text) for p in doc.pages] == [
        (1, "Relays forward traffic."),
        (3, "Bridges help censored users."),
    ]
    assert doc.pages_without_text == (2,)


def test_pdf_without_metadata_title_uses_the_filename(tmp_path: Path) -> None:
    doc = read_document(make_pdf(tmp_path / "exit-policy.pdf", ["Text."], title=None), max_bytes=LIMIT)

    assert doc.title == "Exit policy"


def test_ocr_fills_pages_without_a_text_layer(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", ["Typed page.", ""])
    asked: list[list[int]] = []

    def fake_ocr(pdf: bytes, pages: Sequence[int]) -> dict[int, str]:
        asked.append(list(pages))
        return {index: "Scanned words." for index in pages}

    doc = read_document(path, max_bytes=LIMIT, ocr=fake_ocr)

    assert asked == [[1]]
    assert [(p.number, p.text) for p in doc.pages] == [(1, "Typed page."), (2, "Scanned words.")]
    assert doc.pages_without_text == ()


def test_pdf_with_no_text_at_all_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no text layer.*MISTRAL_API_KEY"):
        read_document(make_pdf(tmp_path / "scan.pdf", ["", ""]), max_bytes=LIMIT)


def test_corrupt_pdf_is_refused(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", ["Some text."]).read_bytes()
    path = tmp_path / "broken.pdf"
    path.write_bytes(good[:40] + b"garbage" * 20)

    with pytest.raises(UnreadableFileError, match="corrupt or unreadable PDF"):
        read_document(path, max_bytes=LIMIT)


def test_encrypted_pdf_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "plain.pdf", ["Secret."])))
    writer.encrypt(user_password="hunter2", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)

    with pytest.raises(UnreadableFileError, match="encrypted PDF"):
        read_document(path, max_bytes=LIMIT)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\n\t", "empty file"),
        ("only-comment.md", b"<!-- nothing -->\n", "empty file"),
        ("binary.txt", b"PK\x03\x04\x00\x00binary", "binary file"),
        ("latin1.md", "# Café\n\nCrème brûlée".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_bad_text_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(UnreadableFileError, match=reason):
        read_document(path, max_bytes=LIMIT)


def test_files_over_the_size_limit_are_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.md"
    path.write_text("# Big\n\n" + "word " * 100, encoding="utf-8")

    with pytest.raises(UnreadableFileError, match="file too large"):
        read_document(path, max_bytes=100)


def test_unsupported_types_are_a_distinct_error(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG")

    assert file_format(path) is None
    assert file_format(Path("A.MD")) == "markdown"
    with pytest.raises(UnsupportedFileError):
        read_document(path, max_bytes=LIMIT)
    assert issubclass(UnreadableFileError, InvalidInputError)
