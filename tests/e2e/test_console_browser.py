"""The reviewer console in headless Chromium: sign in, see escaped candidates, approve one, GET /faq serves it.

Debian's `chromium` (scripts/bootstrap.sh installs it) driven by the pip `playwright` package; no browser
download. Skipped, saying why, where either is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth.users import ConsoleUserStore
from core.services import Services
from tests.api.test_faq_api import PASSWORD_Q, stage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct horse battery staple"
XSS_QUESTION = "<script>alert(1)</script>"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: scripts/bootstrap.sh installs Debian's chromium when run as root")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="the dev extras install playwright")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def test_a_reviewer_signs_in_approves_and_the_faq_is_served(browser: Any, served_app: str, services: Services) -> None:
    ConsoleUserStore(services.db).add("rita", PASSWORD, ["reviewer"])
    password_id = stage(services, ["T-1", "T-2"])
    xss_id = stage(services, ["T-3"], question=XSS_QUESTION, pii_kinds=[])
    dialogs: list[str] = []
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console_errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))

    page.goto(f"{served_app}/console/")
    page.fill("#username", "rita")
    page.fill("#password", PASSWORD)
    page.click("#sign-in-button")

    card = page.locator(f'article.candidate[data-id="{password_id}"]')
    card.wait_for()
    assert page.locator("#who-name").text_content() == "Signed in as rita"
    meta = card.locator(".c-meta").text_content() or ""
    assert "confidence 0.90" in meta and "2 source ticket(s)" in meta and "PII redacted: email" in meta
    assert card.locator(".c-sources").text_content() == "Source tickets: T-1, T-2"

    # Candidate text is text: the script tag shows as characters and never runs.
    xss_card = page.locator(f'article.candidate[data-id="{xss_id}"]')
    assert xss_card.locator(".c-question").text_content() == XSS_QUESTION
    assert page.locator("#pending-list script").count() == 0

    card.locator(".c-note").fill("clear and general")
    card.locator(".c-approve").click()
    page.locator("#message.ok").wait_for()
    assert page.locator("#message").text_content() == "Candidate approved."
    page.locator(f'article.candidate[data-id="{password_id}"]').wait_for(state="detached")

    page.click('nav button[data-view="tickets"]')
    page.locator("#awaiting-table td.empty").wait_for()

    hits = httpx.get(f"{served_app}/faq", params={"q": "I forgot my password"}).json()["items"]
    assert hits and hits[0]["question"] == PASSWORD_Q
    token = page.evaluate("JSON.parse(sessionStorage.getItem('doxa.console.credential')).value")
    detail = httpx.get(f"{served_app}/staging-faq/{password_id}", headers={"Authorization": f"Bearer {token}"}).json()
    assert detail["candidate"]["reviewed_by"] == "rita" and detail["candidate"]["review_note"] == "clear and general"
    assert dialogs == [] and console_errors == []


def test_a_wrong_password_is_refused_in_the_page(browser: Any, served_app: str, services: Services) -> None:
    ConsoleUserStore(services.db).add("rita", PASSWORD, ["reviewer"])
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{served_app}/console/")
    page.fill("#username", "rita")
    page.fill("#password", "not the password")
    page.click("#sign-in-button")
    page.locator("#message.error").wait_for()
    assert "unknown user or wrong password" in (page.locator("#message").text_content() or "")
    assert page.locator("#workspace").is_hidden()


def test_answered_threads_are_listed_as_waiting_for_feedback(browser: Any, served_app: str, services: Services) -> None:
    ConsoleUserStore(services.db).add("rita", PASSWORD, ["reviewer"])
    with services.db.transaction() as conn:
        for ticket_id, status in (
            ("T-answered", "answered"),
            ("T-waiting", "awaiting_feedback"),
            ("T-esc", "escalated"),
        ):
            conn.execute(
                "INSERT INTO ticket (id, subject, status) VALUES (%s, %s, %s)",
                (ticket_id, f"subject {ticket_id}", status),
            )
    page = browser.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{served_app}/console/")
    page.fill("#username", "rita")
    page.fill("#password", PASSWORD)
    page.click("#sign-in-button")
    page.locator("#who-name").wait_for()
    page.click('nav button[data-view="tickets"]')
    page.locator('#awaiting-table td:text-is("T-answered")').wait_for()
    waiting = page.locator("#awaiting-table tbody tr td:first-child").all_text_contents()
    assert sorted(waiting) == ["T-answered", "T-waiting"]
    assert page.locator("#escalated-table tbody tr td:first-child").all_text_contents() == ["T-esc"]
