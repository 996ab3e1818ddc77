"""Replies that read like an agent's: public sources, plain text, resolved links, no repeated answer."""

from __future__ import annotations

from typing import Any

import pytest

from nodes.compose_response import (
    answer_digest,
    answer_email,
    answer_text,
    citations_used,
    composer_passages,
    escalation_opening,
    offline_answer,
    sources_block,
)
from state.agents import Citation, Evaluation, Solution
from state.ticket import TicketInput
from text.markdown_text import passage_window, resolve_link, shorten, to_plain_text

ARTICLE_URL = "https://support.torproject.org/connecting/connecting-4/"


def passage(text: str, url: str | None) -> dict[str, Any]:
    return {"chunk_text": text, "similarity_score": 0.8, "metadata": {"chunk_id": "c1", "url": url}}


@pytest.mark.parametrize("source", ["/work/main/examples/a.md", "C:\\kb\\a.md", "uploads/a.md", "file:///srv/a.md"])
def test_a_server_path_is_never_cited(source: str) -> None:
    block = sources_block([Citation(title="Proxy errors", source=source)], "en")
    assert block == "Sources:\n- Proxy errors"


def test_a_public_url_is_cited_and_an_faq_by_its_question() -> None:
    citations = [
        Citation(title="FAQ #3", source="faq/3", section="How do I use a bridge?", kind="faq"),
        Citation(title="Proxy errors", source=ARTICLE_URL, section="Proxy errors > Fixes"),
        Citation(title="Proxy errors", source=ARTICLE_URL, section="Proxy errors > Fixes"),
    ]
    assert sources_block(citations, "en").splitlines() == [
        "Sources:",
        "- Frequently asked question: How do I use a bridge?",
        "- Proxy errors > Fixes",
        f"  {ARTICLE_URL}",
    ]


def retrieved_from(*sources: tuple[str, str]) -> Solution:
    """A solution whose passages come from these (source, section) pairs, each cited once."""
    results: list[dict[str, object]] = [
        {"chunk_text": f"text of {section}", "metadata": {"source": source, "section": section}}
        for source, section in sources
    ]
    citations = [Citation(title=source, source=source, section=section) for source, section in sources]
    return Solution(results=results, citations=citations)


def test_a_reply_cites_only_the_passages_it_draws_on() -> None:
    solution = retrieved_from(("https://h.example/proxy", "Proxy > Refused"), ("https://h.example/tls", "TLS"))
    assert [c.section for c in citations_used(solution, [1])] == ["Proxy > Refused"]
    assert [c.section for c in citations_used(solution, [2, 1])] == ["Proxy > Refused", "TLS"]


@pytest.mark.parametrize("numbers", [[], [7], [0, -1]])
def test_without_a_usable_passage_number_every_citation_stays(numbers: list[int]) -> None:
    solution = retrieved_from(("https://h.example/proxy", "Proxy > Refused"), ("https://h.example/tls", "TLS"))
    assert citations_used(solution, numbers) == solution.citations


def test_relative_links_resolve_against_the_document_url_or_keep_their_text() -> None:
    text = "If it persists, please [get in touch](../../misc/bug-or-feedback/) with us."
    with_url = answer_text(Solution(results=[passage(text, ARTICLE_URL)]), text)
    assert (
        with_url
        == "If it persists, please get in touch (https://support.torproject.org/misc/bug-or-feedback/) with us."
    )
    without_url = answer_text(Solution(results=[passage(text, None)]), text)
    assert without_url == "If it persists, please get in touch with us."
    assert resolve_link("https://x.example/a", None) == "https://x.example/a"
    assert resolve_link("javascript:alert(1)", ARTICLE_URL) is None


def test_a_link_that_only_names_its_page_keeps_its_text_alone() -> None:
    text = (
        "The [traffic](../../glossary/traffic) looks like a [pluggable transport](../../glossary/pluggable-transports/)"
        " uses. Visit our [bridges website](https://bridges.example.org/options) or [Snowflake](https://snow.example/)."
    )
    assert to_plain_text(text, base_url=ARTICLE_URL) == (
        "The traffic looks like a pluggable transport uses. Visit our bridges website"
        " (https://bridges.example.org/options) or Snowflake (https://snow.example/)."
    )


def test_markdown_becomes_readable_plain_text_with_its_lists() -> None:
    markdown = "## Fix it\n\n* **Disable** the _antivirus_\n* Use port `9150`\n1. Restart\n\n> Note <b>this</b>\n\n---"
    assert to_plain_text(markdown) == "Fix it\n\n- Disable the antivirus\n- Use port 9150\n1. Restart\n\nNote this"
    assert to_plain_text("snake_case_name and 2*3*4 stay") == "snake_case_name and 2*3*4 stay"


def test_ordered_lists_are_numbered_as_a_browser_shows_them_and_lazy_lines_sit_under_their_item() -> None:
    markdown = (
        "Options:\n\n1. **WebTunnel**: looks like HTTPS.\nGet bridges first.\n1. Snowflake\n\n"
        "   still about Snowflake\n1. obfs4\n\nAfter the list.\n\n1. A new list\n* You should not move it.\n"
        "If you did, revert."
    )
    assert to_plain_text(markdown) == (
        "Options:\n\n1. WebTunnel: looks like HTTPS.\n   Get bridges first.\n2. Snowflake\n\n"
        "   still about Snowflake\n3. obfs4\n\nAfter the list.\n\n1. A new list\n- You should not move it.\n"
        "  If you did, revert."
    )
    assert to_plain_text("3. Third\n3. Fourth") == "3. Third\n4. Fourth"


