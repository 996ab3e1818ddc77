"""`doxa config` never prints a password, in a SecretStr or inside a URL setting's userinfo."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli import config_command
from cli.config_command import mask_url_userinfo
from core.settings import Settings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("smtp://bob:hunter2@mail.acme.fr:587", "smtp://********@mail.acme.fr:587"),
        ("postgresql://doxa:s3cret@db:5432/doxa", "postgresql://********@db:5432/doxa"),
        ("http://default:pw@clickhouse:8123", "http://********@clickhouse:8123"),
        ("http://clickhouse:8123", "http://clickhouse:8123"),
    ],
)
def test_url_userinfo_is_masked(url: str, shown: str) -> None:
    assert mask_url_userinfo(url) == shown


def test_config_table_and_json_hide_url_passwords(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    settings = Settings(
        smtp_url="smtp://bob:hunter2@mail.acme.fr:587",
        database_url="postgresql://doxa:s3cret@db:5432/doxa",
        clickhouse_url="http://default:chpass@clickhouse:8123",
    )
    monkeypatch.setattr(config_command, "get_settings", lambda: settings)
    import typer

    app = typer.Typer()
    app.command()(config_command.show_config)
    for args in ([], ["--json"]):
        result = CliRunner().invoke(app, args, env={"COLUMNS": "400"})
        assert result.exit_code == 0, result.output
        for secret in ("hunter2", "s3cret", "chpass"):
            assert secret not in result.output
    values = json.loads(CliRunner().invoke(app, ["--json"]).output)
    assert values["DOXA_SMTP_URL"] == "smtp://********@mail.acme.fr:587"
