"""The customer-facing wording of every e-mail, in English and French.

Templates are plain text filled with `str.format`; every value that comes from a customer is passed through
`graph.outbox` sanitising before it is stored, and nothing here is ever rendered as HTML.
"""

from __future__ import annotations

from typing import Literal

from text.analysis import detect_language

Language = Literal["en", "fr"]


def language_of(text: str) -> Language:
    """The language to answer in: French for French tickets, English otherwise."""
    return "fr" if detect_language(text) == "fr" else "en"


GREETING = {"en": "Hello {name},", "fr": "Bonjour {name},"}
ANONYMOUS = {"en": "there", "fr": ""}

SUBJECT = {
    "auto_confident": {"en": "Re: {subject} - here is the solution", "fr": "Re : {subject} - voici la solution"},
    "solution": {"en": "Re: {subject} - a suggested solution", "fr": "Re : {subject} - une solution proposée"},
    "escalation_notice": {
        "en": "Re: {subject} - passed to a specialist",
        "fr": "Re : {subject} - transmis à un spécialiste",
    },
    "rejection": {"en": "Re: {subject} - we need more details", "fr": "Re : {subject} - il nous faut plus de détails"},
}

INTRO = {
    "auto_confident": {
        "en": "Thank you for your message. Our knowledge base has a clear answer to your question:",
        "fr": "Merci pour votre message. Notre base de connaissances répond clairement à votre question :",
    },
    "solution": {
        "en": "Thank you for your message. Here is what should help:",
        "fr": "Merci pour votre message. Voici ce qui devrait vous aider :",
    },
}

CLOSING = {
    "auto_confident": {
        "en": "We are confident this resolves your issue. If it does not, simply reply and tell us what happens.",
        "fr": (
            "Nous pensons que cela résout votre problème. Sinon, répondez simplement en nous décrivant ce qui se passe."
        ),
    },
    "solution": {
        "en": "Did this solve your problem? Reply yes, or tell us what still does not work and we will look again.",
        "fr": "Cela a-t-il résolu votre problème ? Répondez oui, ou dites-nous ce qui ne fonctionne pas encore.",
    },
}

# A retry follows the customer's "that did not help": it thanks them and offers something else, never
# "we are confident" again.
RETRY_INTRO = {
    "en": "Thank you for letting us know. Here is another suggestion from our help articles:",
    "fr": "Merci de nous l'avoir signalé. Voici une autre piste tirée de nos articles d'aide :",
}

# Said, before the intro's closing colon, when the answer that follows is in the other language (a French
# ticket answered from an English-only help centre): the customer should not have to wonder why.
OTHER_LANGUAGE_NOTE = {
    "en": " (our documentation on this is in French)",
    "fr": " (notre documentation à ce sujet n'existe qu'en anglais)",
}


def intro_for(intro: str, language: Language, answer: str) -> str:
    """The intro, saying before its colon when the answer is in the other language (undecidable text: not)."""
    if detect_language(answer, default=language) == language:
        return intro
    head = intro.rstrip().removesuffix(":").rstrip()
    return f"{head}{OTHER_LANGUAGE_NOTE[language]}{' :' if language == 'fr' else ':'}"


SOURCES = {"en": "Sources:", "fr": "Sources :"}
FAQ_LABEL = {"en": "Frequently asked question", "fr": "Question fréquente"}

ESCALATION_BODY = {
    "en": (
        "Thank you for your patience. Your request needs the attention of a specialist, so we have passed it to "
        "our {team} team (reference {escalation_id}). They will contact you directly."
    ),
    "fr": (
        "Merci de votre patience. Votre demande nécessite l'attention d'un spécialiste : nous l'avons transmise "
        "à notre équipe {team} (référence {escalation_id}). Elle vous contactera directement."
    ),
}

# The opening of the escalation notice when the knowledge base is why a person takes over: said plainly.
ESCALATION_KB_OPENING = {
    "no_answer": {
        "en": "We could not find an answer to your question in our knowledge base.",
        "fr": "Nous n'avons pas trouvé de réponse à votre question dans notre base de connaissances.",
    },
    "nothing_new": {
        "en": "We are sorry the previous answer did not help. Our knowledge base has nothing new to suggest.",
        "fr": "Nous sommes désolés que la réponse précédente ne vous ait pas aidé. Notre base de connaissances "
        "n'a rien de nouveau à proposer.",
    },
}

REJECTION_BODY = {
    "en": "We could not work on your request yet, because:\n{reasons}\n\nPlease reply with these details.",
    "fr": (
        "Nous ne pouvons pas encore traiter votre demande, car :\n{reasons}\n\nMerci de répondre avec ces précisions."
    ),
}

SIGNATURE = {"en": "The support team", "fr": "L'équipe support"}

TEAM_NOTIFICATION = (
    "Ticket {ticket_id} was escalated to {team}.\nReason: {reason}\nPriority: {priority}\nCategory: {category}\n"
    "Attempts: {attempt}\nSuggested skills: {skills}\n\nSummary: {summary}\n\nSubject: {subject}\n\n{body}"
)

# The validator's reason codes (text.analysis.vagueness), worded for the customer.
REJECTION_REASONS = {
    "too_short": {
        "en": "the description is too short for us to understand the problem",
        "fr": "la description est trop courte pour comprendre le problème",
    },
    "no_words": {"en": "the message contains no words", "fr": "le message ne contient aucun mot"},
    "only_generic_words": {
        "en": "it does not say what is wrong (which product, what you did, what happened)",
        "fr": "il ne dit pas ce qui ne va pas (quel produit, ce que vous avez fait, ce qui s'est passé)",
    },
    "gibberish": {"en": "the text could not be read", "fr": "le texte est illisible"},
    "repeated_characters": {
        "en": "the text is mostly repeated characters",
        "fr": "le texte est surtout composé de caractères répétés",
    },
}