def test_invisible_controls_leave_so_a_copied_command_runs() -> None:
    assert to_plain_text("Run:\n\n\u202a`./start-tor-browser.desktop --verbose`\u200b") == (
        "Run:\n\n./start-tor-browser.desktop --verbose"
    )


def test_a_passage_cut_inside_a_list_is_answered_with_whole_items_that_fit() -> None:
    section = (
        "Intro paragraph.\n\nThere are these options:\n\n1. First option\ngoes on here.\n1. Second option\n"
        "1. Third option, long. " + "x" * 200 + "\n\n```\nstep one\n\nstep two\n```\n\nClosing words."
    )
    # The passage starts inside the first item: the window starts at the item and takes in its lead-in.
    assert passage_window(section, "goes on here.\n1. Second", 120) == (
        "There are these options:\n\n1. First option\ngoes on here.\n1. Second option"
    )
    # A larger budget ends at a later boundary, never inside the fence; the lead-in comes only when it costs
    # no content after the passage.
    wide = passage_window(section, "goes on here.", 285)
    assert wide is not None and wide.startswith("1. First") and wide.endswith("x" * 200) and "step" not in wide
    wider = passage_window(section, "goes on here.", 305)
    assert wider is not None and wider.startswith("1. First") and wider.endswith("step two\n```")
    assert passage_window(section, "not in the section", 1500) is None
    assert passage_window(section, "Intro paragraph.\n\nClosing words.", 50) is None  # its own blocks do not fit


def test_the_composer_sees_the_first_passage_as_widened_by_the_solution_finder() -> None:
    results = [passage("1. WebTunnel: ...", ARTICLE_URL), passage("Snowflake is a proxy.", None)]
    widened = Solution(results=results, solution_text="There are these options:\n\n1. WebTunnel: ...\n1. Snowflake")
    assert composer_passages(widened) == (
        "[1] There are these options:\n\n1. WebTunnel: ...\n1. Snowflake\n\n[2] Snowflake is a proxy."
    )
    assert composer_passages(Solution(results=results)) == "[1] 1. WebTunnel: ...\n\n[2] Snowflake is a proxy."
    assert composer_passages(Solution()) == ""


def test_a_long_answer_is_cut_at_a_sentence_end() -> None:
    text = "First sentence here. " * 10 + "x" * 50
    cut = shorten(text, 120)
    assert len(cut) <= 122 and cut.endswith("here. …")


def test_the_same_answer_has_the_same_digest_whatever_its_spacing() -> None:
    assert answer_digest("Restart  the browser.\n") == answer_digest("restart the browser.")
    assert answer_digest("Restart the browser.") != answer_digest("Reinstall the browser.")


def test_the_escalation_notice_says_plainly_when_the_kb_has_no_answer() -> None:
    unsure = Evaluation(confidence=0.3, escalate=True, sensitive=False, negative_sentiment=False)
    empty = Solution()
    assert "could not find an answer" in (escalation_opening({"solution": empty, "evaluation": unsure}, "en") or "")
    retry = {"solution": empty, "evaluation": unsure, "attempt": 2}
    assert "nothing new" in (escalation_opening(retry, "en") or "")  # type: ignore[arg-type]
    angry = Evaluation(confidence=0.3, escalate=True, sensitive=False, negative_sentiment=True)
    assert escalation_opening({"solution": empty, "evaluation": angry}, "en") is None


def test_a_reply_says_when_its_answer_is_in_the_other_language() -> None:
    french = TicketInput(id="T-1", subject="Connexion impossible", body="Je n'arrive pas à me connecter depuis hier.")
    english_answer = "Disable the antivirus and restart the browser, then try the connection again."
    body = answer_email(french, [], english_answer, "solution").body
    assert "Voici ce qui devrait vous aider (notre documentation à ce sujet n'existe qu'en anglais) :" in body
    french_answer = "Désactivez l'antivirus et redémarrez le navigateur, puis réessayez la connexion."
    assert "n'existe qu'en anglais" not in answer_email(french, [], french_answer, "solution").body
    assert "anglais" not in answer_email(french, [], "./start-tor-browser.desktop --verbose", "solution").body
    english = TicketInput(id="T-2", subject="Cannot connect", body="I cannot connect since yesterday, what can I do?")
    assert "Here is what should help:" in answer_email(english, [], english_answer, "solution").body
    assert "(our documentation on this is in French):" in answer_email(english, [], french_answer, "solution").body


def test_an_offline_answer_from_a_deep_section_is_led_by_its_heading() -> None:
    meta = {"chunk_id": "c1", "title": "Trouble connecting", "section": "Trouble connecting > Log error #3: TLS"}
    solution = Solution(results=[{"chunk_text": "x", "metadata": meta}], solution_text="Use bridges.")
    assert offline_answer(solution) == "Log error #3: TLS\n\nUse bridges."
    top = Solution(
        results=[{"chunk_text": "x", "metadata": meta | {"section": "Trouble connecting"}}], solution_text="a"
    )
    assert offline_answer(top) == "a"


def test_an_offline_answer_does_not_end_on_a_line_that_introduces_what_is_not_there() -> None:
    meta = {"chunk_id": "c1", "title": "Trouble connecting", "section": "Trouble connecting"}
    section = "Open the Tor log.\nCopy it to a file.\n\nYou should see one of these errors (look for these lines):\n"
    solution = Solution(results=[{"chunk_text": "x", "metadata": meta}], solution_text=section)
    assert offline_answer(solution) == "Open the Tor log.\nCopy it to a file."
    only = Solution(results=[{"chunk_text": "x", "metadata": meta}], solution_text="Do this:")
    assert offline_answer(only) == "Do this:"
