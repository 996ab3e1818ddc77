"""A comment that says the problem is still there, read with its negations (text.resolution)."""

from __future__ import annotations

import pytest

from text.resolution import says_unsolved


@pytest.mark.parametrize(
    "comment",
    [
        "no it still does not work",
        "No, it still does not work",
        "Still the same error after restarting",
        "That didn't help",
        "I still get the proxy error",
        "It is not solved yet",
        "Nope",
        "Ça ne marche toujours pas",
        "Non, toujours le même problème",
        "I still have the problem",
        "The issue persists after the update",
    ],
)
def test_an_unsolved_problem_is_heard(comment: str) -> None:
    assert says_unsolved(comment)


@pytest.mark.parametrize(
    "comment",
    [
        "No problem, it works now, thanks!",
        "Thanks, that fixed it",
        "It did not work at first, but it works now",  # the later cue wins
        "It works, no more errors",  # "no more errors" is not a bare "no"
        "I can't thank you enough, it works",  # a negation that is not about the problem
        "Merci, c'est réglé",
        "Great, thank you!",
        "I still have questions about billing, but it works",
        "",
    ],
)
def test_a_solved_or_neutral_comment_is_not(comment: str) -> None:
    assert not says_unsolved(comment)
