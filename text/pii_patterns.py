"""Patterns and checksums behind `text.pii`: compiled once at import, no I/O.

Each detector here yields `(start, end)` spans for one kind of personal data or secret; `text.pii`
combines them, resolves overlaps and builds the redacted text. Checksums (Luhn, IBAN mod-97) and the
`ipaddress` module turn loose regex candidates into confident findings, so digits that merely look
like a card number or an address are left alone.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

Span = tuple[int, int]

# --- E-mail ----------------------------------------------------------------------------------------
# Plain addresses, `mailto:` included, and the "john [at] acme [dot] com" forms people use to dodge bots.
EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]+"
    r"(?:@|\s*[\[(]\s*(?:at|@|arobase)\s*[\])]\s*)"
    r"[\w-]+(?:(?:\.|\s*[\[(]\s*(?:dot|point)\s*[\])]\s*)[\w-]+)*"
    r"(?:\.|\s*[\[(]\s*(?:dot|point)\s*[\])]\s*)[A-Za-z]{2,}\b",
    re.IGNORECASE,
)
# "jane.doe at orange dot fr", "j.smith AT gmail DOT com", "marie arobase free point fr": the words
# alone, without brackets. Prose has "look at the dashboard dot matrix", so the word form counts only
# with a top-level domain people mail from and either a local part shaped like an address (a dot,
# digit, underscore or plus in it) or a mail provider's domain.
_MAIL_TLDS = r"com|fr|org|net|io|eu|de|be|ch|uk|co|info|biz|me|ca|es|it|nl|lu|pt|pl|us|ai|dev|app"
WORDED_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])(?P<local>[\w.%+-]+)\s+(?:at|arobase|chez)\s+"
    r"(?P<domain>[\w-]+(?:\s+(?:dot|point)\s+[\w-]+)*)\s+(?:dot|point)\s+"
    rf"(?:{_MAIL_TLDS})\b",
    re.IGNORECASE,
)
_MAIL_PROVIDERS = frozenset({
    "gmail", "googlemail", "yahoo", "hotmail", "outlook", "live", "msn", "icloud", "me", "aol", "gmx",
    "protonmail", "proton", "orange", "wanadoo", "free", "sfr", "laposte", "neuf", "bbox", "numericable",
    "club-internet", "aliceadsl", "mail", "yandex", "zoho",
})  # fmt: skip
# The password of "https://user:password@host" looks like an e-mail's local part; the URL rule owns it.
_URL_USERINFO_BEFORE_RE = re.compile(r"://[^\s/@]*:$")


# Domains reserved for documentation (RFC 2606/6761) never reach a person: "user@example.com" in an
# answer is an instruction, not personal data.
_RESERVED_EMAIL_DOMAIN_RE = re.compile(
    r"@(?:[\w-]+\.)*(?:example\.(?:com|org|net)|example|test|invalid|localhost)$", re.I
)


def find_emails(text: str) -> Iterator[Span]:
    """Spans of e-mail addresses, plain or written as "name [at] domain [dot] tld"."""
    for match in EMAIL_RE.finditer(text):
        if _RESERVED_EMAIL_DOMAIN_RE.search(match.group()):
            continue
        if not _URL_USERINFO_BEFORE_RE.search(text[max(0, match.start() - 200) : match.start()]):
            yield match.span()
    for match in WORDED_EMAIL_RE.finditer(text):
        local, domain = match.group("local"), match.group("domain").split()[0].lower()
        if any(char in local for char in "._+") or any(char.isdigit() for char in local) or domain in _MAIL_PROVIDERS:
            yield match.span()


# --- Payment cards -------------------------------------------------------------------------------
# Runs of digit groups separated by one space, dash, dot or slash (people type all four, and mix them),
# at least 13 digits, not glued to letters. A run may hold a card among other numbers:
# "ref 12 4111 1111 1111 1111 12/25 123". Prefix, length and Luhn decide, not the separator.
CARD_CANDIDATE_RE = re.compile(r"(?<![\w-])\d(?:[ ./-]?\d){12,}(?![\w-])")
_DIGIT_GROUP_RE = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn checksum used by payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def find_card_numbers(text: str) -> Iterator[Span]:
    """Spans of Luhn-valid numbers with a card network's prefix and length.

    Within a run of digit groups, every sequence of whole groups holding 13 to 19 digits is tried,
    longest first, so a card is found among the numbers written around it.
    """
    for run in CARD_CANDIDATE_RE.finditer(text):
        groups = [
            (run.start() + group.start(), run.start() + group.end()) for group in _DIGIT_GROUP_RE.finditer(run.group())
        ]
        first = 0
        while first < len(groups):
            card_end = _longest_card_from(text, groups, first)
            if card_end is None:
                first += 1
                continue
            yield groups[first][0], groups[card_end][1]
            first = card_end + 1


def _longest_card_from(text: str, groups: list[Span], first: int) -> int | None:
    """Index of the last group of the longest card number starting at group `first`, if any."""
    if text[groups[first][0]] not in "23456":  # no card network starts with 0, 1, 7, 8 or 9
        return None
    digits = ""
    candidates: list[tuple[int, str]] = []
    for last in range(first, len(groups)):
        digits += text[groups[last][0] : groups[last][1]]
        if len(digits) > 19:
            break
        candidates.append((last, digits))
    for last, number in reversed(candidates):
        if len(number) >= 13 and card_network_length_matches(number) and luhn_valid(number):
            return last
    return None


def card_network_length_matches(digits: str) -> bool:
    """Whether a major network issues cards with this prefix and length.

    Luhn alone lets one random number in ten through; French company ids (SIRET, 14 digits) are
    Luhn-valid by design. Prefix and length rule most of them out.
    """
    length, first, two, three, four = len(digits), digits[0], int(digits[:2]), int(digits[:3]), int(digits[:4])
    if first == "4":  # Visa
        return length in (13, 16, 19)
    if 51 <= two <= 55 or 2221 <= four <= 2720:  # Mastercard
        return length == 16
    if two in (34, 37):  # American Express
        return length == 15
    if two in (36, 38, 39) or 300 <= three <= 305:  # Diners Club
        return 14 <= length <= 19
    if 3528 <= four <= 3589 or first == "6" or two == 50 or 56 <= two <= 58:  # JCB, Discover, UnionPay, Maestro
        return 16 <= length <= 19
    return False


# --- IBAN ----------------------------------------------------------------------------------------
IBAN_CANDIDATE_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,30}", re.IGNORECASE)
# Registry lengths for the countries our customers bank in; others fall back to the 15-34 range.
IBAN_LENGTHS = {
    "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MA": 28, "MC": 27, "MT": 31, "NL": 18,
    "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24,
}  # fmt: skip


def iban_checksum_valid(iban: str) -> bool:
    """Whether a compact, upper-case IBAN passes the ISO 13616 mod-97 check."""
    rearranged = iban[4:] + iban[:4]
    as_number = "".join(str(int(char, 36)) for char in rearranged)
    return int(as_number) % 97 == 1


def find_ibans(text: str) -> Iterator[Span]:
    """Spans of IBANs whose mod-97 checksum holds, written compact or in groups."""
    for match in IBAN_CANDIDATE_RE.finditer(text):
        # Positions in the text of each alphanumeric character, so a compact prefix maps back to a span.
        positions = [match.start() + i for i, char in enumerate(match.group()) if char.isalnum()]
        compact = "".join(text[i] for i in positions).upper()
        expected = IBAN_LENGTHS.get(compact[:2])
        lengths = [expected] if expected else range(min(len(compact), 34), 14, -1)
        for length in lengths:
            if len(compact) >= length and iban_checksum_valid(compact[:length]):
                yield positions[0], positions[length - 1] + 1
                break


# --- IP addresses --------------------------------------------------------------------------------
# Not glued to a name or a suffix: "tor-0.4.6.10.tar.gz" and "1.2.3.4-alpha" are versions.
IPV4_CANDIDATE_RE = re.compile(r"(?<![\w.-])\d{1,3}(?:\.\d{1,3}){3}(?!\w|[.-]\w)")
IPV6_CANDIDATE_RE = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")
# "v1.2.3.4", "version 1.2.3.4", "build 10.0.19045.1": dotted quads that are versions, not hosts.
VERSION_PREFIX_RE = re.compile(r"(?:\bv|\b(?:version|ver|build|release|firmware|vers)\.?\s*:?\s*)$", re.I)


def find_ip_addresses(text: str) -> Iterator[Span]:
    """Spans of IPv4/IPv6 addresses that can identify a machine; version-like dotted quads are skipped."""
    for match in IPV4_CANDIDATE_RE.finditer(text):
        if VERSION_PREFIX_RE.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        if _is_identifying_address(match.group()):
            yield match.span()
    for match in IPV6_CANDIDATE_RE.finditer(text):
        if any(char.isalnum() for char in match.group()) and _is_identifying_address(match.group()):
            yield match.span()


# Networks whose addresses identify no one: "0.4.6.9" in text is a version, and documentation
# ranges (RFC 5737, RFC 3849) only appear in examples.
_NOT_A_HOST_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("0.0.0.0/8", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def _is_identifying_address(candidate: str) -> bool:
    """Whether a syntactically valid address could point at someone's machine."""
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return False
    if address.is_loopback or address.is_unspecified:
        return False
    return not any(address in network for network in _NOT_A_HOST_NETWORKS)


