"""Markdown passages as plain e-mail text: lists kept, syntax removed, links a reader can follow.

Help-centre articles are written in Markdown for a web page; an e-mail shows them as plain text. Headings,
emphasis, code fences, quotes and HTML tags lose their syntax; list items keep a "- " or "1." marker. A
link keeps its text, followed by its address when the address means something outside the help centre's
web page: absolute addresses as written, relative ones ("../../misc/bug-or-feedback/") resolved against the
document's public URL, and without a URL reduced to their text. A link that only names the page it points to
("[traffic](../glossary/traffic)") keeps its text alone. Images keep their alt text.

Example:
    >>> to_plain_text("**Restart** and [get in touch](../contact/)", base_url="https://help.example.com/a/b/")
    'Restart and get in touch (https://help.example.com/a/contact/)'
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

_FENCE = re.compile(r"^\s*(```|~~~).*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REFERENCE_DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s+\S+.*$")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s*(=+|-+)\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_BULLET = re.compile(r"^(\s*)[*+-]\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_CODE = re.compile(r"`+([^`]+)`+")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
_BLANK_RUNS = re.compile(r"\n{3,}")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SLUG_SEPARATORS = re.compile(r"[^a-z0-9]+")


def resolve_link(target: str, base_url: str | None) -> str | None:
    """An address a reader can open: absolute as written, relative joined to `base_url`, else None."""
    target = target.strip()
    if not target or target.startswith("#"):
        return None
    if urlsplit(target).scheme in {"http", "https", "mailto"}:
        return target
    if urlsplit(target).scheme:  # file:, javascript: and the like mean nothing in an e-mail
        return None
    return urljoin(base_url, target) if base_url else None


def is_cross_reference(text: str, address: str) -> bool:
    """Whether a link only names the page it points to: "[traffic](../glossary/traffic)".

    Such links (glossary entries, wiki-style terms) define a word, they are not something to do; an address
    after each of them breaks every sentence of an e-mail, so they keep their text alone. A link whose text
    says what to do ("visit our bridges website", "get in touch") keeps its address.
    """
    segments = [segment for segment in urlsplit(address).path.split("/") if segment]
    if not segments:
        return False
    slug = _SLUG_SEPARATORS.sub("-", segments[-1].rsplit(".", 1)[0].lower()).strip("-")
    words = _SLUG_SEPARATORS.sub("-", text.lower()).strip("-")
    return bool(words) and (slug == words or slug.rstrip("s") == words.rstrip("s"))


def _link(text: str, target: str, base_url: str | None) -> str:
    address = resolve_link(target, base_url)
    if address is None or address.removeprefix("mailto:") == text.strip():
        return text
    if not address.startswith("mailto:") and is_cross_reference(text, address):
        return text
    return f"{text} ({address.removeprefix('mailto:')})"


def _inline(line: str, base_url: str | None) -> str:
    line = _IMAGE.sub(lambda m: m.group(1), line)
    line = _LINK.sub(lambda m: _link(m.group(1), m.group(2), base_url), line)
    line = _REFERENCE_LINK.sub(lambda m: m.group(1), line)
    line = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), line)
    line = _CODE.sub(lambda m: m.group(1), line)
    line = _HTML_TAG.sub("", line)
    line = _STRONG.sub(lambda m: m.group(2), line)
    line = _STRIKE.sub(lambda m: m.group(1), line)
    line = _EMPHASIS.sub(lambda m: m.group(2), line)
    return _ESCAPE.sub(lambda m: m.group(1), line)


def to_plain_text(markdown: str, *, base_url: str | None = None) -> str:
    """The passage as plain text for an e-mail (see the module docstring)."""
    lines: list[str] = []
    in_code = False
    for raw in _HTML_COMMENT.sub("", markdown.replace("\r\n", "\n")).split("\n"):
        if _FENCE.match(raw):
            in_code = not in_code
            continue
        if in_code:
            lines.append("    " + raw.rstrip())
            continue
        if _REFERENCE_DEFINITION.match(raw) or _TABLE_SEPARATOR.match(raw) and "|" in raw or _RULE.match(raw):
            continue
        if _SETEXT_UNDERLINE.match(raw) and lines and lines[-1].strip():
            continue  # "Title\n=====": the title line stays, its underline goes
        line = _QUOTE.sub("", raw)
        heading = _HEADING.match(line)
        line = heading.group(1) if heading else _BULLET.sub(lambda m: f"{m.group(1)}- ", line)
        if line.strip().startswith("|") and line.strip().endswith("|"):
            line = " | ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        lines.append(_inline(line, base_url).rstrip())
    # Blank lines go from both ends, but not the first line's indent: it may open an indented code block.
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


def shorten(text: str, limit: int) -> str:
    """The text cut at the last paragraph or sentence end that fits in `limit` characters, marked with '…'."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for boundary in ("\n\n", "\n", ". ", "! ", "? "):
        cut = head.rfind(boundary)
        if cut >= limit // 2:
            return head[: cut + (1 if boundary.strip() else 0)].rstrip() + " …"
    cut = head.rfind(" ")
    return (head[:cut] if cut > 0 else head).rstrip() + " …"
