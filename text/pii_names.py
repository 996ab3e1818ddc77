r"""Person names where a ticket's own shape gives them away: greetings, introductions, sign-offs.

Free-text name recognition needs a model; here only capitalised words right after a cue are taken,
so ordinary words stay. Cues are French and English:

- greetings: "Hi John,", "Bonjour Marie,", "Dear Mr. Smith", "Chère Madame Dupont" — the name must
  end the clause (comma, line end, "!"), which keeps "Hello Chrome crashes" out;
- introductions: "My name is John Smith", "Je m'appelle Jean Dupont";
- sign-offs: "Regards,\nJohn Smith", "Cordialement,\nJean DUPONT", "Thanks, Anna", "-- \nAnna" — the
  name must end its line;
- mail headers and form fields: "From: John Smith <john@acme.com>", "De : Jean Dupont", "Nom : Martin";
- anywhere in a sentence, a given name from `text.pii_first_names` followed by a capitalised surname
  ("Jeanne Dupont confirmed", "Jane Doe's mailbox"), a title and a name ("Mme Sophie Laurent"), or a
  given name alone after a word that introduces a person ("called Jeanne", "avec Paul").

spaCy's French NER (fr_core_news_sm) and Presidio were measured against these rules on
tests/data/pii_corpus.jsonl before they were written; RELIABILITY.md has the figures and the choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from text.pii_first_names import FIRST_NAMES
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
    rf"{_CLAUSE_START}(?i:{_GREETING_CUES})[ \t]*,?[ \t]+(?:{_TITLE}[ \t]+)?{_NAME}(?=[ \t]*(?:[,!:;\n]|$))",
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

# A title names the person who follows it anywhere: "Mme Sophie Laurent", "Mr. Thomas Bernard". The
# one-letter "M." and "Me" (also English "me") count only after the cues above.
TITLE_NAME_RE = re.compile(rf"(?<![\w.])(?:Mr|Mrs|Ms|Dr|Mme|Mlle|Monsieur|Madame|Mademoiselle)\.?[ \t]+{_NAME}")
# Runs of capitalised words, searched for a given name followed by a surname.
CAPITALISED_RUN_RE = re.compile(
    rf"(?<![\w'’@./-]){_NAME_WORD}(?:[ \t]+(?:(?:de|du|van|von|da|di|le|la)[ \t]+)?{_NAME_WORD})*"
)
_WORD_IN_RUN_RE = re.compile(rf"(?:(?:de|du|van|von|da|di|le|la)[ \t]+)?{_NAME_WORD}")
# Words after which a lone given name is a person: "called Jeanne", "spoke with Paul", "merci à Léa".
_PERSON_CUES = (
    r"called|named|with|by|from|for|behalf of|asked|thanks to|spoke to|talked to|"
    r"appelée?|nommée?|avec|par|pour|de la part de|merci à|à"
)
CUED_GIVEN_NAME_RE = re.compile(rf"(?<![\w'’])(?i:{_PERSON_CUES})[ \t]+(?P<name>{_NAME_WORD})(?![\w'’-])")

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
    for pattern in (GREETING_NAME_RE, INTRODUCTION_NAME_RE, SIGN_OFF_NAME_RE, HEADER_FIELD_NAME_RE, TITLE_NAME_RE):
        for match in pattern.finditer(text):
            span = _name_span(match)
            if span is not None:
                yield span
    for match in CUED_GIVEN_NAME_RE.finditer(text):
        if is_given_name(match.group("name")):
            yield match.span("name")
    for run in CAPITALISED_RUN_RE.finditer(text):
        yield from _given_and_surname_spans(run)


def is_given_name(word: str) -> bool:
    """Whether a word ("Jeanne", "Jean-Pierre", "ÉMILIE") is a common given name, each hyphenated part counted."""
    return all(part in FIRST_NAMES for part in word.lower().split("-"))


def _given_and_surname_spans(run: re.Match[str]) -> Iterator[Span]:
    """Spans in a capitalised run where a given name is followed by one or two surname words."""
    words = [(run.start() + w.start(), run.start() + w.end(), w.group()) for w in _WORD_IN_RUN_RE.finditer(run.group())]
    index = 0
    while index < len(words) - 1:
        start, _, word = words[index]
        start += len(word) - len(word.split()[-1])  # "de Pierre Durand": the particle is not the name
        surnames = 0
        for _, _, following in words[index + 1 : index + 3]:
            if following.split()[-1].lower() in NOT_A_NAME:
                break
            surnames += 1
        if is_given_name(word.split()[-1]) and surnames:
            yield start, words[index + surnames][1]
            index += surnames + 1
        else:
            index += 1


def _name_span(match: re.Match[str]) -> Span | None:
    """The span of the name words, cut before the first word that is not a name."""
    start, end = match.span("name")
    kept_end = start
    for word in re.finditer(r"\S+", match.group("name")):
        if word.group().lower() in NOT_A_NAME:
            break
        kept_end = start + word.end()
    return (start, kept_end) if kept_end > start else None
