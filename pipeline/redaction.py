"""Secret redaction for audit records, logs, chat replies and command output.

`Redactor.redact_text` removes, in one pass each:

- the known secret values it was given (and their URL-encoded form),
- private key blocks (PEM/OpenSSH, also when truncated before the END line),
- passwords in URLs (`scheme://user:pass@host` keeps the user and host),
- `Authorization: Bearer/Basic/token ...` credentials and bare `Bearer ...` tokens,
- well-known token shapes: Slack (`xoxb-`, `xoxp-`, `xapp-` ...), AWS access key ids,
  GitHub/GitLab personal tokens, Google API keys, JWTs,
- values of secret-looking assignments: `password=...`, `DB_PASSWORD: ...`,
  `"client_secret": "..."`, `--token ...`.

Hostnames, IP addresses, ports, paths, hashes and ordinary prose survive. Redaction is
idempotent: redacting redacted text changes nothing. `redact` walks dicts, lists and
tuples, and also blanks every string value stored under a secret-looking key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar, cast
from urllib.parse import quote

REDACTED = "[REDACTED]"
MIN_SECRET_LEN = 4
"""Known secrets shorter than this are ignored: redacting every "ab" would garble output."""

_T = TypeVar("_T")

# The last component of a key that names a secret: password, db_password, client-secret,
# GITHUB_TOKEN, api_key, apiKey. Keys such as `tokens`, `token_count` or `max_tokens` do not
# end in a secret word and are left alone.
_SECRET_WORD = (
    r"(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key"
    r"|private[_-]?key|secret[_-]?key|credentials?)"
)
_SECRET_KEY = rf"(?:[A-Za-z0-9]+[_.-])*[A-Za-z0-9]*?{_SECRET_WORD}"
_SECRET_KEY_RE = re.compile(
    rf"{_SECRET_KEY}|(?:proxy-)?authorization|auth|x-api-key|(?:set-)?cookie|session[_-]?id",
    re.IGNORECASE,
)
_NOT_YET = r"(?!\[REDACTED\])"  # keeps redaction idempotent

_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
    re.DOTALL,
)
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^:/@\s]{0,256}:)(?P<pw>[^@\s/]{1,1024})(?=@)"
)
_AUTH_HEADER = re.compile(
    r"(?P<head>\b(?:proxy-)?authorization\s*[:=]\s*[\"']?(?:bearer|basic|token|digest|negotiate)?\s*)"
    r"(?P<val>[^\s\"',;]+)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<head>\bbearer\s+)(?P<val>[A-Za-z0-9._~+/=-]{8,})", re.IGNORECASE)
_TOKEN_SHAPES = re.compile(
    r"\bxox[abposre]-[A-Za-z0-9-]{8,}"  # Slack bot/user/app-level/refresh tokens
    r"|\bxoxe\.xox[bp]-[A-Za-z0-9-]{8,}"  # Slack rotating refresh tokens
    r"|\bxapp-\d-[A-Za-z0-9-]{8,}"  # Slack app-level tokens
    r"|\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"  # AWS access key ids
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}\b|\bgithub_pat_[A-Za-z0-9_]{30,}"  # GitHub
    r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"  # Stripe
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT (header.payload.sig)
)
# key = value, key: value, "key": "value", key='va lue'; the key may be quoted.
_ASSIGNMENT = re.compile(
    rf"(?P<head>(?<![A-Za-z0-9_.-]){_SECRET_KEY}[\"']?\s*(?:=|:(?!//))\s*){_NOT_YET}"
    r"(?:\"(?P<dq>(?:\\.|[^\"\\\n])*)\"|'(?P<sq>(?:\\.|[^'\\\n])*)'|(?P<val>[^\s\"',;&}\]]+))",
    re.IGNORECASE,
)
# Command-line flags: --password hunter2, --client-secret=abc.
_FLAG = re.compile(
    rf"(?P<head>(?<![\w-])--?{_SECRET_KEY}(?:\s+|=)){_NOT_YET}(?P<val>(?!-)[^\s\"']+)", re.IGNORECASE
)


def is_secret_key(key: str) -> bool:
    """True when a mapping key names a secret (`password`, `db_password`, `apiKey`, `token`)."""
    return _SECRET_KEY_RE.fullmatch(key.strip()) is not None


class Redactor:
    """Removes known secret values and common credential patterns from text and data."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._known: re.Pattern[str] | None = None
        self.add_secrets(known_secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Register more secret values (e.g. credentials decrypted later)."""
        for secret in secrets:
            value = secret.strip()
            if len(value) < MIN_SECRET_LEN or value == REDACTED:
                continue
            self._secrets.add(value)
            encoded = quote(value, safe="")
            if encoded != value:
                self._secrets.add(encoded)
        ordered = sorted(self._secrets, key=len, reverse=True)  # longest first: no partial leftovers
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        return self.redact_text(text)

    def redact_text(self, text: str) -> str:
        """Return `text` with every secret it recognises replaced by `[REDACTED]`."""
        if not text:
            return text
        text = _PRIVATE_KEY.sub(REDACTED, text)
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}", text)
        text = _AUTH_HEADER.sub(_keep_head, text)
        text = _BEARER.sub(_keep_head, text)
        text = _TOKEN_SHAPES.sub(REDACTED, text)
        text = _ASSIGNMENT.sub(_redact_assignment, text)
        return _FLAG.sub(_keep_head, text)

    def redact(self, value: _T) -> _T:
        """Redact recursively through dicts, lists and tuples; other values pass unchanged.

        A string stored under a secret-looking key (`password`, `api_key`, `Authorization`)
        is replaced whole.
        """
        return cast(_T, self._walk(value))

    def _walk(self, value: object) -> object:
        if isinstance(value, str):
            return self.redact_text(value)
        if isinstance(value, dict):
            return {k: self._value_under(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._walk(v) for v in value)
        return value

    def _value_under(self, key: object, value: object) -> object:
        if isinstance(key, str) and isinstance(value, str) and value and is_secret_key(key):
            return REDACTED
        return self._walk(value)


def _keep_head(match: re.Match[str]) -> str:
    return match.group("head") + REDACTED


def _redact_assignment(match: re.Match[str]) -> str:
    for group, quote_char in (("dq", '"'), ("sq", "'")):
        quoted = match.group(group)
        if quoted is not None:
            if not quoted:
                return match.group(0)  # password="" holds nothing to hide
            return f"{match.group('head')}{quote_char}{REDACTED}{quote_char}"
    return match.group("head") + REDACTED
