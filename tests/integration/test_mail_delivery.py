"""Outbox delivery against a real SMTP server (aiosmtpd) on loopback and the test's real Postgres."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.database import Database
from core.errors import ConfigurationError
from graph.outbox import Outbox
from ops.mail_delivery import DeliveryReport, SmtpSender, deliver_pending
from state.records import OutboxMessage

FROM = "help@doxa.example"
USER, PASSWORD = "doxa", "s@cret:pw"


class Mailbox:
    """aiosmtpd handler that keeps what it accepts and refuses what it is told to."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse_data: str | None = None
        self.refuse_recipients: set[str] = set()
        self.delay_s = 0.0
        self.logins: list[tuple[str, str]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_recipients:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.refuse_data:
            return self.refuse_data
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK queued"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login = (auth_data.login.decode(), auth_data.password.decode())
        self.logins.append(login)
        return AuthResult(success=login == (USER, PASSWORD))

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.received]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(mailbox: Mailbox, **options: Any) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 for the duration of the block; yields its port."""
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        ready_timeout=30,
        authenticator=mailbox.authenticate,
        auth_require_tls=False,
        **options,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with smtp_server(box) as port:
        yield box, port


def sender_for(port: int, **kwargs: Any) -> SmtpSender:
    return SmtpSender(f"smtp://{USER}:s%40cret%3Apw@127.0.0.1:{port}", from_address=FROM, timeout=10, **kwargs)


def queue(db: Database, key: str, recipient: str | None, subject: str = "Hello", body: str = "Body") -> None:
    message = OutboxMessage(key, f"T-{key}", recipient, subject, body, "answer")
    assert Outbox(db).enqueue(message)


def rows(db: Database) -> dict[str, dict[str, Any]]:
    with db.transaction() as conn:
        found = conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()
    return {row["idempotency_key"]: row for row in found}


def deliver(db: Database, sender: SmtpSender, **kwargs: Any) -> DeliveryReport:
    kwargs.setdefault("team_addresses", {})
    with sender:
        return deliver_pending(db, sender, **kwargs)


def test_delivers_each_queued_message_once(db: Database, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    queue(db, "a", "alice@example.com", "Votre réponse", "Bonjour Alice,\n\nvoici l'accès.\n")
    queue(db, "b", "bob@example.com", "Injected\r\nBcc: eve@example.com", "Hi Bob")
    queue(db, "c", "carol@example.com", "Third", "Hi Carol")

    assert deliver(db, sender_for(port)) == DeliveryReport(sent=3)

    assert box.logins == [(USER, PASSWORD)]  # one connection, credentials from the URL (percent-decoded)
    assert box.subjects() == ["Votre réponse", "Injected Bcc: eve@example.com", "Third"]
    assert [str(m["To"]) for m in box.received] == ["alice@example.com", "bob@example.com", "carol@example.com"]
    assert box.envelopes[1] == (FROM, ["bob@example.com"])  # the would-be Bcc is plain subject text
    first = box.received[0]
    assert first.get_content_type() == "text/plain" and first.get_content_charset() == "utf-8"
    assert first.get_content().replace("\r\n", "\n") == "Bonjour Alice,\n\nvoici l'accès.\n"  # CRLF on the wire
    assert str(first["From"]) == FROM and first["Message-ID"].endswith("@doxa.example>")
    stored = rows(db)
    assert {row["status"] for row in stored.values()} == {"sent"}
    assert all(isinstance(row["sent_at"], dt.datetime) and row["attempts"] == 1 for row in stored.values())

    assert deliver(db, sender_for(port)) == DeliveryReport()
    assert len(box.received) == 3


def test_refusing_server_counts_attempts_then_gives_up(db: Database, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    box.refuse_data = "550 5.7.1 message refused"
    queue(db, "a", "alice@example.com")

    for attempt in (1, 2):
        assert deliver(db, sender_for(port), max_attempts=3) == DeliveryReport(failed=1)
        row = rows(db)["a"]
        assert (row["status"], row["attempts"]) == ("pending", attempt)
        assert "SMTPDataError" in row["last_error"] and "550" in row["last_error"]
    assert deliver(db, sender_for(port), max_attempts=3) == DeliveryReport(failed=1)
    assert (rows(db)["a"]["status"], rows(db)["a"]["attempts"]) == ("failed", 3)
    assert deliver(db, sender_for(port), max_attempts=3) == DeliveryReport()  # failed rows are left alone
    assert box.received == []


def test_a_refused_message_does_not_block_the_batch(db: Database, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    box.refuse_recipients = {"gone@example.com"}
    queue(db, "a", "gone@example.com", "First")
    queue(db, "b", "bob@example.com", "Second")

    assert deliver(db, sender_for(port)) == DeliveryReport(sent=1, failed=1)
    assert box.subjects() == ["Second"]
    stored = rows(db)
    assert (stored["a"]["status"], stored["a"]["attempts"]) == ("pending", 1)
    assert "SMTPRecipientsRefused" in stored["a"]["last_error"]
    assert stored["b"]["status"] == "sent"


def test_unreachable_server_keeps_messages_pending(db: Database) -> None:
    queue(db, "a", "alice@example.com")
    queue(db, "b", "bob@example.com")
    sender = SmtpSender(f"smtp://127.0.0.1:{free_port()}", from_address=FROM, timeout=5)

    assert deliver(db, sender) == DeliveryReport(failed=2)
    stored = rows(db)
    assert {(row["status"], row["attempts"]) for row in stored.values()} == {("pending", 1)}
    assert "ConnectionRefusedError" in stored["a"]["last_error"]


def test_two_concurrent_deliverers_send_each_message_once(db: Database, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    box.delay_s = 0.02  # keeps both deliverers busy at the same time
    for number in range(20):
        queue(db, f"m{number}", f"user{number}@example.com", f"Message {number}")
    start = threading.Barrier(2)
    reports: list[DeliveryReport] = []

    def run() -> None:
        start.wait()
        reports.append(deliver(db, sender_for(port)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 2
    assert sum(report.sent for report in reports) == 20
    assert sorted(box.subjects()) == sorted(f"Message {number}" for number in range(20))
    assert {row["status"] for row in rows(db).values()} == {"sent"}


def test_team_recipients_map_to_addresses_and_unmapped_teams_are_held(
    db: Database, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    queue(db, "team", "team:billing", "Escalated ticket")
    queue(db, "ghost", "team:ghost", "Nobody home")

    report = deliver(db, sender_for(port), team_addresses={"billing": "billing@example.com"})

    assert report == DeliveryReport(sent=1, skipped=1)
    assert [str(message["To"]) for message in box.received] == ["billing@example.com"]
    held = rows(db)["ghost"]
    assert held["status"] == "held" and "'ghost'" in held["last_error"]
    assert deliver(db, sender_for(port), team_addresses={}) == DeliveryReport()  # held rows are not retried


def test_recipient_with_a_line_break_fails_without_sending(db: Database, mailbox: tuple[Mailbox, int]) -> None:
    box, port = mailbox
    queue(db, "evil", "alice@example.com\r\nBcc: eve@example.com")
    queue(db, "ok", "bob@example.com")

    assert deliver(db, sender_for(port)) == DeliveryReport(sent=1, failed=1)
    evil = rows(db)["evil"]
    assert evil["status"] == "failed" and "line break" in evil["last_error"]
    assert [envelope[1] for envelope in box.envelopes] == [["bob@example.com"]]


def _self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_tls_modes(db: Database, tmp_path: Path, mode: str) -> None:
    server_context, client_context = _self_signed(tmp_path)
    box = Mailbox()
    options = {"tls_context": server_context, "require_starttls": True}
    if mode == "smtps":
        options = {"ssl_context": server_context}
    queue(db, "a", "alice@example.com", "Over TLS")
    with smtp_server(box, **options) as port:
        url = f"smtp://{USER}:s%40cret%3Apw@127.0.0.1:{port}?starttls=1"
        if mode == "smtps":
            url = f"smtps://{USER}:s%40cret%3Apw@127.0.0.1:{port}"
        sender = SmtpSender(url, from_address=FROM, timeout=10, ssl_context=client_context)
        assert deliver(db, sender) == DeliveryReport(sent=1)
    assert box.subjects() == ["Over TLS"] and box.logins == [(USER, PASSWORD)]


def test_smtp_urls_are_checked() -> None:
    plain = SmtpSender("smtp://mail.example.com", from_address=FROM)
    assert (plain.host, plain.port, plain.username, plain.starttls, plain.implicit_tls) == (
        "mail.example.com",
        25,
        None,
        False,
        False,
    )
    assert SmtpSender("smtps://u:p@mail.example.com", from_address=FROM).port == 465
    starttls = SmtpSender("smtp://u:hunter2@mail.example.com:587?starttls=true", from_address=FROM)
    assert starttls.starttls and starttls.password == "hunter2" and "hunter2" not in repr(starttls)
    for url in ("http://mail.example.com", "smtp://", "smtps://h?starttls=1", "smtp://h:99999"):
        with pytest.raises(ConfigurationError):
            SmtpSender(url, from_address=FROM)
    for address in ("help@example.com\r\nBcc: eve@example.com", "nobody"):
        with pytest.raises(ConfigurationError):
            SmtpSender("smtp://h", from_address=address)
