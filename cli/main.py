"""The `doxa` command: one Typer app with a sub-app per concept."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from cli import (
    apikey,
    classify,
    config_command,
    demo,
    evaluate,
    faq,
    improve,
    kb,
    maintenance,
    outbox,
    serve,
    studio,
    ticket,
    tickets,
    user,
)
from cli.output import EXIT_USAGE, error, show_first_use_notices
from core.errors import DoxaError
from core.logging import configure_logging
from core.settings import get_settings

app = typer.Typer(
    name="doxa",
    help="Doxa: an AI help desk that resolves tickets and mines FAQs over one knowledge store.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(kb.app, name="kb")
app.add_typer(evaluate.app, name="eval")
app.add_typer(classify.app, name="classify")
app.add_typer(ticket.app, name="ticket")
app.add_typer(tickets.app, name="tickets")
app.add_typer(improve.app, name="improve")
app.add_typer(outbox.app, name="outbox")
app.add_typer(faq.app, name="faq")
app.add_typer(apikey.app, name="apikey")
app.add_typer(user.app, name="user")
app.add_typer(maintenance.app, name="maintenance")
app.add_typer(studio.app, name="studio")
app.command("demo")(demo.demo)
app.command("serve")(serve.serve)
app.command("config")(config_command.show_config)


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG level.")] = False,
) -> None:
    """Doxa runs on embedded engines under DOXA_HOME unless DOXA_* variables point at servers."""
    # Here rather than at the top: psutil and prometheus_client are not needed to print `doxa --help`.
    from core.embedded_postgres import exit_cleanly_on_sigterm

    settings = get_settings()
    configure_logging("DEBUG" if verbose else settings.log_level, settings.log_format)
    # "Loading the embedding model…" as a dim line; the server and JSON logs keep it a log line like the others.
    if ctx.invoked_subcommand != "serve" and settings.log_format == "console":
        show_first_use_notices()
    # SIGTERM (systemd, docker stop, kill) exits like Ctrl+C, so the embedded PostgreSQL is released.
    exit_cleanly_on_sigterm()


def run() -> None:
    """Entry point that turns Doxa's own errors a command left uncaught into a message and exit code 2."""
    try:
        app()
    except DoxaError as exc:
        error(str(exc))
        sys.exit(EXIT_USAGE)
