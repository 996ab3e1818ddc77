import pytest

from core.structured_llm import StructuredReplyError, ask_structured, parse_reply, structured_or_fallback
from tests.fakes import RateLimited, Verdict
from tests.fakes import recording as fake


def test_valid_reply_is_parsed_and_prompt_carries_the_schema() -> None:
    model = fake('{"valid": true, "confidence": 0.9}')
    assert ask_structured(model, Verdict, "Judge.", "ticket") == Verdict(valid=True, confidence=0.9)
    system_prompt = model.seen[0][0].content
    assert "JSON schema" in system_prompt and '"confidence"' in system_prompt


def test_code_fence_and_prose_around_json_are_tolerated() -> None:
    assert parse_reply('Sure!\n```json\n{"valid": false, "confidence": 0.2}\n```', Verdict).valid is False


@pytest.mark.parametrize("reply", ["", "no json here", '{"valid": "maybe"}', '{"valid": true, "confidence": 7}'])
def test_bad_replies_are_rejected(reply: str) -> None:
    with pytest.raises(StructuredReplyError):
        parse_reply(reply, Verdict)


def test_malformed_reply_is_retried_then_succeeds() -> None:
    model = fake("oops", '{"valid": true, "confidence": 0.5}')
    value = ask_structured(model, Verdict, "s", "u", max_attempts=3, sleep=lambda _: None)
    assert value.confidence == 0.5
    assert len(model.seen) == 2


def test_backoff_doubles_between_attempts() -> None:
    waits: list[float] = []
    with pytest.raises(StructuredReplyError, match="TimeoutError"):
        ask_structured(RateLimited(messages=iter([])), Verdict, "s", "u", max_attempts=3, sleep=waits.append)
    assert waits == [0.5, 1.0]


def test_failures_fall_back_and_say_so() -> None:
    outcome = structured_or_fallback(
        fake("{}", "{}", "{}"), Verdict, "s", "u", lambda: Verdict(valid=False, confidence=0.1), initial_backoff_s=0
    )
    assert outcome.fell_back is True
    assert outcome.value == Verdict(valid=False, confidence=0.1)
    assert outcome.error and "Verdict" in outcome.error


def test_no_model_means_offline_answer_without_a_fallback_mark() -> None:
    outcome = structured_or_fallback(None, Verdict, "s", "u", lambda: Verdict(valid=True, confidence=1))
    assert outcome == type(outcome)(Verdict(valid=True, confidence=1), fell_back=False)
