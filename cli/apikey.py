"""`doxa apikey ...`: API keys for machine clients of the HTTP API (the key is printed once, only its hash is kept)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.auth.principal import ROLES
from core.settings import get_settings

if TYPE_CHECKING:
    # The key store pulls the database and the API's stack: the commands load it, `doxa apikey --help` does not.
    from api.auth.api_keys import ApiKeyRecord, ApiKeyStore
    from core.services import Services

app = typer.Typer(help="API keys for machine clients (X-API-Key header).", no_args_is_help=True)
console = Console(stderr=True)
ROLE_HELP = f"Role of the key, repeatable: {', '.join(sorted(ROLES))}."


def _store(services: Services) -> ApiKeyStore:
    from api.auth.api_keys import ApiKeyStore

    return ApiKeyStore(services.db)


def _open_services() -> Services:
    from core.services import Services

    return Services.open(get_settings())


def _as_json(record: ApiKeyRecord) -> dict[str, object]:
    return {
        "id": record.id,
        "name": record.name,
        "key_prefix": record.key_prefix,
        "roles": record.roles,
        "created_at": record.created_at.isoformat(),
        "last_used_at": record.last_used_at.isoformat() if record.last_used_at else None,
        "revoked_at": record.revoked_at.isoformat() if record.revoked_at else None,
    }


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who uses the key, e.g. zendesk-bridge.")],
    role: Annotated[list[str], typer.Option("--role", help=ROLE_HELP)],
) -> None:
    """Create a key and print it once: store it now, Doxa keeps only its hash."""
    with _open_services() as services:
        key, record = _store(services).create(name, role)
    console.print(f"created API key [bold]{record.name}[/bold] ({', '.join(record.roles)}); it is shown only once:")
    typer.echo(key)


@app.command("list")
def list_keys(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List keys (their names, prefixes and roles; never the keys)."""
    with _open_services() as services:
        records = _store(services).list(include_revoked=include_revoked)
    if json_output:
        typer.echo(json.dumps([_as_json(record) for record in records]))
        return
    table = Table("name", "prefix", "roles", "created", "last used", "revoked")
    for record in records:
        table.add_row(
            record.name,
            record.key_prefix + "…",
            ", ".join(record.roles),
            f"{record.created_at:%Y-%m-%d %H:%M}",
            f"{record.last_used_at:%Y-%m-%d %H:%M}" if record.last_used_at else "-",
            f"{record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "-",
        )
    Console().print(table)


@app.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with _open_services() as services:
        record = _store(services).revoke(name)
    console.print(f"revoked API key [bold]{record.name}[/bold]")
