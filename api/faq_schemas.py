"""Request bodies of the FAQ endpoints: bounded lengths, closed vocabularies, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas import Line, Text, _without_controls
from faq_mining.state import MAX_INLINE_TICKETS, InlineTicket, ReviewEdits

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 5_000
MAX_NOTE_CHARS = 2_000
MAX_VERSION = 2**31 - 1
Tag = Annotated[Line, Field(min_length=1, max_length=50)]

# approve / approved, reject / rejected, in any case: clients send either form.
_DECISIONS: dict[str, Literal["approve", "reject"]] = {
    "approve": "approve",
    "approved": "approve",
    "reject": "reject",
    "rejected": "reject",
}
DecisionWord = Annotated[str, Field(pattern=r"(?i)^(approved?|reject(ed)?)$")]


class ProcessRequest(BaseModel):
    """Resolved tickets to mine now (instead of reading ClickHouse); the watermark is left alone."""

    model_config = ConfigDict(extra="forbid")

    tickets: list[InlineTicket] = Field(min_length=1, max_length=MAX_INLINE_TICKETS, description="Tickets to mine.")

    @model_validator(mode="before")
    @classmethod
    def _drop_control_characters(cls, value: Any) -> Any:
        # NUL cannot be stored in Postgres text, and ticket text ends up in staged candidates.
        if isinstance(value, dict) and isinstance(value.get("tickets"), list):
            tickets = [
                {key: _without_controls(item) for key, item in ticket.items()} if isinstance(ticket, dict) else ticket
                for ticket in value["tickets"]
            ]
            return value | {"tickets": tickets}
        return value


class CandidateUpdate(BaseModel):
    """Changes to a PENDING candidate; unset fields stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Line | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: Text | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_CHARS)
    tags: list[Tag] | None = Field(default=None, max_length=20, description="The full new tag list.")
    expected_version: int | None = Field(
        default=None, ge=1, le=MAX_VERSION, description="Refuse (409) if the candidate is no longer at this version."
    )


class EditsBeforeApproval(BaseModel):
    """Changes applied to a candidate in the same transaction as its approval; unset fields stay."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Line | None = Field(default=None, min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: Text | None = Field(default=None, min_length=1, max_length=MAX_ANSWER_CHARS)
    tags: list[Tag] | None = Field(default=None, max_length=20)

    def to_review_edits(self) -> ReviewEdits:
        """The mining graph's resume form."""
        return ReviewEdits(question=self.question, answer=self.answer, tags=self.tags)


class ReviewBody(BaseModel):
    """A reviewer's decision. The reviewer is the caller's identity: a `reviewed_by` in the body is ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    decision: DecisionWord | None = Field(default=None, description="approve or reject (approved / rejected too).")
    status: DecisionWord | None = Field(default=None, description="Another name for `decision`.")
    note: Text | None = Field(default=None, max_length=MAX_NOTE_CHARS, description="Why; kept with the decision.")
    edits: EditsBeforeApproval | None = Field(default=None, description="Changes applied before approving only.")
    reviewed_by: str | None = Field(
        default=None, max_length=200, description="Ignored: the reviewer is always the token's subject."
    )

    @model_validator(mode="after")
    def _one_decision(self) -> ReviewBody:
        given = {word.lower() for word in (self.decision, self.status) if word is not None}
        if len({_DECISIONS[word] for word in given}) != 1:
            raise ValueError("give `decision` (or `status`): approve or reject")
        return self

    @property
    def verdict(self) -> Literal["approve", "reject"]:
        """The decision as the review operations name it."""
        word = self.decision or self.status
        assert word is not None
        return _DECISIONS[word.lower()]
