"""The offline analysis: an FAQ drafted from the tickets themselves, deterministic and with no model.

The question comes from the group's most central ticket (greetings and signatures removed), the answer
from the most informative closure note among the most central tickets, the tags from keywords and the
category. Notes that say only that something was done ("fixed", "closed", "duplicate") teach nothing.
"""

from __future__ import annotations

import math
import re

from faq_mining.state import FaqAnalysis, MinedTicket, TicketCluster
from text.analysis import extract_keywords

MAX_QUESTION_CHARS = 300
MAX_ANSWER_CHARS = 2_000
MIN_ANSWER_WORDS = 5
# Notes of the few most central tickets compete for the answer; farther ones are more likely off-topic.
ANSWER_CANDIDATES = 3

_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|good (?:morning|afternoon|evening)|bonjour|bonsoir|salut)\b[^\n.!?]{0,40}[,.!:]?\s*",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"\n\s*(?:thanks?|thank you|many thanks|regards|best(?: regards)?|kind regards|cheers|merci|cordialement"
    r"|bien à vous|sincerely)\b.*\Z",
    re.IGNORECASE | re.DOTALL,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SPACES = re.compile(r"\s+")
_UNHELPFUL = re.compile(
    r"^(?:issue |ticket |problem )?(?:fixed|closed|done|resolved|solved|duplicate|dup|ok|okay|n/?a|none|no response"
    r"|no reply|user confirmed|works now|working now|completed|see above|as discussed)\b[\s.!]*$",
    re.IGNORECASE,
)


def clean_text(text: str) -> str:
    """The text without a leading greeting or a trailing sign-off, on one line."""
    without_sign_off = _SIGN_OFF.sub("", "\n" + text.strip()).strip()
    return _SPACES.sub(" ", _GREETING.sub("", without_sign_off)).strip()


def question_of(ticket: MinedTicket) -> str:
    """A candidate question from one ticket: its subject and the first sentences of its body."""
    body = clean_text(ticket.body)
    sentences = [sentence for sentence in _SENTENCE_END.split(body) if sentence]
    lead = " ".join(sentences[:2]) if sentences else body
    subject = clean_text(ticket.subject)
    if subject and subject.lower() not in lead.lower():
        lead = f"{subject}: {lead}" if lead else subject
    return _shorten(lead, MAX_QUESTION_CHARS)


def is_informative(note: str) -> bool:
    """Whether closure notes explain something beyond "fixed" or "closed"."""
    cleaned = clean_text(note)
    return not _UNHELPFUL.match(cleaned) and len(cleaned.split()) >= MIN_ANSWER_WORDS


def best_answer(tickets: list[MinedTicket]) -> str | None:
    """The longest informative note among the most central tickets (they come most central first)."""
    notes = [clean_text(ticket.closurenotes) for ticket in tickets[:ANSWER_CANDIDATES]]
    informative = [note for note in notes if is_informative(note)]
    if not informative:
        informative = [note for note in map(clean_text, (t.closurenotes for t in tickets)) if is_informative(note)]
    if not informative:
        return None
    return _shorten(max(informative, key=len), MAX_ANSWER_CHARS)


def tags_of(question: str, answer: str, category: str) -> list[str]:
    """Up to five lowercase keyword tags, the category first when there is one."""
    tags: list[str] = []
    if category.strip():
        tags.append(_SPACES.sub("-", category.strip().lower()))
    for keyword in extract_keywords(f"{question}\n{answer}"):
        tag = keyword.lower()
        if tag not in tags and not tag.startswith("["):
            tags.append(tag)
    return tags[:5]


def analyze_offline(cluster: TicketCluster, merge_similarity: float) -> FaqAnalysis:
    """The extractive analysis; MERGE when the nearest production FAQ is at least `merge_similarity` alike."""
    answer = best_answer(cluster.tickets)
    if answer is None:
        return FaqAnalysis(action="SKIP", reason="no closure note explains a reusable solution", confidence=0.0)
    question = cluster.question or question_of(cluster.tickets[0])
    category = cluster.tickets[0].category
    # More tickets about one problem make it a more useful FAQ: 1 ticket 0.5, 4 tickets 0.7, 16+ 0.9.
    confidence = round(min(0.9, 0.5 + 0.1 * math.log2(len(cluster.tickets))), 3)
    nearest = next((faq for faq in cluster.neighbours if faq.origin == "production"), None)
    if nearest is not None and nearest.similarity >= merge_similarity:
        return FaqAnalysis(
            action="MERGE",
            question=nearest.question,
            answer=answer,
            tags=tags_of(nearest.question, answer, category),
            confidence=confidence,
            merge_target_id=nearest.id,
            reason=f"FAQ #{nearest.id} asks the same question (similarity {nearest.similarity:.2f})",
        )
    return FaqAnalysis(
        action="NEW",
        question=question,
        answer=answer,
        tags=tags_of(question, answer, category),
        confidence=confidence,
        reason=f"{len(cluster.tickets)} resolved ticket(s) with an informative closure note",
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"
