"""Urgency and impact signals for the scorer's offline path, French and English.

Urgency terms say how fast ("urgent", "ASAP", "bloquant", "by tomorrow"); impact terms say how bad
("production down", "all users", "tous les utilisateurs", "data loss", "security breach"). Negated
terms ("not urgent", "pas urgent", "rien d'urgent") do not count. `score_hint` is a 0-100 nudge
for the priority score, summed over the distinct signal categories found.

Example:
    >>> signals = urgency_signals("URGENT : la production est en panne pour tous les utilisateurs")
    >>> signals.urgency_terms, signals.impact_terms, signals.score_hint
    (('urgent',), ('production est en panne', 'tous les utilisateurs'), 85)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text.normalise import fold

_DAYS = r"(?:monday|tuesday|wednesday|thursday|friday|lundi|mardi|mercredi|jeudi|vendredi)"
_SYSTEMS = (
    r"(?:production|prod|site|website|service|server|serveur|app|application|platform|plateforme|"
    r"system|systeme|api|portail|portal)"
)

# Category -> (weight in the score hint, pattern on folded text).
URGENCY_PATTERNS: dict[str, tuple[int, re.Pattern[str]]] = {
    "urgent": (20, re.compile(r"\b(?:urgent|urgente|urgently|urgence|emergency|critical|critique)\b")),
    "asap": (
        15,
        re.compile(
            r"\b(?:asap|as soon as possible|right away|right now|immediately|au plus vite|des que possible|"
            r"au plus tot|immediatement|tout de suite|sans delai|rapidement)\b"
        ),
    ),
    # A blocked person is urgent; a blocked card or account ("compte bloqué") is a topic, not a deadline.
    "blocking": (
        20,
        re.compile(
            r"\b(?:blocking|blocker|bloquant|bloquante|(?:i'm|i am|we are|we're) (?:completely |totally )?blocked|"
            r"(?:je suis|nous sommes|on est|suis) (?:completement |totalement )?bloque(?:e|s|es)?)\b"
        ),
    ),
    "priority": (15, re.compile(r"\b(?:high priority|top priority|highest priority|prioritaire|priorite haute)\b")),
    "deadline": (
        15,
        re.compile(
            rf"\b(?:deadline|due date|date limite|echeance|eod|"
            rf"by (?:tomorrow|tonight|today|the end of (?:the )?(?:day|week)|end of (?:day|week)|{_DAYS})|"
            rf"before (?:tomorrow|tonight|{_DAYS}|the end of (?:the )?(?:day|week))|"
            rf"(?:avant|d'ici|pour) (?:demain|ce soir|la fin de (?:la )?(?:journee|semaine)|{_DAYS})|"
            rf"aujourd'hui meme|dans l'heure)\b"
        ),
    ),
}
IMPACT_PATTERNS: dict[str, tuple[int, re.Pattern[str]]] = {
    "outage": (
        35,
        re.compile(
            rf"\b(?:{_SYSTEMS}(?: is| est)? (?:down|en panne|hors service|hors ligne|offline|inaccessible|"
            rf"indisponible|unavailable|unreachable)|outage|panne generale|panne totale|prod down)\b"
        ),
    ),
    "all_users": (
        30,
        re.compile(
            r"\b(?:(?:all|every) (?:of )?(?:our |the )?(?:users|customers|clients|employees|staff|agents)|"
            r"everyone|entire (?:team|company)|whole (?:team|company)|nobody can|no one can|"
            r"tous (?:les|nos) (?:utilisateurs|clients|salaries|collaborateurs|employes|agents)|"
            r"toute l'(?:equipe|entreprise)|toute la societe|personne ne peut|plus personne)\b"
        ),
    ),
    "cannot_work": (
        25,
        re.compile(
            r"\b(?:can't work|cannot work|can not work|unable to work|can't do (?:my|our) (?:job|work)|"
            r"work is (?:stopped|blocked)|impossible de travailler|(?:ne )?(?:peux|pouvons|peut) plus travailler|"
            r"activite (?:est )?(?:bloquee|arretee|a l'arret)|chomage technique)\b"
        ),
    ),
    "data_loss": (
        40,
        re.compile(
            r"\b(?:data loss|lost (?:all )?(?:my |our )?data|data (?:is |was )?(?:lost|deleted|corrupted)|"
            r"perte de donnees|donnees (?:perdues|effacees|supprimees|corrompues))\b"
        ),
    ),
    "security": (
        40,
        re.compile(
            r"\b(?:security (?:breach|incident)|data breach|data leak|hacked|compromised|ransomware|phishing|"
            r"piratage|pirate|faille de securite|fuite de donnees|intrusion)\b"
        ),
    ),
    "revenue": (
        25,
        re.compile(
            r"\b(?:losing (?:money|sales|customers|revenue)|lost (?:sales|revenue)|"
            r"perte de chiffre d'affaires|perdons (?:de l'argent|des clients|des ventes))\b"
        ),
    ),
    # A customer threatening legal action is a high-priority ticket whatever the amount: a person must answer
    # before it escalates further, so this one cue alone reaches the high band (66-85).
    "legal": (
        70,
        re.compile(
            r"\b(?:legal action|legal proceedings|lawyers?|attorneys?|solicitors?|lawsuit|sue (?:you|your company)|"
            r"take (?:you|this|it) to court|small claims|court action|"
            r"avocats?|action en justice|poursuites? judiciaires?|poursuivre en justice|mise en demeure|"
            r"porter plainte|tribunal|saisir la justice)\b"
        ),
    ),
}
URGENCY_CATEGORY_CAP = 40
"""At most this much of the hint comes from urgency words alone: saying "urgent" twice is not impact."""

_NEGATED_BEFORE_RE = re.compile(r"(?:\b(?:not|no|non|pas|nothing|isn't|n'est|never|jamais)\s+|\brien d')$")


@dataclass(frozen=True, slots=True)
class UrgencySignals:
    """Urgency and impact phrases found (folded, in text order) and a 0-100 priority nudge."""

    urgency_terms: tuple[str, ...]
    impact_terms: tuple[str, ...]
    score_hint: int


def urgency_signals(text: str) -> UrgencySignals:
    """Find how urgent and how wide-reaching a ticket says its problem is."""
    folded = fold(text)
    urgency_terms, urgency_score = _find(folded, URGENCY_PATTERNS)
    impact_terms, impact_score = _find(folded, IMPACT_PATTERNS)
    score = min(urgency_score, URGENCY_CATEGORY_CAP) + impact_score
    return UrgencySignals(urgency_terms, impact_terms, min(100, score))


def _find(folded: str, patterns: dict[str, tuple[int, re.Pattern[str]]]) -> tuple[tuple[str, ...], int]:
    """Phrases matched in text order, and the summed weights of the categories they belong to."""
    hits: list[tuple[int, str]] = []
    score = 0
    for weight, pattern in patterns.values():
        category_hits = [
            (match.start(), match.group())
            for match in pattern.finditer(folded)
            if not _NEGATED_BEFORE_RE.search(folded[max(0, match.start() - 12) : match.start()])
        ]
        if category_hits:
            score += weight
            hits.extend(category_hits)
    return tuple(dict.fromkeys(term for _, term in sorted(hits))), score
