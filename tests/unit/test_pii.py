"""Detection and redaction of personal data and secrets (text.pii)."""

from __future__ import annotations

import doctest
import time

import pytest

from text import pii as text_pii
from text.pii import PiiFinding, PiiKind, contains_pii, detect_pii, redact_pii
from text.pii_patterns import iban_checksum_valid, luhn_valid


def kinds_in(text: str) -> set[PiiKind]:
    return {finding.kind for finding in detect_pii(text)}


# --- e-mails ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jean.dupont@acme.fr please", "write to [EMAIL] please"),
        ("mailto:support+tickets@doxa.io", "mailto:[EMAIL]"),
        ("Email:john@x.com", "Email:[EMAIL]"),
        ("contact: john [at] acme [dot] com", "contact: [EMAIL]"),
        ("écrivez à marie(at)exemple.fr", "écrivez à [EMAIL]"),
    ],
)
def test_emails_are_redacted(text: str, expected: str) -> None:
    assert redact_pii(text).text == expected


@pytest.mark.parametrize("address", ["user@example.com", "a@mail.example.org", "admin@shop.test", "x@localhost"])
def test_documentation_addresses_are_kept(address: str) -> None:
    assert redact_pii(f"type {address} in the To field").count == 0


# --- phone numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Appelez-moi au 06 12 34 56 78",
        "Tel : 01.23.45.67.89",
        "mobile 0612345678",
        "call +33 6 12 34 56 78 after 5pm",
        "US office +1 415-555-2671",
        "London +44 20 7946 0958",
    ],
)
def test_phone_numbers_are_redacted(text: str) -> None:
    result = redact_pii(text)
    assert "[PHONE]" in result.text
    assert result.kinds == (PiiKind.PHONE,)


def test_default_region_decides_how_local_numbers_read() -> None:
    assert redact_pii("call (415) 555-2671").count == 0
    assert redact_pii("call (415) 555-2671", default_region="US").text == "call [PHONE]"


# --- payment cards ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "5555555555554444",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "30569309025904",
    ],
)
def test_luhn_valid_card_numbers_are_redacted(card: str) -> None:
    result = redact_pii(f"my card {card} was refused")
    assert result.text == "my card [CARD] was refused"
    assert result.kinds == (PiiKind.CARD_NUMBER,)


@pytest.mark.parametrize(
    "digits",
    [
        "4111 1111 1111 1112",  # Luhn fails
        "4111111111111112",
        "1234567812345670",  # Luhn-valid, but no card network starts with 1
        "411111111111",  # 12 digits: too short
        "44306184100047",  # Luhn-valid SIRET: Visa numbers are not 14 digits long
        "5521005540000",  # Luhn-valid, but Mastercard numbers are 16 digits long
    ],
)
def test_digit_runs_that_are_not_cards_are_kept(digits: str) -> None:
    assert PiiKind.CARD_NUMBER not in kinds_in(f"reference {digits}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("carte 4111 1111 1111 1111 12/25 123", "carte [CARD] 12/25 123"),
        ("ref 12 4111 1111 1111 1111", "ref 12 [CARD]"),
        ("5555-5555-5555-4444 and 4111 1111 1111 1111", "[CARD] and [CARD]"),
    ],
)
def test_cards_among_other_numbers_are_found(text: str, expected: str) -> None:
    assert redact_pii(text).text == expected


def test_an_unbroken_run_longer_than_a_card_is_not_one() -> None:
    assert redact_pii("tracking 41111111111111111111").count == 0


def test_luhn_checksum() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


# --- IBANs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "FR7630006000011234567890189",
        "FR76 3000 6000 0112 3456 7890 189",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "DE89370400440532013000",
        "fr7630006000011234567890189",
    ],
)
def test_valid_ibans_are_redacted(iban: str) -> None:
    result = redact_pii(f"IBAN {iban} MERCI")
    assert result.text == "IBAN [IBAN] MERCI"
    assert result.kinds == (PiiKind.IBAN,)


