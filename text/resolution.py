"""Does a customer's comment say the problem is still there? English and French phrase rules.

A customer may click "satisfied" and write "no, it still does not work": the click is then not a
confirmation. Mood lexicons miss this ("still does not work" is not an angry word), so this module looks
for what an unsolved problem sounds like ("does not work", "same error", "toujours pas") and for what a
solved one sounds like ("works now", "c'est réglé"). Negation is read inside each phrase: "not solved" is
an unsolved cue, and the "solved" inside it is not counted as a solved one. When both kinds appear, the
later one wins ("it didn't work at first, but it works now" is solved).

Example:
    >>> says_unsolved("No, it still does not work")
    True
    >>> says_unsolved("No problem, it works now, thanks!")
    False
"""

from __future__ import annotations

import re
import unicodedata

_NEG = r"(?:not|n't|nt|never)"
_EFFECT = (
    r"(?:work|works|working|worked|help|helps|helped|fix|fixes|fixed"
    r"|solve|solves|solved|resolve|resolved|change|changed)"
)

_UNSOLVED_PATTERNS = [
    # "does not work", "didn't help", "hasn't fixed", "doesn't really work"
    rf"\b(?:does|do|did|is|was|has|have|had|will|wo|ca|can|could)\s*{_NEG}\s+(?:\w+\s+){{0,2}}{_EFFECT}\b",
    rf"\b(?:doesnt|dont|didnt|isnt|wasnt|wont|cant|hasnt|havent)\s+(?:\w+\s+){{0,2}}{_EFFECT}\b",
    r"\bnot\s+(?:\w+\s+)?(?:working|solved|fixed|resolved|helpful|better)\b",
    r"\b(?:still|again)\b[^.!?]{0,40}\b(?:not|n't|no|error|errors|fails?|failing|broken|same|refus\w*|crash\w*)\b",
    r"\b(?:still|keeps?|kept)\s+(?:getting|showing|failing|crashing|saying|says|refusing|broken|happening|the\s+same)\b",
    r"\bsame\s+(?:error|problem|issue|message|thing|result)\b",
    # "I still have the problem", "the issue persists"
    r"\bstill\s+(?:have|has|having|had|get|gets|see|sees|seeing)\s+(?:the|this|that|my|an?|same)?\s*"
    r"(?:problem|issue|error|bug|message)\b",
    r"\b(?:problem|issue|error|bug)\s+(?:persists|remains|continues|is\s+still\s+there)\b",
    r"\bno\s+(?:luck|change|difference|improvement|effect)\b",
    r"\bnothing\s+(?:changed|works|worked|helped|happens|happened)\b",
    r"\b(?:it|that|this)\s+(?:failed|fails)\b",
    # A reply that opens with a bare "no" ("No, ...", "Nope") answers "did this solve it?".
    r"^\s*(?:no|nope|nah)\b(?!\s+(?:problem|worries|issue|issues|need|more)\b)",
    # French
    r"\b(?:ne|n)\s*(?:marche|fonctionne|va|change|resout|regle)\s+(?:toujours\s+|plus\s+|vraiment\s+)?(?:pas|rien)\b",
    r"\bn\s*(?:a|ont|avait)\s+(?:pas|rien)\s+(?:\w+\s+)?(?:marche|fonctionne|aide|resolu|regle|change)\b",
    r"\btoujours\s+(?:pas|le\s+meme|la\s+meme|les\s+memes|rien|bloque\w*|en\s+panne|une\s+erreur)\b",
    r"\bpas\s+(?:resolu|regle|mieux)\b",
    r"\bmeme\s+(?:erreur|probleme|message|souci)\b",
    r"\brien\s+(?:n\s*a\s+change|ne\s+change|ne\s+marche|ne\s+fonctionne)\b",
    r"^\s*non\b",
]
_SOLVED_PATTERNS = [
    r"\b(?:works|working|worked)\s+(?:now|fine|again|perfectly|great)\b",
    r"\b(?:it|that|this)\s+(?:works|worked|did\s+it|helped|fixed\s+it|solved\s+it)\b",
    r"\b(?:solved|fixed|resolved|sorted)\b",
    r"\b(?:ca|cela|tout)\s+(?:marche|fonctionne|remarche)\b",
    r"\b(?:resolu|regle|repare)\b",
]
_UNSOLVED = [re.compile(p) for p in _UNSOLVED_PATTERNS]
_SOLVED = [re.compile(p) for p in _SOLVED_PATTERNS]


def _fold(text: str) -> str:
    """Lower case, accents removed, apostrophes as spaces ("n'a" -> "n a", "doesn't" -> "doesn t" -> kept)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    plain = re.sub(r"[’`]", "'", plain)
    plain = re.sub(r"\b(\w+)n't\b", r"\1 not", plain)  # "doesn't" -> "does not", "can't" -> "ca not"
    return re.sub(r"'", " ", plain)


def _spans(patterns: list[re.Pattern[str]], text: str) -> list[tuple[int, int]]:
    return [match.span() for pattern in patterns for match in pattern.finditer(text)]


def says_unsolved(comment: str) -> bool:
    """True when the comment says the problem persists, and does not say afterwards that it was solved."""
    text = _fold(comment)
    unsolved = _spans(_UNSOLVED, text)
    if not unsolved:
        return False
    # A solved cue inside an unsolved phrase ("not solved") is that phrase's negation, not a cue of its own.
    solved = [s for s in _spans(_SOLVED, text) if not any(u[0] <= s[0] and s[1] <= u[1] for u in unsolved)]
    last_unsolved = max(start for start, _ in unsolved)
    return not any(start > last_unsolved for start, _ in solved)
