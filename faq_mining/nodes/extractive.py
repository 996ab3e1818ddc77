"""The offline analysis: an FAQ drafted from the tickets themselves, deterministic and with no model.

The question comes from the group's most central ticket: its subject when the subject is a question,
else the body's first question (or first sentence), tidied. The answer is the most informative closure
note among the most central tickets, rewritten from the agent's voice ("Asked the customer to clear the
cache") to the customer's ("Clear the cache"). Notes that say only that something was done ("fixed",
"closed", "duplicate") teach nothing. A MERGE keeps the approved answer and adds only the sentences of the
new note it does not already say, so approving it as proposed never drops the original guidance.
"""

from __future__ import annotations

import math
import re

from faq_mining.faq_store import SimilarFaq
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
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|tr|aw)\s*:\s*)+", re.IGNORECASE)
_QUESTION_START = re.compile(
    r"^(?:how|why|what|when|where|which|who|can|could|is|are|do|does|did|should|will|would|may|"
    r"comment|pourquoi|quand|quel|quelle|quels|quelles|où|est-ce|puis-je|peut-on|dois-je)\b",
    re.IGNORECASE,
)
# "When I click Download, nothing happens": an interrogative word followed by its clause's subject opens a
# subordinate clause, not a question (a question inverts: "When do I ..."). French keeps the subject first in
# spoken questions ("Comment je fais ?"), so only "quand" counts there.
_CLAUSE_START = re.compile(
    r"^(?:(?:when|where|how|why|what)\s+(?:i|we|you|he|she|it|they|my|our|your|the|this|that)"
    r"|quand\s*(?:je|j'|j’|on|nous|vous|il|elle|ils|elles|mon|ma|mes|le|la|les|l'|l’))\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
# A sentence of the new note that shares this much of its words with one of the approved answer's says
# nothing new.
SAME_SENTENCE_OVERLAP = 0.6
# Agent voice -> the customer's: "Asked the customer to restart" -> "Restart", "the user's account" -> "your
# account". Applied in order, per sentence.
_AGENT_VOICE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"^(?:we\s+|i\s+)?(?:asked|ask|told|tell|advised|advise|instructed|instruct|suggested|suggest|"
            r"recommended|recommend|had|have|got|get|helped|help|walked|guided|guide)\s+"
            r"(?:the\s+)?(?:customer|user|client|caller|requester|them|him|her)\s+(?:through\s+|to\s+|how\s+to\s+)?",
            re.IGNORECASE,
        ),
        "",
    ),
    (re.compile(r"^(?:the\s+)?(?:customer|user|client)\s+(?:needs|needed|has|had)\s+to\s+", re.IGNORECASE), ""),
    (re.compile(r"^(?:the\s+)?(?:customer|user|client)\s+(?:should|must|can|could)\s+", re.IGNORECASE), ""),
    # "client" alone is often software ("the VPN client"): only people words are rewritten mid-sentence.
    (re.compile(r"\b(?:the\s+)?(?:customer|user)'s\b", re.IGNORECASE), "your"),
    (re.compile(r"\bthe\s+(?:customer|user)\b", re.IGNORECASE), "you"),
]
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


def is_question(text: str) -> bool:
    """Whether a line reads as a question: it ends with '?' or opens with an interrogative word.

    "When I export to CSV, rows are missing." opens with one and is a statement: a word like "when" followed
    by a subject starts a clause, so it does not count.
    """
    text = text.strip()
    return text.endswith("?") or bool(_QUESTION_START.match(text)) and not _CLAUSE_START.match(text)


def tidy_question(text: str) -> str:
    """One clean line: no reply prefix, a capital first letter, a '?' when it asks, within the length limit."""
    text = _REPLY_PREFIX.sub("", _SPACES.sub(" ", text)).strip().strip("-–:;,")
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    if is_question(text):
        text = text.rstrip(".!? ") + "?"
    return _shorten(text, MAX_QUESTION_CHARS)


def question_of(ticket: MinedTicket) -> str:
    """A clean question from one ticket: the subject when it is one, else the body's first question or sentence."""
    subject = tidy_question(clean_text(ticket.subject))
    if subject and is_question(subject):
        return subject
    sentences = [sentence for sentence in _SENTENCE_END.split(clean_text(ticket.body)) if sentence.strip()]
    asked = next((sentence for sentence in sentences if is_question(sentence)), None)
    lead = asked or (sentences[0] if sentences else "")
    return tidy_question(lead) or subject


def second_person(note: str) -> str:
    """A closure note addressed to the customer: agent-voice sentences rewritten, each capitalised."""
    sentences = []
    for sentence in _SENTENCE_END.split(note.strip()):
        for pattern, replacement in _AGENT_VOICE:
            sentence = pattern.sub(replacement, sentence)
        sentence = sentence.strip()
        if sentence:
            sentences.append(sentence[0].upper() + sentence[1:])
    return " ".join(sentences)


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text) if len(word) > 2}


def merged_answer(approved: str, note: str) -> str:
    """The approved answer, then the note's sentences it does not already say (as a new paragraph)."""
    said = [_words(sentence) for sentence in _SENTENCE_END.split(approved) if sentence.strip()]

    def is_new(sentence: str) -> bool:
        words = _words(sentence)
        return bool(words) and all(len(words & old) / len(words | old) < SAME_SENTENCE_OVERLAP for old in said)

    added = [sentence for sentence in _SENTENCE_END.split(note) if sentence.strip() and is_new(sentence)]
    if not added:
        return approved.strip()
    return _shorten(f"{approved.strip()}\n\n{' '.join(added)}", MAX_ANSWER_CHARS)


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
    return _shorten(second_person(max(informative, key=len)), MAX_ANSWER_CHARS)


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
        return merge_analysis(nearest, answer, category, confidence)
    return FaqAnalysis(
        action="NEW",
        question=question,
        answer=answer,
        tags=tags_of(question, answer, category),
        confidence=confidence,
        reason=f"{len(cluster.tickets)} resolved ticket(s) with an informative closure note",
    )


def merge_analysis(target: SimilarFaq, note: str, category: str, confidence: float) -> FaqAnalysis:
    """MERGE into `target`: its question and answer kept, the new tickets' note added where it says more."""
    answer = merged_answer(target.answer, note)
    adds = "adds what the new tickets' note says" if answer != target.answer.strip() else "its answer already says it"
    return FaqAnalysis(
        action="MERGE",
        question=target.question,
        answer=answer,
        tags=list(dict.fromkeys([*target.tags, *tags_of(target.question, note, category)]))[:5],
        confidence=confidence,
        merge_target_id=target.id,
        reason=f"FAQ #{target.id} asks the same question (similarity {target.similarity:.2f}); {adds}",
    )


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:") + "…"
