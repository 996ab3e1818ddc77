"""BM25 keyword index: tokenisation, per-field scores, category filter, revision-driven rebuilds."""

from __future__ import annotations

import threading

import pytest

from kb.keyword_index import CachedKeywordIndex, KeywordDocument, KeywordIndex, identifiers, tokenize

DOCS = [
    KeywordDocument("c1", "Windows update > Errors", "Error 0x80070005 means access is denied.", "windows"),
    KeywordDocument("c2", "Browser > Connection", "ERR_CONNECTION_REFUSED: the proxy refused the connection.", "web"),
    KeywordDocument("c3", "Réseau > Connexion", "Le navigateur ne peut pas se connecter aux serveurs.", "web"),
    KeywordDocument("c4", "Billing > Refunds", "Refunds are paid back within ten days.", "billing"),
]


def test_tokenize_folds_case_and_accents_and_drops_stop_words() -> None:
    assert tokenize("The Café is OPEN") == ["cafe", "open"]
    assert "reseau" in tokenize("Le réseau")


def test_tokenize_keeps_identifiers_whole_and_indexes_their_parts() -> None:
    terms = tokenize("Got ERR_CONNECTION_REFUSED with Tor 13.5.2 and code 0x80070005")
    assert {"err_connection_refused", "13.5.2", "0x80070005"} <= set(terms)
    assert "err" in terms and "13" in terms  # parts (words among them are stemmed when PyStemmer is there)


def test_tokenize_stems_english_and_french() -> None:
    pytest.importorskip("Stemmer")
    assert tokenize("connecting connected") == ["connect", "connect"]
    assert tokenize("les serveurs sont connectés") == tokenize("le serveur est connecté")


def test_identifiers_are_codes_versions_and_snake_case() -> None:
    assert identifiers("Error 0x80070005 in v2.3.1 (ERR_SSL) plain words") == ["0x80070005", "v2.3.1", "err_ssl"]


def test_search_finds_an_error_code_and_reports_coverage() -> None:
    index = KeywordIndex.build(DOCS)
    matches = index.search("what does 0x80070005 mean", limit=3)
    assert matches[0].chunk_id == "c1"
    assert matches[0].identifier_coverage == 1.0
    assert matches[0].body_score > 0


def test_title_and_body_are_scored_separately() -> None:
    index = KeywordIndex.build(DOCS)
    [match] = index.search("refunds", limit=1)
    assert match.chunk_id == "c4" and match.title_score > 0 and match.body_score > 0


def test_category_filter_excludes_other_categories() -> None:
    index = KeywordIndex.build(DOCS)
    assert {m.chunk_id for m in index.search("connection connexion", limit=5)} >= {"c2", "c3"}
    assert [m.chunk_id for m in index.search("connection", limit=5, category="billing")] == []
    assert index.search("connection", limit=5, category="no-such-category") == []


def test_extra_terms_add_to_the_query() -> None:
    index = KeywordIndex.build(DOCS)
    assert index.search("help", limit=5) == []
    assert index.search("help", limit=5, extra_terms=["refunds"])[0].chunk_id == "c4"


def test_scores_for_unknown_chunks_are_zero() -> None:
    index = KeywordIndex.build(DOCS)
    [known, unknown] = index.scores_for("refunds", ["c4", "missing"])
    assert known.body_score > 0 and unknown.body_score == unknown.title_score == 0.0


def test_empty_index_and_stop_word_queries_return_nothing() -> None:
    assert KeywordIndex.build([]).search("anything", limit=5) == []
    assert KeywordIndex.build(DOCS).search("the and of", limit=5) == []


class FakeSource:
    """An in-memory KeywordSource whose revision the test bumps."""

    def __init__(self) -> None:
        self.revision_number = 1
        self.documents = list(DOCS)

    def revision(self) -> int:
        return self.revision_number

    def keyword_documents(self) -> tuple[int, list[KeywordDocument]]:
        return self.revision_number, list(self.documents)


def test_cached_index_rebuilds_only_when_the_revision_changes() -> None:
    source = FakeSource()
    clock = [0.0]
    cached = CachedKeywordIndex(source, revision_check_s=5.0, clock=lambda: clock[0])
    first = cached.current()
    assert cached.current() is first and cached.builds == 1

    source.documents.append(KeywordDocument("c5", "Shipping", "Parcels ship within 48 hours.", None))
    source.revision_number = 2
    assert cached.current() is first  # within the check interval: revision not read again
    clock[0] = 5.0
    rebuilt = cached.current()
    assert rebuilt is not first and rebuilt.revision == 2 and cached.builds == 2
    assert rebuilt.search("parcels", limit=1)[0].chunk_id == "c5"


def test_callers_keep_the_previous_index_while_one_rebuilds() -> None:
    source = FakeSource()
    cached = CachedKeywordIndex(source, revision_check_s=0)
    previous = cached.current()
    entered, release = threading.Event(), threading.Event()
    read_documents = source.keyword_documents

    def slow_read() -> tuple[int, list[KeywordDocument]]:
        entered.set()
        release.wait(5)
        return read_documents()

    source.keyword_documents = slow_read  # type: ignore[method-assign]
    source.revision_number = 2
    rebuilt: list[KeywordIndex] = []
    worker = threading.Thread(target=lambda: rebuilt.append(cached.current()))
    worker.start()
    assert entered.wait(5)
    assert cached.current() is previous  # not blocked behind the rebuild
    release.set()
    worker.join(5)
    assert rebuilt[0].revision == 2 and cached.current() is rebuilt[0]
