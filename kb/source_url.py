"""The public address a document is cited by: never its path on the server.

Replies, `/kb/search` and every API answer show a document's origin to people who cannot open a server
path. The address is the front matter's `url:`, else `DOXA_KB_BASE_URL` joined with the file's path under
the folder that was ingested; a document with neither is cited by its title alone. `kb_document.source`
keeps the path for the operator (`doxa kb status`, re-ingestion, pruning).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote


def public_document_url(document_url: str | None, base_url: str | None, relative: Path | None) -> str | None:
    """The address a reply cites: front matter `url:`, else base URL + path under the folder, else None.

    Markdown and text files lose their suffix in the joined address, as help centres publish them. Files
    ingested one by one (an upload, a single path) have no place under a help centre's folder, so they get
    no guessed address and are cited by their title.
    """
    if document_url:
        return document_url
    if not base_url or relative is None:
        return None
    published = (
        relative.with_suffix("") if relative.suffix.lower() in {".md", ".markdown", ".txt", ".text"} else relative
    )
    return base_url.rstrip("/") + "/" + quote(published.as_posix(), safe="/")


def relative_to_folder(path: Path, directories: Sequence[Path]) -> Path | None:
    """The file's path under the deepest given directory that holds it; None for a file given alone."""
    holders = [d for d in directories if path.is_relative_to(d)]
    return path.relative_to(max(holders, key=lambda d: len(d.parts))) if holders else None
