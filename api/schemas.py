"""Request bodies of the ticket endpoints: bounded lengths, control characters stripped before validation."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field

from state.ticket import CustomerFeedback, TicketInput

MAX_SUBJECT_CHARS = 300
MAX_BODY_CHARS = 20_000
MAX_COMMENT_CHARS = 5_000
TICKET_ID_PATTERN = r"^[A-Za-z0-9._:-]+$"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]+")


def _without_controls(value: Any) -> Any:
    """Drop control characters (NUL breaks Postgres text, others break mail and logs); keep line breaks."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def _one_line(value: Any) -> Any:
    return _LINE_BREAKS.sub(" ", _without_controls(value)) if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_without_controls)]
Line = Annotated[str, BeforeValidator(_one_line)]


class TicketRequest(BaseModel):
    """A new ticket. Without an id, Doxa assigns one (returned as `thread_id`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str | None = Field(
        default=None, max_length=128, pattern=TICKET_ID_PATTERN, description="Your ticket id; unique."
    )
    subject: Line = Field(min_length=1, max_length=MAX_SUBJECT_CHARS, description="The ticket's subject line.")
    body: Text = Field(min_length=1, max_length=MAX_BODY_CHARS, description="What the customer wrote.")
    customer_email: EmailStr | None = Field(default=None, description="Where answers are sent.")
    customer_name: Line | None = Field(default=None, max_length=200, description="How to greet the customer.")

    def to_ticket(self, thread_id: str) -> TicketInput:
        """The graph's input for this request under its thread id."""
        return TicketInput(
            id=thread_id,
            subject=self.subject,
            body=self.body,
            customer_email=self.customer_email,
            customer_name=self.customer_name or None,
        )


class FeedbackRequest(BaseModel):
    """The customer's answer to the proposed solution."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    satisfied: bool = Field(description="Did the answer solve the problem?")
    comment: Text | None = Field(
        default=None, max_length=MAX_COMMENT_CHARS, description="What is still wrong; used to search again."
    )

    def to_feedback(self) -> CustomerFeedback:
        """The graph's resume value."""
        return CustomerFeedback(satisfied=self.satisfied, comment=self.comment or None)
