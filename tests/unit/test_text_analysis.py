"""Offline text heuristics: language, keywords, entities, urgency, vagueness (text.analysis)."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from text import analysis as text_analysis
from text import entities as text_entities
from text import urgency as text_urgency
from text.analysis import (
    MIN_DESCRIPTION_LENGTH,
    detect_language,
    extract_entities,
    extract_keywords,
    urgency_signals,
    vagueness,
)
from text.vocabulary import DEFAULT_COMPONENT_VOCABULARY

# --- language --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Bonjour, je n'arrive pas à me connecter depuis ce matin.", "fr"),
        ("Impossible de me connecter", "fr"),
        ("La facture de mars est fausse", "fr"),
        ("Échec de l'export", "fr"),
        ("Hello, I cannot log in since this morning.", "en"),
        ("The invoice for March is wrong", "en"),
        ("Export fails with error 500 when I click the button", "en"),
    ],
)
def test_language_is_detected(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_language_falls_back_to_the_default_when_nothing_tells() -> None:
    assert detect_language("ERR_CONNECTION_REFUSED 0x80070005") == "en"
    assert detect_language("ERR_CONNECTION_REFUSED 0x80070005", default="fr") == "fr"
    assert detect_language("") == "en"


# --- keywords --------------------------------------------------------------------------------------

LONG_EN = (
    "The application crashes when opening the monthly report in Firefox on Windows 11, error 0x80070005. "
    "The report worked last week, and exporting the report to PDF still works."
)
LONG_FR = (
    "Bonjour, je n'arrive plus à télécharger mes factures depuis le tableau de bord. "
    "La facture de mars affiche une erreur 500 et l'export PDF des factures reste bloqué. Merci"
)


@pytest.mark.parametrize("text", [LONG_EN, LONG_FR])
def test_keyword_count_is_between_five_and_eight_for_rich_text(text: str) -> None:
    keywords = extract_keywords(text)
    assert 5 <= len(keywords) <= 8


def test_keywords_keep_codes_and_versions_in_their_written_form() -> None:
    keywords = extract_keywords("Export CSV fails with ERR_CONNECTION_REFUSED on Chrome since v2.3.1 update")
    assert keywords[:2] == ["ERR_CONNECTION_REFUSED", "2.3.1"]
    assert {"export", "csv", "chrome"} <= set(keywords)


def test_keywords_drop_stop_words_and_filler_in_both_languages() -> None:
    keywords = extract_keywords(LONG_FR + " " + LONG_EN, k_max=20)
    for word in ("bonjour", "merci", "je", "le", "the", "when", "and", "still", "depuis"):
        assert word not in keywords


def test_plurals_merge_into_one_keyword_under_the_most_frequent_spelling() -> None:
    keywords = extract_keywords(LONG_FR)  # "factures" twice, "facture" once
    assert keywords[0] == "factures"
    assert "facture" not in keywords
    assert "500" in keywords


def test_on_a_spelling_tie_the_singular_wins() -> None:
    keywords = extract_keywords("Invoices missing: the invoice from March is not in the archive")
    assert "invoice" in keywords
    assert "invoices" not in keywords


def test_verb_forms_share_one_keyword() -> None:
    keywords = extract_keywords(
        "Subject: App crashes\nThe app crashed when opening settings. It crashes when I open them."
    )
    assert keywords.count("crashes") == 1 and "crashed" not in keywords
    assert "open" in keywords and "opening" not in keywords
    assert "subject" not in keywords
    assert extract_keywords("Impossible d'exporter : l'export échoue") == ["export", "impossible", "échoue"]


def test_times_ordinals_and_titles_are_not_keywords() -> None:
    keywords = extract_keywords("Objet : panne\nBonjour Mme Martin, the API is down since 2am, 3rd outage, 14h30, 10MB")
    assert not {"2am", "3rd", "14h30", "10MB", "mme", "objet"} & set(keywords)
    assert "api" in keywords


def test_frequent_words_outrank_single_mentions() -> None:
    keywords = extract_keywords(LONG_EN)
    assert keywords[0] == "report"
    assert "0x80070005" in keywords[:3]
    assert len(set(keywords)) == len(keywords)


def test_short_text_gives_fewer_keywords_rather_than_padding() -> None:
    # "connecter" names a component (login), so it outranks the earlier "impossible".
    assert extract_keywords("Impossible de me connecter") == ["connecter", "impossible"]
    assert extract_keywords("help, please!") == []
    assert extract_keywords("") == []


def test_keyword_bounds_are_respected_and_validated() -> None:
    assert len(extract_keywords(LONG_EN, k_min=2, k_max=3)) <= 3
    assert len(extract_keywords(LONG_EN, k_min=8, k_max=8)) == 8
    with pytest.raises(ValueError):
        extract_keywords(LONG_EN, k_min=6, k_max=5)
    with pytest.raises(ValueError):
        extract_keywords(LONG_EN, k_min=0)


def test_redaction_placeholders_are_not_keywords() -> None:
    keywords = extract_keywords("Bonjour [NAME], the [EMAIL] invoice export fails on the dashboard for [PHONE]")
    assert not {"name", "email", "phone", "NAME", "EMAIL"} & set(keywords)
    assert {"invoice", "export", "dashboard"} <= set(keywords)


# --- entities --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("I get error 500 when saving", ("500",)),
        ("erreur : 403 à la connexion", ("403",)),
        ("HTTP 503 on the API", ("503",)),
        ("the page says 404 Not Found", ("404",)),
        ("Windows error 0x80070005 when saving", ("0x80070005",)),
        ("Chrome shows ERR_CONNECTION_REFUSED", ("ERR_CONNECTION_REFUSED",)),
        ("NET::ERR_CERT_AUTHORITY_INVALID in Chrome", ("NET::ERR_CERT_AUTHORITY_INVALID",)),
        ("connect ECONNREFUSED 127.0.0.1:5432", ("ECONNREFUSED",)),
        ("code d'erreur E1234 puis ORA-00942", ("E1234", "ORA-00942")),
        ("Sign-in failed: AADSTS50126", ("AADSTS50126",)),
    ],
)
def test_error_codes_are_extracted(text: str, codes: tuple[str, ...]) -> None:
    assert extract_entities(text).error_codes == codes


@pytest.mark.parametrize(
    "text",
    [
        "ticket TKT-456 and INC0012345",
        "order 123456789, commande n° 4567",
        "price 1 234,56 € or $1,299.99",
        "since 2024-01-11 at 14:30",
        "code postal 75001",
    ],
)
def test_ids_prices_and_dates_are_not_error_codes(text: str) -> None:
    assert extract_entities(text).error_codes == ()


@pytest.mark.parametrize(
    ("text", "versions"),
    [
        ("since v2.3.1 the export fails", ("2.3.1",)),
        ("after upgrading to version 14", ("14",)),
        ("on iOS 17.2 and Android 14", ("iOS 17.2", "Android 14")),
        ("ios 17.2", ("iOS 17.2",)),
        ("Chrome 120.0.6099.109 on Windows 11.", ("Chrome 120.0.6099.109", "Windows 11")),
        ("release 4.2, then 4.2.1-beta.2", ("4.2", "4.2.1-beta.2")),
        ("le 11.01.2024 à 14h", ()),
        ("price 12.50 €", ()),
    ],
)
def test_versions_are_extracted(text: str, versions: tuple[str, ...]) -> None:
    assert extract_entities(text).versions == versions


@pytest.mark.parametrize(
    ("text", "platforms"),
    [
        ("Crashes on Windows 10 and macOS", ("Windows", "macOS")),
        ("Sur mon iPhone et sous Android", ("Android", "iOS")),
        ("works in Firefox, fails in Google Chrome and Safari", ("Chrome", "Firefox", "Safari")),
        ("Microsoft Edge shows a blank page", ("Edge",)),
        ("Ubuntu 22.04 server", ("Linux",)),
        ("an edge case when two windows are open", ()),
        ("on my Chromebook", ("ChromeOS",)),
    ],
)
def test_platforms_are_extracted(text: str, platforms: tuple[str, ...]) -> None:
    assert extract_entities(text).platforms == platforms


@pytest.mark.parametrize(
    ("text", "components"),
    [
        ("I cannot log in to the dashboard", ("login", "dashboard")),
        ("Ma facture n'apparaît pas dans le tableau de bord", ("invoice", "dashboard")),
        ("Le paiement par carte bancaire échoue", ("payment",)),
        ("the mobile app does not send e-mails", ("mobile app", "email")),
        ("export CSV puis téléchargement", ("export", "download")),
        ("Problème de mot de passe sur l'application mobile", ("login", "mobile app")),
        ("The API webhook returns 401", ("api",)),
        ("nothing relevant here", ()),
    ],
)
def test_components_are_extracted_accent_blind(text: str, components: tuple[str, ...]) -> None:
    assert extract_entities(text).components == components


def test_component_vocabulary_can_be_extended() -> None:
    text = "The Gantt chart does not load"
    assert extract_entities(text).components == ()
    vocabulary = {**DEFAULT_COMPONENT_VOCABULARY, "planning": ("gantt", "diagramme de gantt", "planning")}
    assert extract_entities(text, component_vocabulary=vocabulary).components == ("planning",)


# --- urgency ---------------------------------------------------------------------------------------


def test_calm_ticket_has_no_urgency() -> None:
    signals = urgency_signals("How do I change the logo on my invoices?")
    assert signals.urgency_terms == () and signals.impact_terms == ()
    assert signals.score_hint == 0


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("URGENT please look", "urgent"),
        ("need this ASAP", "asap"),
        ("c'est bloquant pour nous", "bloquant"),
        ("merci de corriger au plus vite", "au plus vite"),
        ("we need it fixed by tomorrow", "by tomorrow"),
        ("à livrer avant vendredi", "avant vendredi"),
        ("Priorité haute", "priorite haute"),
    ],
)
def test_urgency_terms_are_found(text: str, term: str) -> None:
    signals = urgency_signals(text)
    assert term in signals.urgency_terms
    assert signals.score_hint > 0


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("production down since 9am", "production down"),
        ("Le site est en panne", "site est en panne"),
        ("all users are affected", "all users"),
        ("tous les utilisateurs sont touchés", "tous les utilisateurs"),
        ("we cannot work at all", "cannot work"),
        ("impossible de travailler", "impossible de travailler"),
        ("we had a data loss after the sync", "data loss"),
        ("perte de données après import", "perte de donnees"),
        ("I think we had a security breach", "security breach"),
        ("notre compte a été piraté", "pirate"),
    ],
)
def test_impact_terms_are_found(text: str, term: str) -> None:
    assert term in urgency_signals(text).impact_terms


def test_a_blocked_person_is_urgent_but_a_blocked_card_is_a_topic() -> None:
    assert urgency_signals("I'm completely blocked since this morning").urgency_terms
    assert urgency_signals("je suis bloquée depuis ce matin").urgency_terms
    assert urgency_signals("My card was blocked, how do I unblock it?").urgency_terms == ()
    assert urgency_signals("mon compte est bloqué").urgency_terms == ()


def test_negated_urgency_does_not_count() -> None:
    for text in ("This is not urgent", "pas urgent du tout", "rien d'urgent", "nothing urgent"):
        assert urgency_signals(text).urgency_terms == (), text


def test_score_hint_grows_with_breadth_and_is_capped() -> None:
    urgent_only = urgency_signals("urgent").score_hint
    urgent_and_down = urgency_signals("urgent: production down").score_hint
    everything = urgency_signals(
        "URGENT ASAP bloquant: production down, all users, data loss, security breach, cannot work"
    ).score_hint
    shouting_urgency = urgency_signals("urgent urgent!!! ASAP, immediately, critical, blocking, by tomorrow")
    assert 0 < urgent_only < urgent_and_down < everything == 100
    assert shouting_urgency.score_hint <= 40


# --- vagueness -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("help", "only_generic_words"),
        ("Help!!!", "only_generic_words"),
        ("urgent!!!", "only_generic_words"),
        ("aide", "only_generic_words"),
        ("Bug", "only_generic_words"),
        ("problème", "only_generic_words"),
        ("It doesn't work, please help ASAP!!!", "only_generic_words"),
        ("ça marche pas, j'ai besoin d'aide svp", "only_generic_words"),
        ("???", "no_words"),
        ("😡😡😡 !!!", "no_words"),
        ("asdfgh qwerty", "gibberish"),
        ("DSFGHJK XCVBNM ZXCVB", "gibberish"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaa", "repeated_characters"),
    ],
)
def test_vague_texts_are_flagged_with_a_reason(text: str, reason: str) -> None:
    report = vagueness(text)
    assert report.vague
    assert reason in report.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Je n'arrive pas à exporter mes factures en PDF depuis hier",
        "Login fails on iOS 17.2 with error E1234 after the update",
        "HTTP SMTP NTFS error when sending emails from Outlook",
        "THE EXPORT BUTTON DOES NOTHING ON THE INVOICE PAGE",
        "I tried to get $100 but I just got $20",
        "Do you support the EU?",
    ],
)
def test_specific_texts_are_not_vague(text: str) -> None:
    report = vagueness(text)
    assert report == type(report)(too_short=False, vague=False, reasons=())


def test_length_threshold_follows_the_seed_and_is_a_parameter() -> None:
    assert MIN_DESCRIPTION_LENGTH == 20
    short = vagueness("Login fails")
    assert short.too_short and not short.vague and short.reasons == ("too_short",)
    assert not vagueness("Login fails", min_length=5).too_short
    assert not vagueness("x" * 3 + "Login fails on Safari").too_short


def test_padding_does_not_reach_the_minimum_length() -> None:
    report = vagueness("Helloooooooooooooooooooooo")
    assert report.too_short
    assert "repeated_characters" in report.reasons


def test_empty_text_is_too_short_and_vague() -> None:
    report = vagueness("   ")
    assert report.too_short and report.vague
    assert report.reasons == ("too_short", "no_words")


@pytest.mark.parametrize("module", [text_analysis, text_entities, text_urgency])
def test_docstring_examples_hold(module: ModuleType) -> None:
    assert doctest.testmod(module).failed == 0