@pytest.mark.parametrize("iban", ["FR7630006000011234567890188", "GB82WEST12345698765431", "GB00WEST12345698765432"])
def test_ibans_with_a_broken_checksum_are_kept(iban: str) -> None:
    assert PiiKind.IBAN not in kinds_in(f"IBAN {iban}")


def test_iban_checksum() -> None:
    assert iban_checksum_valid("GB82WEST12345698765432")
    assert not iban_checksum_valid("GB83WEST12345698765432")


# --- IP addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["server 192.168.1.20 refuses", "IP: 8.8.8.8.", "from 2a00:1450:4007:80e::200e today", "app 1.2.3.4"]
)
def test_ip_addresses_are_redacted(text: str) -> None:
    result = redact_pii(text)
    assert "[IP]" in result.text
    assert result.kinds == (PiiKind.IP_ADDRESS,)


@pytest.mark.parametrize(
    "text",
    [
        "upgraded to v1.2.3.4",
        "version 10.0.0.1 is out",
        "Windows build 10.0.19045.3803",
        "Chrome 120.0.6099.109",
        "localhost 127.0.0.1 and ::1",
        "at 12:30:45 on 11/01/2024",
        "MAC 00:1A:2B:3C:4D:5E",
        "999.1.1.1 is not an address",
        "fixed in tor-0.4.6.10.tar.gz and 0.4.7.4-alpha",
        "starting with 0.4.6.9",
        "documentation hosts 192.0.2.3, 203.0.113.7 and 2001:db8::1",
    ],
)
def test_versions_times_and_local_addresses_are_not_ips(text: str) -> None:
    assert kinds_in(text) == set()


# --- secrets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://api.x.com/v1?token=abc123&user=5", "https://api.x.com/v1?token=[SECRET]&user=5"),
        ("https://x.io/cb?access_token=xyz&state=1", "https://x.io/cb?access_token=[SECRET]&state=1"),
        ("GET /export?api_key=K3y0000&format=csv", "GET /export?api_key=[SECRET]&format=csv"),
        ("https://s3.aws.com/f?X-Amz-Signature=9f8e7d", "https://s3.aws.com/f?X-Amz-Signature=[SECRET]"),
        ("https://x.io/login?password=hunter2", "https://x.io/login?password=[SECRET]"),
        ("https://bob:hunter2@host.com/x", "https://[SECRET]@host.com/x"),
    ],
)
def test_secrets_in_urls_are_redacted(text: str, expected: str) -> None:
    result = redact_pii(text)
    assert result.text == expected
    assert result.kinds == (PiiKind.URL_SECRET,)


@pytest.mark.parametrize(
    "secret",
    [
        "Bearer abcdefghijklmnop1234",
        "sk-proj-abcdefghijklmnopqrstuvwx",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7c",
        "password: Summer2024!",
        "mot de passe : Azerty123",
    ],
)
def test_tokens_and_keys_are_redacted(secret: str) -> None:
    result = redact_pii(f"here: {secret} ok")
    assert "[SECRET]" in result.text
    assert result.kinds == (PiiKind.SECRET,)
    assert secret.split()[-1] not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "Password: reset needed",
        "mot de passe : oublié",
        "commit 3f786850e387550fdab836ed7e6dc881de23001b",
        "request id 123e4567-e89b-12d3-a456-426614174000",
        "signing key 0xEF6E286DDA85EA2A4BA7DE684E2C6E8793298290",
        "see /var/lib/doxa/cache/embeddings/all-MiniLM-L6-v2",
        "if basic collaborative editing is enough",
        "the bearer of this certificate is authorised",
    ],
)
def test_ordinary_words_hashes_and_ids_are_not_secrets(text: str) -> None:
    assert kinds_in(text) == set()


