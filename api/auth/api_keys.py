"""API keys for machine clients, stored as SHA-256 hashes in Postgres (SQL in one place)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from api.auth.principal import ROLES, Principal
from core.database import Database
from core.errors import ConflictError, InvalidInputError, NotFoundError

KEY_PREFIX = "doxa_"
_SHOWN_PREFIX_CHARS = 12


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 (keys are 256-bit random, so no salt or slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKeyRecord:
    """What is known about a key without the key itself."""

    id: str
    name: str
    key_prefix: str
    roles: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiKeyRecord:
        """Build from an `api_key` row."""
        return cls(
            row["id"],
            row["name"],
            row["key_prefix"],
            list(row["roles"]),
            row["created_at"],
            row["last_used_at"],
            row["revoked_at"],
        )


class ApiKeyStore:
    """Creates, lists, revokes and checks API keys."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, name: str, roles: Iterable[str]) -> tuple[str, ApiKeyRecord]:
        """A new key (returned once, never stored) and its record; ConflictError if the name is taken."""
        name = name.strip()
        wanted = sorted(set(roles))
        if not name or len(name) > 100:
            raise InvalidInputError("an API key needs a name of 1 to 100 characters")
        if not wanted or not set(wanted) <= ROLES:
            raise InvalidInputError(f"roles must be some of {', '.join(sorted(ROLES))}; got {', '.join(wanted)}")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        try:
            with self.db.transaction() as conn:
                row = conn.execute(
                    "INSERT INTO api_key (id, name, key_hash, key_prefix, roles) VALUES (%s, %s, %s, %s, %s)"
                    " RETURNING *",
                    (f"key_{uuid.uuid4().hex[:12]}", name, hash_key(key), key[:_SHOWN_PREFIX_CHARS], wanted),
                ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"an API key named {name!r} already exists") from exc
        assert row is not None
        return key, ApiKeyRecord.from_row(row)

    def list(self, include_revoked: bool = False) -> list[ApiKeyRecord]:
        """Keys by name."""
        with self.db.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM api_key WHERE %(all)s OR revoked_at IS NULL ORDER BY name", {"all": include_revoked}
            ).fetchall()
        return [ApiKeyRecord.from_row(row) for row in rows]

    def revoke(self, name: str) -> ApiKeyRecord:
        """Revoke a key by name; NotFoundError if no active key has it."""
        with self.db.transaction() as conn:
            row = conn.execute(
                "UPDATE api_key SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL RETURNING *", (name,)
            ).fetchone()
        if row is None:
            raise NotFoundError(f"no active API key named {name!r}")
        return ApiKeyRecord.from_row(row)

    def authenticate(self, key: str) -> Principal | None:
        """The principal of an active key, or None; notes the use at most once a minute per key."""
        if not key.startswith(KEY_PREFIX):
            return None
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT id, name, roles FROM api_key WHERE key_hash = %s AND revoked_at IS NULL", (hash_key(key),)
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE api_key SET last_used_at = now() WHERE id = %s"
                " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
                (row["id"],),
            )
        return Principal(subject=f"api-key:{row['name']}", roles=frozenset(row["roles"]), method="api_key")
