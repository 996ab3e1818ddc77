"""Local users of the reviewer console: scrypt password hashes and a per-name lockout, all in Postgres.

A password is stored as `scrypt$N$r$p$salt$hash` (16 random salt bytes, 32-byte key) and checked with a
constant-time comparison. Failed sign-ins are counted per name tried, whether that user exists or not
(an unknown name costs the same scrypt work), so neither timing nor a lockout tells which names exist.
`max_failures` failures within `lockout_s` lock the name for `lockout_s`; a success clears the count.

Failures are also counted per client address (`client:<ip>` rows in the same table; a user name cannot
hold a ":"), so guesses spread over many names are throttled too: `max_client_failures` failures lock
the client out of every name. A locked name refuses clients that failed on it or elsewhere, but still
checks the password of a client with no recent failure, so five wrong guesses from one machine do not
lock the real user out everywhere. The trade-off, chosen on purpose: an attacker with many clean
addresses gets one guess per address per name until each address is locked, where a global name lock
would give it none but would let anyone lock any user out with five requests.

Example:
    >>> users = ConsoleUserStore(db)
    >>> users.add("alice", "a long passphrase", ["reviewer"])
    >>> users.authenticate("alice", "a long passphrase").roles
    ['reviewer']
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import DictRow

from api.auth.principal import ROLES
from core.database import Database
from core.errors import ConflictError, DoxaError, InvalidInputError, NotFoundError

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
USER_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,100}$")
# scrypt cost: about 50 ms and 16 MiB per check, the usual interactive-login setting.
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2**14, 8, 1, 32
_DUMMY_HASH: str | None = None


class LoginLockedError(DoxaError):
    """Too many failed sign-ins for this name; `retry_after_s` says when to try again."""

    def __init__(self, name: str, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins for {name!r}; try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ConsoleUser:
    """A console user without the password hash."""

    name: str
    roles: list[str]
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ConsoleUser:
        """Build from a `console_user` row."""
        return cls(row["name"], list(row["roles"]), row["created_at"], row["last_login_at"])


def hash_password(password: str) -> str:
    """The stored form of a password: scrypt with a fresh random salt."""
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a `hash_password` value (constant-time comparison of the derived keys)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        expected = base64.b64decode(key)
        derived = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return scheme == "scrypt" and hmac.compare_digest(derived, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
    return _DUMMY_HASH


def check_password_rules(password: str) -> None:
    """Refuse passwords too short or too long to hash sensibly."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidInputError(f"a password needs {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters")


class ConsoleUserStore:
    """Adds, lists, removes and authenticates console users (SQL in one place)."""

    def __init__(
        self, db: Database, *, max_failures: int = 5, lockout_s: int = 900, max_client_failures: int = 20
    ) -> None:
        if max_failures < 1 or lockout_s < 1 or max_client_failures < 1:
            raise ValueError("max_failures, max_client_failures and lockout_s must be positive")
        self.db = db
        self.max_failures = max_failures
        self.max_client_failures = max_client_failures
        self.lockout_s = lockout_s

    def add(self, name: str, password: str, roles: Iterable[str]) -> ConsoleUser:
        """Create a user; ConflictError when the name is taken, InvalidInputError for a bad name, role or password."""
        wanted = sorted(set(roles))
        if not USER_NAME.match(name):
            raise InvalidInputError("a user name has 1 to 100 letters, digits or . _ @ -")
        if not wanted or not set(wanted) <= ROLES:
            raise InvalidInputError(f"roles must be some of {', '.join(sorted(ROLES))}; got {', '.join(wanted)}")
        check_password_rules(password)
        try:
            with self.db.transaction() as conn:
                row = conn.execute(
                    "INSERT INTO console_user (name, password_hash, roles) VALUES (%s, %s, %s) RETURNING *",
                    (name, hash_password(password), wanted),
                ).fetchone()
        except psycopg.errors.UniqueViolation as exc:
            raise ConflictError(f"a console user named {name!r} already exists") from exc
        assert row is not None
        return ConsoleUser.from_row(row)

    def list(self) -> list[ConsoleUser]:
        """Users by name."""
        with self.db.connection() as conn:
            rows = conn.execute("SELECT * FROM console_user ORDER BY name").fetchall()
            conn.rollback()
        return [ConsoleUser.from_row(row) for row in rows]

    def remove(self, name: str) -> None:
        """Delete a user (tokens already issued stay valid until they expire); NotFoundError if unknown."""
        with self.db.transaction() as conn:
            row = conn.execute("DELETE FROM console_user WHERE name = %s RETURNING name", (name,)).fetchone()
            conn.execute("DELETE FROM console_login_failure WHERE name = %s", (name,))
        if row is None:
            raise NotFoundError(f"no console user named {name!r}")

    def authenticate(self, name: str, password: str, client: str | None = None) -> ConsoleUser | None:
        """The user when the password matches; None otherwise; LoginLockedError while locked out.

        `client` is the caller's address; without it only the per-name count applies (the CLI's case).
        """
        client_key = f"client:{client}" if client else None
        with self.db.transaction() as conn:
            # One check at a time per name and per client: concurrent guesses cannot slip past the counts.
            for key in sorted(filter(None, (name, client_key))):
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('doxa-console-login:' || %s))", (key,))
            client_state = self._failure_state(conn, client_key) if client_key else None
            if client_state is not None and client_state[1] > 0:
                raise LoginLockedError(client or name, client_state[1])
            name_state = self._failure_state(conn, name)
            client_is_clean = client_key is not None and client_state is None
            if name_state is not None and name_state[1] > 0 and not client_is_clean:
                raise LoginLockedError(name, name_state[1])
            row = conn.execute("SELECT * FROM console_user WHERE name = %s", (name,)).fetchone()
            stored = row["password_hash"] if row is not None else _dummy_hash()
            if verify_password(password, stored) and row is not None:
                conn.execute("DELETE FROM console_login_failure WHERE name = ANY(%s)", ([name, client_key],))
                updated = conn.execute(
                    "UPDATE console_user SET last_login_at = now() WHERE name = %s RETURNING *", (name,)
                ).fetchone()
                assert updated is not None
                return ConsoleUser.from_row(updated)
            self._count_failure(conn, name, self.max_failures)
            if client_key is not None:
                self._count_failure(conn, client_key, self.max_client_failures)
        return None

    def _failure_state(self, conn: psycopg.Connection[DictRow], key: str) -> tuple[int, int] | None:
        """(failures within the window, seconds still locked) for a name or client key; None when clean."""
        row = conn.execute(
            "SELECT failures, ceil(extract(epoch FROM locked_until - now())) AS locked_s FROM console_login_failure"
            " WHERE name = %s AND (window_started_at >= now() - make_interval(secs => %s) OR locked_until > now())",
            (key, self.lockout_s),
        ).fetchone()
        if row is None:
            return None
        locked = row["locked_s"]
        return int(row["failures"]), max(1, math.ceil(float(locked))) if locked is not None and locked > 0 else 0

    def _count_failure(self, conn: psycopg.Connection[DictRow], name: str, max_failures: int) -> None:
        # A count older than the lockout window starts over; reaching max_failures locks the name.
        conn.execute(
            "INSERT INTO console_login_failure AS f (name, failures, window_started_at) VALUES (%(name)s, 1, now())"
            " ON CONFLICT (name) DO UPDATE SET"
            " failures = CASE WHEN f.window_started_at < now() - make_interval(secs => %(window)s) THEN 1"
            "  ELSE f.failures + 1 END,"
            " window_started_at = CASE WHEN f.window_started_at < now() - make_interval(secs => %(window)s)"
            "  THEN now() ELSE f.window_started_at END,"
            " locked_until = NULL",
            {"name": name, "window": self.lockout_s},
        )
        conn.execute(
            "UPDATE console_login_failure SET locked_until = now() + make_interval(secs => %(window)s)"
            " WHERE name = %(name)s AND failures >= %(max)s",
            {"name": name, "window": self.lockout_s, "max": max_failures},
        )

    def unlock(self, name: str) -> None:
        """Clear a name's failed sign-ins (an admin's way out of a lockout)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM console_login_failure WHERE name = %s", (name,))