# --- names -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi John,\nI cannot log in.", "Hi [NAME],\nI cannot log in."),
        ("Bonjour Marie,\nje ne peux pas payer.", "Bonjour [NAME],\nje ne peux pas payer."),
        ("Dear Mr. Smith,\nthanks", "Dear Mr. [NAME],\nthanks"),
        ("Chère Madame Dupont,", "Chère Madame [NAME],"),
        ("Good morning Ms O'Brien,", "Good morning Ms [NAME],"),
        ("Hi Jean-Pierre!", "Hi [NAME]!"),
        ("Regards,\nJohn Smith", "Regards,\n[NAME]"),
        ("Cordialement,\nJean Dupont", "Cordialement,\n[NAME]"),
        (
            "Bien cordialement,\nJean-Pierre DUPONT\nResponsable achats",
            "Bien cordialement,\n[NAME]\nResponsable achats",
        ),
        ("Thanks, Anna", "Thanks, [NAME]"),
        ("It fails. Thanks Anna.", "It fails. Thanks [NAME]."),
        ("Merci d'avance,\nSophie", "Merci d'avance,\n[NAME]"),
        ("Best regards,\nDr. Emily Brown", "Best regards,\nDr. [NAME]"),
        ("-- \nAnna Karlsson\nAcme", "-- \n[NAME]\nAcme"),
        ("My name is John Smith and I cannot log in", "My name is [NAME] and I cannot log in"),
        ("Je m'appelle Léa Martin et mon compte est bloqué", "Je m'appelle [NAME] et mon compte est bloqué"),
        ("From: John Smith <john@acme.com>\nSubject: export", "From: [NAME] <[EMAIL]>\nSubject: export"),
        ("De : Jean Dupont\nObjet : facture", "De : [NAME]\nObjet : facture"),
        ("Nom : Martin\nPrénom : Léa", "Nom : [NAME]\nPrénom : [NAME]"),
    ],
)
def test_names_after_greetings_introductions_and_sign_offs_are_redacted(text: str, expected: str) -> None:
    assert redact_pii(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hello Team,\nthe export fails",
        "Bonjour à tous,",
        "Bonjour Madame,\nmerci.",
        "Dear Customer Service,",
        "Regards,\nThe Doxa Team",
        "Merci,\nBonne journée",
        "Hello Chrome crashes when I open the dashboard",
        "The best Chrome\nversion is 120",
        "hi john, lowercase is not a name cue",
        "Hey there,",
        "To: Support Team",
        "Q: How do I reset it?\nA: Reset Password",
        "Steps to reproduce: Open Settings",
    ],
)
def test_ordinary_capitalised_words_are_not_names(text: str) -> None:
    assert kinds_in(text) == set()


# --- false-positive traps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "error 500 since the upgrade",
        "Windows error 0x80070005 when saving",
        "ERR_CONNECTION_REFUSED in Chrome",
        "order 123456789 and ticket TKT-456, INC0012345, #123456",
        "commande n° 1234567890",
        "on 2024-01-11, le 11/01/2024, 11.01.2024 14:30",
        "price 1 234,56 € or $1,299.99",
        "1 000 000 users since 2019",
        "Windows 10 version 22H2, iOS 17.2, v2.3.1",
    ],
)
def test_codes_versions_ids_dates_and_prices_are_not_redacted(text: str) -> None:
    result = redact_pii(text)
    assert result.text == text
    assert result.count == 0
    assert not contains_pii(text)


# --- result shape, idempotence, merging ------------------------------------------------------------

MIXED = (
    "Bonjour Marie,\n"
    "ma carte 4111 1111 1111 1111 et l'IBAN FR7630006000011234567890189 ne passent pas.\n"
    "Rappelez-moi au 06 12 34 56 78 ou jean.dupont@acme.fr (IP 192.168.1.20).\n"
    "Lien : https://app.doxa.io/reset?token=s3cr3t\n"
    "Cordialement,\nJean Dupont"
)


