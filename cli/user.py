"""`doxa user add | list | remove | unlock`: local users who sign in to the reviewer console.

The password is never an argument (it would land in the shell history and the process list): `add`
prompts for it twice on a terminal, or reads the first line of standard input when it is piped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.auth.principal import ROLES
from core.settings import get_settings

if TYPE_CHECKING:
    # The user store pulls the database and the API's stack: the commands load it, `doxa user --help` does not.
    from api.auth.users import ConsoleUserStore
    from core.services import Services

app = typer.Typer(help="Local users of the reviewer console (POST /auth/login).", no_args_is_help=True)
console = Console(stderr=True)
ROLE_HELP = f"Role, repeatable: {', '.join(sorted(ROLES))}."


@contextmanager
def _users() -> Iterator[ConsoleUserStore]:
    from core.services import Services

    with Services.open(get_settings()) as services:
        yield _store(services)


def _store(services: Services) -> ConsoleUserStore:
    from api.auth.users import ConsoleUserStore

    settings = services.settings
    return ConsoleUserStore(
        services.db, max_failures=settings.console_max_failed_logins, lockout_s=settings.console_lockout_s
    )


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The sign-in name, e.g. alice.")],
    role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
) -> None:
    """Add a user; the password is prompted for, or read from standard input when piped."""
    password = _read_password()
    with _users() as users:
        user = users.add(name, password, role)
    console.print(f"added console user [bold]{user.name}[/bold] ({', '.join(user.roles)})")


@app.command("list")
def list_users(json_output: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False) -> None:
    """List users and their roles (never their password hashes)."""
    with _users() as store:
        users = store.list()
    if json_output:
        rows = [
            {
                "name": user.name,
                "roles": user.roles,
                "created_at": user.created_at.isoformat(),
                "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None,
            }
            for user in users
        ]
        typer.echo(json.dumps(rows))
        return
    table = Table("name", "roles", "created", "last sign-in")
    for user in users:
        last = f"{user.last_login_at:%Y-%m-%d %H:%M}" if user.last_login_at else "-"
        table.add_row(user.name, ", ".join(user.roles), f"{user.created_at:%Y-%m-%d %H:%M}", last)
    Console().print(table)


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The user's name.")]) -> None:
    """Remove a user (tokens already issued stay valid until they expire, DOXA_CONSOLE_TOKEN_TTL_S at most)."""
    with _users() as users:
        users.remove(name)
    console.print(f"removed console user [bold]{name}[/bold]")


@app.command("unlock")
def unlock(name: Annotated[str, typer.Argument(help="The locked name.")]) -> None:
    """Clear a name's failed sign-ins, ending its lockout now."""
    with _users() as users:
        users.unlock(name)
    console.print(f"cleared failed sign-ins of [bold]{name}[/bold]")
