"""Uploaded knowledge-base files: a safe name under DOXA_HOME/uploads, then ingestion, all or nothing.

The file is streamed to a temporary name first; a file that fails to ingest is removed (or the previous
upload of the same name is put back), and the ingestor keeps the document's previous chunks, so a bad
upload leaves the knowledge base as it was.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, BinaryIO

from api.limits import BodyTooLargeError
from core.errors import InvalidInputError
from core.services import Services
from kb.ingest import KnowledgeBaseIngestor
from kb.readers import SUPPORTED_SUFFIXES
from kb.repository import KnowledgeBaseRepository

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_COPY_CHUNK_BYTES = 1 << 20
# One upload at a time: two uploads of one name must not swap each other's backups.
_upload_lock = threading.Lock()


def safe_filename(original: str | None) -> str:
    """A name that stays inside the uploads folder: the base name, ASCII letters, digits, `.`, `_` and `-`."""
    base = PureWindowsPath(PurePosixPath(original or "").name).name
    ascii_name = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    name = _UNSAFE.sub("-", ascii_name).strip(".-_")[-120:].lstrip(".-_")
    suffix = Path(name).suffix.lower()
    if not name or not Path(name).stem:
        raise InvalidInputError("the upload needs a file name")
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(f"unsupported file type {suffix or '(none)'}; one of {', '.join(SUPPORTED_SUFFIXES)}")
    return name


def store_and_ingest(
    services: Services, upload: BinaryIO, filename: str, category: str | None, *, max_bytes: int
) -> dict[str, Any]:
    """Save the upload as `filename` and ingest it; 413 over `max_bytes`, InvalidInputError if it cannot be read."""
    folder = services.settings.state_dir("uploads")
    target = folder / filename
    incoming = folder / f".incoming-{uuid.uuid4().hex}{target.suffix}"
    try:
        _copy_limited(upload, incoming, max_bytes)
        with _upload_lock:
            return _replace_and_ingest(services, incoming, target, category)
    finally:
        incoming.unlink(missing_ok=True)


def _copy_limited(upload: BinaryIO, destination: Path, max_bytes: int) -> None:
    written = 0
    with destination.open("wb") as out:
        while chunk := upload.read(_COPY_CHUNK_BYTES):
            written += len(chunk)
            if written > max_bytes:
                raise BodyTooLargeError(max_bytes)
            out.write(chunk)
    if written == 0:
        raise InvalidInputError("the uploaded file is empty")


def _replace_and_ingest(services: Services, incoming: Path, target: Path, category: str | None) -> dict[str, Any]:
    backup = target.with_name(f".previous-{uuid.uuid4().hex}-{target.name}")
    had_previous = target.exists()
    if had_previous:
        os.replace(target, backup)
    os.replace(incoming, target)
    succeeded = False
    try:
        report = KnowledgeBaseIngestor.from_services(services).run([target], category=category)
        if report.failed:
            raise InvalidInputError(f"{target.name} cannot be ingested: {report.failed[0].reason}")
        succeeded = True
    finally:
        if succeeded:
            backup.unlink(missing_ok=True)
        elif had_previous:
            os.replace(backup, target)
        else:
            target.unlink(missing_ok=True)
    return _public_report(services, target, report.to_dict())


def _public_report(services: Services, target: Path, report: dict[str, Any]) -> dict[str, Any]:
    """The ingest report as a client sees it, with no absolute server path in it.

    `source` is the document's public URL or its title; pages without text are keyed by the file name.
    """
    document = KnowledgeBaseRepository(services.db).get_document(str(target))
    source = (document.url or document.title) if document is not None else target.name
    blank_pages = report["pages_without_text"].get(str(target))
    report["pages_without_text"] = {target.name: blank_pages} if blank_pages else {}
    report["skipped"] = [Path(path).name for path in report["skipped"]]
    return {"filename": target.name, "source": source} | report
