"""Deliver the e-mail outbox over SMTP.

Messages are claimed one at a time with `SELECT ... FOR UPDATE SKIP LOCKED`, and the row lock is held
until the row says `sent`, so two deliverers running at once never send one message twice. A crash between
the server's acceptance and the commit can still re-send that one message; its Message-ID is derived from
the idempotency key, so a receiving system can recognise the repeat.

Example:
    >>> sender = SmtpSender("smtp://user:pass@mail.example.com:587?starttls=1", from_address="help@example.com")
    >>> with sender:
    ...     report = deliver_pending(db, sender, team_addresses={"billing": "billing@example.com"})
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from core.database import Database
from core.errors import ConfigurationError, DoxaError

log = logging.getLogger(__name__)

TEAM_PREFIX = "team:"
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_TRUE = {"1", "true", "yes", "on"}
_ERROR_LIMIT = 500


class UnsafeHeaderError(DoxaError):
    """A header value (recipient, subject, sender) would break the message's header block."""


@dataclass(frozen=True)
class OutgoingMail:
    """One message as the sender sees it: a resolved address and header-safe text."""

    recipient: str
    subject: str
    body: str
    message_id_seed: str


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did: messages sent, failed attempts (retried later or given up), messages held."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0


def _check_header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise UnsafeHeaderError(f"{name} contains a line break")
    return value


def _check_address(name: str, address: str) -> str:
    _check_header(name, address)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(char.isspace() or char in "<>,;" for char in address):
        raise UnsafeHeaderError(f"{name} {address!r} is not a single e-mail address")
    return address


class SmtpSender:
    """Send plain-text UTF-8 e-mails through one SMTP server, reusing the connection across messages.

    The URL is `smtp://[user:pass@]host[:port]` (plain, or `?starttls=1` to upgrade the connection) or
    `smtps://...` for TLS from the first byte. The connection opens on the first `send` and is dropped after
    any error, so the next message starts on a fresh one.
    """

    def __init__(
        self,
        url: str,
        *,
        from_address: str,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS:
            raise ConfigurationError(f"DOXA_SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}://")
        if not parts.hostname:
            raise ConfigurationError("DOXA_SMTP_URL has no host")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigurationError(f"DOXA_SMTP_URL has an invalid port: {exc}") from exc
        options = parse_qs(parts.query)
        self.starttls = options.get("starttls", ["0"])[-1].lower() in _TRUE
        if self.starttls and parts.scheme == "smtps":
            raise ConfigurationError("DOXA_SMTP_URL: starttls applies to smtp://, smtps:// is already TLS")
        if timeout <= 0:
            raise ConfigurationError("the SMTP timeout must be positive")
        try:
            self.from_address = _check_address("mail_from", from_address)
        except UnsafeHeaderError as exc:
            raise ConfigurationError(f"DOXA_MAIL_FROM: {exc}") from exc
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = port or _DEFAULT_PORTS[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"SmtpSender({scheme}://{self.host}:{self.port}, starttls={self.starttls}, user={self.username!r})"

    def build(self, mail: OutgoingMail) -> EmailMessage:
        """The MIME message: text/plain UTF-8, a Message-ID stable for the same outbox row."""
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = _check_address("recipient", mail.recipient)
        message["Subject"] = _check_header("subject", mail.subject)
        message["Date"] = formatdate(localtime=False, usegmt=True)
        digest = hashlib.sha256(mail.message_id_seed.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<{digest}@{self.from_address.rpartition('@')[2]}>"
        message.set_content(mail.body, subtype="plain", charset="utf-8")
        return message

    def send(self, mail: OutgoingMail) -> None:
        """Send one message; raises smtplib.SMTPException or OSError (timeouts included) on failure."""
        message = self.build(mail)
        connection = self._connect()
        try:
            connection.send_message(message, from_addr=self.from_address, to_addrs=[mail.recipient])
        except (smtplib.SMTPException, OSError):
            self.close()
            raise

    def _connect(self) -> smtplib.SMTP:
        if self._connection is not None:
            return self._connection
        context = self.ssl_context or ssl.create_default_context()
        connection: smtplib.SMTP
        if self.implicit_tls:
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            connection.ehlo()
            if self.starttls:
                connection.starttls(context=context)
                connection.ehlo()
            if self.username is not None:
                connection.login(self.username, self.password or "")
        except (smtplib.SMTPException, OSError):
            connection.close()
            raise
        self._connection = connection
        return connection

    def close(self) -> None:
        """Say QUIT if the connection still answers, then drop it."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()

    def __enter__(self) -> SmtpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _claim_next(conn: Any, tried: list[int]) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT id, idempotency_key, recipient, subject, body, attempts FROM outbox"
        " WHERE status = 'pending' AND NOT (id = ANY(%s))"
        " ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
        (tried,),
    ).fetchone()
    return row


def _resolve(recipient: str | None, team_addresses: dict[str, str]) -> str | None:
    if recipient is None:
        return None
    if recipient.startswith(TEAM_PREFIX):
        return team_addresses.get(recipient.removeprefix(TEAM_PREFIX))
    return recipient


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_LIMIT]


def deliver_pending(
    db: Database,
    sender: SmtpSender,
    *,
    batch: int = 50,
    max_attempts: int = 5,
    team_addresses: dict[str, str],
) -> DeliveryReport:
    """Send up to `batch` pending messages, oldest first, each in its own transaction.

    A message the server accepts becomes `sent`. A refused or unreachable send adds one attempt and its
    error; the message stays `pending` until `max_attempts`, then becomes `failed`. A message whose
    recipient can never work (a team without an address in `team_addresses`, a malformed address) is set
    aside at once (`held` or `failed`) so it never blocks the queue. Each message is tried once per run.
    """
    if batch < 1 or max_attempts < 1:
        raise ConfigurationError("batch and max_attempts must be at least 1")
    sent = failed = skipped = 0
    tried: list[int] = []
    while len(tried) < batch:
        with db.transaction() as conn:
            row = _claim_next(conn, tried)
            if row is None:
                break
            tried.append(row["id"])
            address = _resolve(row["recipient"], team_addresses)
            if address is None:
                conn.execute(
                    "UPDATE outbox SET status = 'held', last_error = %s WHERE id = %s",
                    (_held_reason(row["recipient"]), row["id"]),
                )
                skipped += 1
                continue
            mail = OutgoingMail(address, row["subject"], row["body"], row["idempotency_key"])
            try:
                sender.send(mail)
            except UnsafeHeaderError as exc:  # the same message would be refused on every attempt
                conn.execute(
                    "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = %s WHERE id = %s",
                    (_error_text(exc), row["id"]),
                )
                failed += 1
                continue
            except (smtplib.SMTPException, OSError) as exc:
                attempts = row["attempts"] + 1
                status = "failed" if attempts >= max_attempts else "pending"
                conn.execute(
                    "UPDATE outbox SET status = %s, attempts = %s, last_error = %s WHERE id = %s",
                    (status, attempts, _error_text(exc), row["id"]),
                )
                log.warning("outbox message %s not delivered (attempt %d): %s", row["id"], attempts, exc)
                failed += 1
                continue
            conn.execute(
                "UPDATE outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL"
                " WHERE id = %s",
                (row["id"],),
            )
            sent += 1
    return DeliveryReport(sent=sent, failed=failed, skipped=skipped)


def _held_reason(recipient: str | None) -> str:
    if recipient is None:
        return "no recipient"
    team = recipient.removeprefix(TEAM_PREFIX)
    return f"no address for team {team!r}: add it to DOXA_ESCALATION_TEAM_ADDRESSES and set the row back to pending"