def test_mixed_ticket_is_fully_redacted_and_kinds_are_sorted() -> None:
    result = redact_pii(MIXED)
    for value in ("Marie", "4111", "FR76", "06 12", "jean.dupont", "192.168", "s3cr3t", "Dupont"):
        assert value not in result.text
    assert result.kinds == tuple(sorted(result.kinds))
    assert set(result.kinds) == {
        PiiKind.PERSON_NAME,
        PiiKind.CARD_NUMBER,
        PiiKind.IBAN,
        PiiKind.PHONE,
        PiiKind.EMAIL,
        PiiKind.IP_ADDRESS,
        PiiKind.URL_SECRET,
    }
    assert result.count == 8


@pytest.mark.parametrize("text", [MIXED, "Hi [NAME],\ntoken=[SECRET] https://[SECRET]@host.com [EMAIL] [PHONE]"])
def test_redaction_is_idempotent(text: str) -> None:
    once = redact_pii(text)
    twice = redact_pii(once.text)
    assert twice.text == once.text
    assert twice.count == 0


def test_findings_are_sorted_and_do_not_overlap() -> None:
    findings = detect_pii(MIXED)
    assert findings == sorted(findings, key=lambda finding: finding.start)
    for earlier, later in zip(findings, findings[1:], strict=False):
        assert earlier.end <= later.start


def test_overlapping_spans_are_merged_under_the_more_specific_kind() -> None:
    # The token's value is also an e-mail address: one marker comes out, named by the URL rule.
    result = redact_pii("https://x.io/cb?reset_token=jean@acme.fr&lang=fr")
    assert result.text == "https://x.io/cb?reset_token=[SECRET]&lang=fr"
    assert result.kinds == (PiiKind.URL_SECRET,)
    assert result.count == 1


def test_partially_overlapping_spans_are_redacted_as_one_covering_span() -> None:
    result = redact_pii("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2hlcmU")
    assert result.text == "Authorization: Bearer [SECRET]"
    assert result.count == 1


def test_findings_locate_values_without_holding_them() -> None:
    text = "mail jean.dupont@acme.fr now"
    (finding,) = detect_pii(text)
    assert finding == PiiFinding(PiiKind.EMAIL, 5, 24)
    assert text[finding.start : finding.end] == "jean.dupont@acme.fr"
    assert "jean" not in repr(finding) and "acme" not in repr(finding)
    assert not hasattr(finding, "value")


def test_result_repr_holds_no_raw_value() -> None:
    result = redact_pii(MIXED)
    assert "4111" not in repr(result) and "Marie" not in repr(result)


def test_kinds_are_plain_strings_for_logs() -> None:
    assert [str(kind) for kind in redact_pii("a@b.co and 8.8.8.8").kinds] == ["email", "ip_address"]
    assert PiiKind.CARD_NUMBER.placeholder == "[CARD]"


@pytest.mark.parametrize(
    "text",
    ["a." * 10_000, "a-" * 10_000 + "x", "a@" + "b." * 10_000 + "1", "1 " * 5_000, "Bonjour " + "Jean-" * 3_000],
)
def test_adversarial_input_is_handled_quickly(text: str) -> None:
    # A guard against catastrophic regex backtracking, not a speed figure: a backtracking pattern takes minutes
    # on these inputs, a linear one well under a second, so the bound is generous enough for a busy machine.
    started = time.perf_counter()
    redact_pii(text)
    assert time.perf_counter() - started < 10.0


def test_empty_text_has_nothing() -> None:
    assert redact_pii("") == redact_pii("")
    assert redact_pii("").count == 0
    assert not contains_pii("   ")


def test_docstring_example_holds() -> None:
    assert doctest.testmod(text_pii).failed == 0


def test_redact_json_redacts_every_string_and_keeps_the_structure() -> None:
    from text.pii import redact_json

    value = {"ticket": {"body": "card 4111.1111.1111.1111"}, "attempt": 2, "path": ["a", "mail jo@acme.io"]}
    redacted, kinds = redact_json(value)
    assert redacted == {"ticket": {"body": "card [CARD]"}, "attempt": 2, "path": ["a", "mail [EMAIL]"]}
    assert kinds == (PiiKind.CARD_NUMBER, PiiKind.EMAIL)
