"""Markdown passages as plain e-mail text: lists kept, syntax removed, links a reader can follow.

Help-centre articles are written in Markdown for a web page; an e-mail shows them as plain text. Headings,
emphasis, code fences, quotes and HTML tags lose their syntax; list items keep a "- " or "1." marker (ordered
lists numbered as a browser shows them, "1. 1. 1." as 1, 2, 3), and a line that goes on an item is indented
under its text. Invisible bidi and zero-width controls go. A link keeps its text, followed by its address
when the address means something outside the help centre's web page: absolute addresses as written,
relative ones ("../../misc/bug-or-feedback/") resolved against the document's public URL, and without a URL
reduced to their text. A link that only names the page it points to ("[traffic](../glossary/traffic)")
keeps its text alone. Images keep their alt text.

Example:
    >>> to_plain_text("**Restart** and [get in touch](../contact/)", base_url="https://help.example.com/a/b/")
    'Restart and get in touch (https://help.example.com/a/contact/)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
_LIST_ITEM = re.compile(r"^(\s*)(?:([*+-])|(\d{1,9})([.)]))\s+")
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
# Bidi embeddings, overrides and isolates, zero-width spaces and stray BOMs: invisible, and a command copied
# from the e-mail with one in front ("\u202a./start-tor-browser.desktop") fails.
_INVISIBLE_CONTROLS = re.compile("[\u200b\u202a-\u202e\u2066-\u2069\ufeff]")


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


@dataclass
class _Lists:
    """The list being read: where its current item's text starts, the numbers shown so far by indent."""

    content: int = -1  # column of the current item's text; -1: not in a list
    numbers: dict[int, int] = field(default_factory=dict)
    blank: bool = False  # a blank line since the list's last line

    def item(self, match: re.Match[str], line: str) -> str:
        """The item with a "- " or renumbered "n." marker (Markdown numbers "1. 1. 1." as 1, 2, 3)."""
        indent = len(match.group(1))
        self.numbers = {
            level: number
            for level, number in self.numbers.items()
            if level < indent or (level == indent and match.group(3))
        }
        if match.group(3):
            self.numbers[indent] = self.numbers[indent] + 1 if indent in self.numbers else int(match.group(3))
            marker = f"{self.numbers[indent]}{match.group(4)} "
        else:
            marker = "- "
        self.content, self.blank = indent + len(marker), False
        return match.group(1) + marker + line[match.end() :]

    def continuation(self, line: str) -> str | None:
        """A line that goes on the current item, indented under its text; None when the list has ended."""
        indent = len(line) - len(line.lstrip())
        if self.content < 0 or (self.blank and indent < self.content):
            self.close()
            return None
        self.blank = False
        return " " * max(indent, self.content) + line.lstrip()

    def close(self) -> None:
        """The list has ended: a later one numbers afresh."""
        self.content, self.numbers, self.blank = -1, {}, False


def to_plain_text(markdown: str, *, base_url: str | None = None) -> str:
    """The passage as plain text for an e-mail (see the module docstring)."""
    lines: list[str] = []
    lists = _Lists()
    in_code = False
    cleaned = _INVISIBLE_CONTROLS.sub("", _HTML_COMMENT.sub("", markdown.replace("\r\n", "\n")))
    for raw in cleaned.split("\n"):
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
        heading, item = _HEADING.match(line), _LIST_ITEM.match(line)
        if heading:
            lists.close()
            line = heading.group(1)
        elif item:
            line = lists.item(item, line)
        elif not line.strip():
            lists.blank = True
        else:
            line = lists.continuation(line) or line
        if line.strip().startswith("|") and line.strip().endswith("|"):
            line = " | ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        lines.append(_inline(line, base_url).rstrip())
    # Blank lines go from both ends, but not the first line's indent: it may open an indented code block.
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")


def _opens_margin_item(text: str) -> bool:
    """Whether the text opens with a list item at the left margin (a top-level item)."""
    item = _LIST_ITEM.match(text)
    return item is not None and not item.group(1)


def block_starts(markdown: str) -> list[int]:
    """Offsets of the lines that open a top-level block: a line after a blank one, or a list item at the margin.

    Lines inside a code fence open nothing, so a block boundary never falls inside fenced code.
    """
    starts: list[int] = []
    offset, in_code, after_blank = 0, False, True
    for line in markdown.split("\n"):
        if line.strip() and not in_code and (after_blank or _opens_margin_item(line)):
            starts.append(offset)
        in_code = in_code != bool(_FENCE.match(line))
        after_blank = not line.strip() and not in_code
        offset += len(line) + 1
    return starts


def passage_window(section: str, passage: str, budget: int) -> str | None:
    """Whole blocks of a long section from a passage's first line on, as many as fit in `budget` characters.

    A retrieved chunk is cut by length and may stop inside a list ("the following options: 1. ..."): the
    window ends at a block boundary instead, and takes in the line that introduces a list the passage opens
    with. None when the passage is not found in the section or its own blocks do not fit.
    """
    lines = [line.strip() for line in passage.strip().split("\n") if line.strip()]
    found = section.find(lines[0]) if lines else -1
    last = section.find(lines[-1], found) if found >= 0 else -1
    if last < 0:
        return None
    line_start, passage_end = section.rfind("\n", 0, found) + 1, last + len(lines[-1])
    starts = block_starts(section)
    enclosing = max((s for s in starts if s <= line_start), default=line_start)

    def end_from(start: int) -> int | None:
        ends = [end for end in (*starts, len(section)) if max(passage_end, start + 1) <= end <= start + budget]
        return max(ends, default=None)

    # The block the passage starts in (an item, not the middle of it), else the passage's own first line.
    start = enclosing if end_from(enclosing) is not None else line_start
    end = end_from(start)
    if end is None:
        return None
    lead_in = max((s for s in starts if s < start), default=None)
    if (
        lead_in is not None
        and _opens_margin_item(section[start:])
        and section[lead_in:start].rstrip().endswith(":")
        and end_from(lead_in) == end
    ):
        start = lead_in
    return section[start:end].strip("\n").rstrip()


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
