"""`doxa faq`: mine FAQ candidates from resolved tickets, review them, and search the production FAQs.

Commands live in modules by concern (mining, review, the production table) and are registered here.
"""

from __future__ import annotations

import typer

from cli import faq_import, faq_mine, faq_review

app = typer.Typer(
    help="Mine FAQ candidates from resolved tickets, review them (approve, reject, edit, revert); import, search FAQs.",
    no_args_is_help=True,
)
faq_review.register(app)
app.command("mine")(faq_mine.mine)
app.command("import")(faq_import.import_file)
