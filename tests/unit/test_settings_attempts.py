"""One attempt setting: DOXA_MAX_TICKET_ATTEMPTS, with the old DOXA_MAX_RETRIEVAL_ATTEMPTS still read (deprecated)."""

from __future__ import annotations

import pytest

from core.settings import Settings


def test_the_old_attempt_name_sets_the_one_attempt_setting_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOXA_MAX_TICKET_ATTEMPTS", raising=False)
    monkeypatch.setenv("DOXA_MAX_RETRIEVAL_ATTEMPTS", "4")
    with pytest.warns(DeprecationWarning, match="DOXA_MAX_TICKET_ATTEMPTS"):
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.max_ticket_attempts == 4
    assert "max_retrieval_attempts" not in Settings.model_fields


def test_the_new_name_wins_over_the_old_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOXA_MAX_RETRIEVAL_ATTEMPTS", "4")
    monkeypatch.setenv("DOXA_MAX_TICKET_ATTEMPTS", "3")
    assert Settings(_env_file=None).max_ticket_attempts == 3  # type: ignore[call-arg]
