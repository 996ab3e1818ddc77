"""Lexicon-based sentiment for the evaluator (text.sentiment)."""

from __future__ import annotations

import doctest

import pytest

from text import sentiment as text_sentiment
from text.sentiment import DEFAULT_STRONGLY_NEGATIVE_THRESHOLD, analyze_sentiment


@pytest.mark.parametrize(
    "text",
    [
        "The export to CSV fails with error 500 since yesterday.",
        "La facture ne s'affiche pas dans le tableau de bord.",
        "How do I reset my password?",
        "Comment ajouter un utilisateur ?",
        "",
    ],
)
def test_plain_bug_reports_and_questions_are_neutral(text: str) -> None:
    result = analyze_sentiment(text)
    assert result.label == "neutral"
    assert result.score == 0
    assert not result.strongly_negative


def test_courtesy_alone_is_not_a_mood() -> None:
    assert analyze_sentiment("L'export PDF renvoie l'erreur 500. Merci d'avance").label == "neutral"
    assert analyze_sentiment("The API returns 503.\nThanks,\nMaria").label == "neutral"


@pytest.mark.parametrize(
    "text", ["I am happy with the service, thanks!", "Merci beaucoup, c'est parfait", "Super rapide, merci !"]
)
def test_praise_is_positive(text: str) -> None:
    result = analyze_sentiment(text)
    assert result.label == "positive"
    assert result.score > 0


@pytest.mark.parametrize(
    ("text", "negated_word"),
    [
        ("I am not happy with the service", "happy"),
        ("I'm not satisfied at all", "satisfied"),
        ("Je ne suis pas content", "content"),
        ("Je ne suis pas du tout satisfaite", "satisfaite"),
        ("This isn't good", "good"),
        ("Ce n'est pas génial", "genial"),
    ],
)
def test_negated_praise_is_negative(text: str, negated_word: str) -> None:
    result = analyze_sentiment(text)
    assert result.label == "negative"
    assert f"negated:{negated_word}" in result.cues
    assert not result.strongly_negative


def test_negated_complaint_softens_to_positive() -> None:
    assert analyze_sentiment("not bad at all").label == "positive"


def test_french_idiom_pas_terrible_means_poor() -> None:
    result = analyze_sentiment("Pas terrible ce logiciel")
    assert result.label == "negative"
    assert result.cues == ["idiom:pas terrible"]


def test_negation_stops_at_punctuation() -> None:
    assert analyze_sentiment("Not sure why, but I am happy now").label == "positive"


def test_intensifiers_strengthen_and_capitals_shout() -> None:
    plain = analyze_sentiment("I am disappointed").score
    intensified = analyze_sentiment("I am really disappointed").score
    capitalised = analyze_sentiment("I am DISAPPOINTED").score
    assert intensified < plain < 0
    assert capitalised < plain


def test_words_are_found_without_accents() -> None:
    with_accents = analyze_sentiment("je suis déçu et énervé")
    without = analyze_sentiment("je suis decu et enerve")
    assert with_accents.score == without.score < 0


def test_exclamation_marks_amplify_a_negative_mood_only() -> None:
    calm = analyze_sentiment("This is unacceptable.")
    loud = analyze_sentiment("This is unacceptable!!!")
    assert loud.score < calm.score
    assert "exclamations" in loud.cues
    assert "exclamations" not in analyze_sentiment("Thanks!!!").cues


def test_all_caps_text_is_shouting() -> None:
    result = analyze_sentiment("WHY IS THIS STILL NOT WORKING")
    assert "shouting" in result.cues
    assert result.label == "negative"


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("I will cancel my subscription if this is not fixed", "threat:churn"),
        ("We are switching to a competitor next month", "threat:churn"),
        ("Je vais résilier mon abonnement", "threat:churn"),
        ("Je vais porter plainte", "threat:legal"),
        ("I'm contacting my lawyer", "threat:legal"),
        ("Vous recevrez une mise en demeure", "threat:legal"),
        ("I filed a chargeback with my bank", "threat:chargeback"),
        ("Je vais faire opposition sur le prélèvement", "threat:chargeback"),
        ("I'll leave a bad review everywhere", "threat:public"),
    ],
)
def test_threats_are_strongly_negative_even_when_politely_worded(text: str, cue: str) -> None:
    result = analyze_sentiment(f"Thanks. {text}")
    assert cue in result.cues
    assert result.strongly_negative


@pytest.mark.parametrize(
    "text",
    ["I don't want to cancel my subscription, just change plan", "Je ne veux pas résilier mon abonnement"],
)
def test_negated_threats_do_not_count(text: str) -> None:
    result = analyze_sentiment(text)
    assert not any(cue.startswith("threat:") for cue in result.cues)
    assert not result.strongly_negative


def test_threat_after_a_negated_clause_still_counts() -> None:
    result = analyze_sentiment("Je ne suis pas content, je vais porter plainte !")
    assert result.cues == ["negated:content", "threat:legal"]
    assert result.strongly_negative


@pytest.mark.parametrize(
    ("text", "word"),
    [("What the fuck is this", "fuck"), ("C'est de la merde", "merde"), ("putain ça marche pas", "putain")],
)
def test_profanity_is_negative(text: str, word: str) -> None:
    result = analyze_sentiment(text)
    assert f"profanity:{word}" in result.cues
    assert result.label == "negative"


@pytest.mark.parametrize(
    "text",
    [
        "This is the worst service ever!!! I'm really furious",
        "C'est vraiment nul, j'en ai marre",
        "Third time I write. Still not fixed. Unacceptable.",
        "Toujours pas de réponse, c'est inadmissible !!",
    ],
)
def test_angry_tickets_are_strongly_negative(text: str) -> None:
    result = analyze_sentiment(text)
    assert result.strongly_negative
    assert result.score <= DEFAULT_STRONGLY_NEGATIVE_THRESHOLD


def test_one_strong_word_alone_is_negative_but_not_strongly() -> None:
    result = analyze_sentiment("The exchange rate you use is terrible.")
    assert result.label == "negative"
    assert not result.strongly_negative
    assert analyze_sentiment("The exchange rate you use is really terrible.").strongly_negative


def test_fraud_as_a_topic_is_not_anger() -> None:
    assert not analyze_sentiment("How do I report fraud on my card?").strongly_negative


def test_threshold_is_a_parameter() -> None:
    text = "I am not happy with the service"
    score = analyze_sentiment(text).score
    assert -0.6 < score < 0
    assert not analyze_sentiment(text).strongly_negative
    assert analyze_sentiment(text, strongly_negative_threshold=-0.2).strongly_negative


def test_scores_stay_in_range() -> None:
    furious = "FUCK THIS SHIT!!! worst, horrible, awful, useless, lawyer, chargeback, cancel my account"
    delighted = "perfect excellent amazing wonderful fantastic thanks merci génial parfait"
    assert -1 <= analyze_sentiment(furious).score < -0.9
    assert 0.9 < analyze_sentiment(delighted).score <= 1


def test_docstring_example_holds() -> None:
    assert doctest.testmod(text_sentiment).failed == 0