# --- Secrets -------------------------------------------------------------------------------------
# Secret-bearing query parameters: the value is replaced, the parameter name kept for context.
# A value that starts with "[" is an earlier placeholder, left alone so redaction is idempotent.
URL_SECRET_PARAM_RE = re.compile(
    r"[?&;#][\w.-]*(?:token|key|secret|passw(?:or)?d|pwd|signature|sig|credential|auth|session(?:id)?|sid)"
    r"=(?P<value>[^\[&\s#\"'<>][^&\s#\"'<>]*)",
    re.IGNORECASE,
)
# "https://user:password@host": the credentials are replaced, the host kept.
URL_USERINFO_RE = re.compile(r"\b[a-z][a-z0-9+.-]{0,30}://(?P<value>[^\s:/@\[]+:[^\s/@]+)@", re.IGNORECASE)

_TOKEN_SHAPE = r"(?-i:(?=\S*\d|\S*[a-z]\S*[A-Z]|\S*[A-Z]\S*[a-z]))"  # case-sensitive in any pattern
SECRET_TOKEN_RES = (
    # Credentials hold a digit or mixed case, which keeps "bearer of this", "basic collaborative" out.
    re.compile(rf"\bbearer\s+(?P<value>{_TOKEN_SHAPE}[A-Za-z0-9\-._~+/]{{16,}}=*)", re.IGNORECASE),
    re.compile(rf"\bbasic\s+(?P<value>{_TOKEN_SHAPE}[A-Za-z0-9+/]{{12,}}={{0,2}})(?![\w+/=])", re.IGNORECASE),
    re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"),  # OpenAI, Anthropic
    re.compile(r"\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),  # Stripe
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}"),  # GitHub
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),  # Slack
    re.compile(r"\bAIza[0-9A-Za-z_-]{35}"),  # Google API keys
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    # "password: S3cret!" / "mot de passe : ..." when the value looks like a password, not a word.
    re.compile(
        r"\b(?:password|passwd|pwd|mot de passe|mdp|passcode|api[ _-]?key|secret)\s*[:=]\s*"
        r"(?P<value>(?=[^\s\[&]*[\d\W_])[^\s\[&]{6,})",
        re.IGNORECASE,
    ),
)
# Long opaque strings mixing upper case, lower case and digits read as keys; hex hashes, UUIDs and
# "0x"-prefixed fingerprints (single case) and file paths (slashes) do not match.
GENERIC_KEY_RE = re.compile(
    r"(?<![\w-])(?!0x[0-9A-Fa-f]+(?![\w-]))(?=[\w-]*[a-z])(?=[\w-]*[A-Z])(?=[\w-]*\d)[A-Za-z0-9_-]{32,}(?![\w-])"
)


def find_url_secrets(text: str) -> Iterator[Span]:
    """Spans of credentials carried by URLs: secret query parameters and `user:password@` parts."""
    for pattern in (URL_SECRET_PARAM_RE, URL_USERINFO_RE):
        for match in pattern.finditer(text):
            yield match.span("value")


def find_secret_tokens(text: str) -> Iterator[Span]:
    """Spans of bearer tokens, known API-key formats, private keys and passwords given in clear."""
    for pattern in SECRET_TOKEN_RES:
        for match in pattern.finditer(text):
            yield match.span("value") if "value" in pattern.groupindex else match.span()
    for match in GENERIC_KEY_RE.finditer(text):
        yield match.span()
