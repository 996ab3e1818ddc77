r"""Person names where a ticket's own shape gives them away: greetings, introductions, sign-offs.

Free-text name recognition needs a model; here only capitalised words right after a cue are taken,
so ordinary words stay. Cues are French and English:

- greetings: "Hi John,", "Bonjour Marie,", "Dear Mr. Smith", "Chère Madame Dupont" — the name must
  end the clause (comma, line end, "!"), which keeps "Hello Chrome crashes" out;
- introductions: "My name is John Smith", "Je m'appelle Jean Dupont";
- sign-offs: "Regards,\nJohn Smith", "Cordialement,\nJean DUPONT", "Thanks, Anna", "-- \nAnna" — the
  name must end its line;
- mail headers and form fields: "From: John Smith <john@acme.com>", "De : Jean Dupont", "Nom : Martin".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from text.pii_patterns import Span

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿ"
# "Marie", "Jean-Pierre", "O'Brien", "DUPONT", "McDonald".
_NAME_WORD = (
    rf"[{_UPPER}](?:[{_LOWER}]+(?:[{_UPPER}][{_LOWER}]+)?|[{_UPPER}]+|(?=['’]))(?:['’-][{_UPPER}][{_LOWER}{_UPPER}]+)*"
)
_NAME = rf"(?P<name>{_NAME_WORD}(?:[ \t]+(?:(?:de|du|van|von|da|di|le|la)[ \t]+)?{_NAME_WORD}){{0,2}})"
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof|Pr|Mme|Mlle|Me|M)\.?|Monsieur|Madame|Mademoiselle|Sir)"

_GREETING_CUES = (
    r"hi|hello|hey|dear|good (?:morning|afternoon|evening)|greetings|"
    r"bonjour|bonsoir|salut|coucou|cher|ch[èe]re|allo|allô"
)
_INTRODUCTION_CUES = r"my name is|my name's|my name’s|je m'appelle|je m’appelle|je me nomme|mon nom est"
_SIGN_OFF_CUES = (
    r"(?:best |kind |warm |warmest )?regards|best wishes|best|cheers|sincerely|yours(?: truly| sincerely)?|"
    r"thanks?(?: you)?(?: again| in advance| a lot)?|many thanks|thx|"
    r"(?:bien )?cordialement|bien à vous|salutations(?: distinguées)?|sincères salutations|"
    r"merci(?: d'avance| d’avance| beaucoup| encore| par avance)?|bonne (?:journée|soirée)|"
    r"respectueusement|amicalement|à bientôt|--"
)

# Greetings and sign-offs count only at the start of a line or a sentence ("the best Chrome" is no sign-off).
_CLAUSE_START = r"(?:^|(?<=[.!?]))[ \t]*"

GREETING_NAME_RE = re.compile(
    rf"{_CLAUSE_START}(?i:{_GREETING_CUES})[ \t]+(?:{_TITLE}[ \t]+)?{_NAME}(?=[ \t]*(?:[,!:;\n]|$))",
    re.MULTILINE,
)
INTRODUCTION_NAME_RE = re.compile(rf"(?<![\w'’])(?i:{_INTRODUCTION_CUES})[ \t]+(?:{_TITLE}[ \t]+)?{_NAME}\b")
SIGN_OFF_NAME_RE = re.compile(
    rf"{_CLAUSE_START}(?i:{_SIGN_OFF_CUES})[ \t]*[,.!]?[ \t]*(?:\r?\n[ \t]*)*(?:{_TITLE}[ \t]+)?{_NAME}"
    r"(?=[ \t]*[.!]?[ \t]*(?:\r?\n|$))",
    re.MULTILINE,
)

# Mail headers and form fields at the start of a line: "From: John Smith <john@x.com>", "Nom : Dupont".
_FIELD_CUES = (
    r"from|to|cc|sent by|reply-to|de|à|envoyé par|répondre à|name|full name|first name|last name|"
    r"nom|nom complet|prénom|contact|customer|client|interlocuteur|demandeur|requester|requested by"
)
HEADER_FIELD_NAME_RE = re.compile(
    rf"^[ \t]*(?i:{_FIELD_CUES})[ \t]*:[ \t]*(?:{_TITLE}[ \t]+)?{_NAME}(?=[ \t]*(?:[<(,;]|\r?\n|$))",
    re.MULTILINE,
)

# Capitalised words that follow the cues without being anyone's name.
_NOT_A_NAME_WORDS = """
    all everyone everybody team teams there guys folks friends colleagues sir madam madame monsieur
    mademoiselle customer customers client clients cliente service services support helpdesk desk
    again world doxa the a an our your my it admin administrator administrateur administration
    équipe equipe tous toutes chers chères collègues mesdames messieurs amis ami vous toi
    sales billing comptabilité facturation direction rh hr it dsi informatique technique tech
    merci thanks thank regards cordialement bonjour hello hi dear bonne journée soirée
    i je im not pas very très so vraiment really sorry désolé désolée unable bloqué bloquée stuck
    having still toujours encore unable trying writing contacting
    """
NOT_A_NAME = frozenset(_NOT_A_NAME_WORDS.split())


def find_person_names(text: str) -> Iterator[Span]:
    """Spans of names after greeting, introduction, sign-off and header cues."""
    for pattern in (GREETING_NAME_RE, INTRODUCTION_NAME_RE, SIGN_OFF_NAME_RE, HEADER_FIELD_NAME_RE):
        for match in pattern.finditer(text):
            span = _name_span(match)
            if span is not None:
                yield span


def _name_span(match: re.Match[str]) -> Span | None:
    """The span of the name words, cut before the first word that is not a name."""
    start, end = match.span("name")
    kept_end = start
    for word in re.finditer(r"\S+", match.group("name")):
        if word.group().lower() in NOT_A_NAME:
            break
        kept_end = start + word.end()
    return (start, kept_end) if kept_end > start else None
