"""Secret redaction for audit records, logs, chat replies and command output.

`Redactor.redact_text` removes, in one pass each:

- the known secret values it was given (and their URL-encoded form),
- private key blocks (PEM/OpenSSH, also when truncated before the END line),
- key material without its BEGIN line (`redact_key_material`): what `tail` of a key file
  shows, i.e. runs of base64 lines that end in an END line or hold a high-entropy key line,
- passwords in URLs (`scheme://user:pass@host` keeps the user and host; a password may
  hold `@` or `/`),
- the values of `Authorization:`, `Proxy-Authorization:`, `Cookie:` and `Set-Cookie:`
  headers in every position and quoting (`-H 'Authorization: Digest a="1", b="2"'`,
  `{"Authorization": "Bearer ..."}`, a header line of a dump), keeping the scheme word;
  bare `Bearer ...` tokens,
- passwords given on command lines: `mysql -pSECRET` (and mysqldump, mysqladmin, mariadb
  ...), `sshpass -p SECRET`, `redis-cli -a SECRET`, `docker login -p SECRET`,
  `curl -u user:SECRET` / `--proxy-user`, `http -a user:SECRET`, `smbclient -U user%SECRET`,
  `openssl -passin pass:SECRET`,
- well-known token shapes: Slack (`xoxb-`, `xoxp-`, `xapp-` ...), AWS access key ids and
  secret access keys (40 characters of mixed case and digits), GitHub/GitLab personal
  tokens, Google API keys, JWTs,
- values of secret-looking assignments and flags: `password=...`, `DB_PASSWORD: ...`,
  `PGPASSWORD=`, `MYSQL_PWD=`, `SSHPASS=`, `"client_secret": "..."`, `--token ...`,
  `--password="a b"`, `aws configure set aws_secret_access_key ...`.

Hostnames, IP addresses, ports, paths, hashes and ordinary prose survive. Redaction is
idempotent: redacting redacted text changes nothing. `redact` walks dicts, lists and
tuples, and also blanks every string value stored under a secret-looking key.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
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
    r"|private[_-]?key|secret[_-]?key|credentials?|mysql_pwd|sshpass)"
)
_SECRET_KEY = rf"(?:[A-Za-z0-9]+[_.-])*[A-Za-z0-9]*?{_SECRET_WORD}"
# A shell word: double-quoted (with escapes), single-quoted, or bare.
_WORD = r"(?:\"(?:\\.|[^\"\\\n])*\"|'[^'\n]*'|[^\s\"']+)"
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
# Key material seen without its BEGIN line (a `tail` of a key file, a middle slice of one).
_KEY_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PEM_HEADER = re.compile(r"(?:Proc-Type|DEK-Info|Comment|Private-Lines|Private-MAC):.*")
_BASE64_LINE = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# A key body flattened into one line with escaped newlines (JSON, logs) before its END line.
_ESCAPED_KEY_TAIL = re.compile(
    r"(?:[A-Za-z0-9+/]{4,}={0,2}(?:\\r)?\\n)++" r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
)
_OPENSSH_MAGIC = "b3BlbnNzaC1rZXktdjE"  # base64 of "openssh-key-v1", the first body line of OpenSSH keys
_ZERO_BYTES = re.compile("A{3,}")
KEY_LINE_MIN = 20
"""Shortest base64 line taken as key material on its own (PEM lines are 64, OpenSSH 70, the
last line of a key body may be short)."""
KEY_LINE_ENTROPY = 4.2
"""Bits per character above which such a line is key material: base64 lines of keys score
4.5-5.5 and mix upper and lower case in about equal shares; hex digests, base32 and CamelCase
prose do not."""

# The password runs to the last '@' before the query (it may hold '@' and '/', so a path
# holding '@' is hidden too); a port (digits then '/') is not a password:
# https://host:8443/a@b keeps everything.
_URL_PASSWORD = re.compile(
    r"(?P<head>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}://[^:/@\s]{0,256}:)"
    r"(?P<pw>(?!\d*/)[^\s'\"?#]{1,1024})(?=@[^@\s/'\"?#]*(?:[/\s'\"?#]|$))",
    re.MULTILINE,
)
# A header's value runs to its closing quote when quoted (`'Authorization: ...'`,
# `"Authorization": "..."`), else to the end of the line: schemes such as Digest or
# AWS4-HMAC-SHA256 carry several comma-separated secrets.
_HEADER = re.compile(
    r"(?P<head>(?P<q1>[\"'])?\b(?:(?:proxy-)?authorization|(?:set-)?cookie)(?P<q2>[\"'])?\s*[:=]\s*"
    r"(?P<q3>[\"'])?(?:(?:bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256)\s+)?)"
    r"(?P<val>(?(q3)(?:\\.|(?!(?P=q3))[^\\\n])*|(?(q1)(?:\\.|(?!(?P=q1))[^\\\n])*|[^\r\n]*)))",
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
# Command-line flags: --password hunter2, --client-secret=abc, --pass "a b".
_FLAG = re.compile(
    rf"(?P<head>(?<![\w-])--?(?:{_SECRET_KEY}|pass|pw)(?:\s+|=)){_NOT_YET}(?P<val>(?!-){_WORD})",
    re.IGNORECASE,
)
_SPACED_KEY = re.compile(
    rf"(?P<head>\b(?:aws_secret_access_key|aws_session_token)\s+){_NOT_YET}(?P<val>{_WORD})",
    re.IGNORECASE,
)
_AWS_SECRET = re.compile(
    r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=]))"
    r"(?=.{0,39}[A-Z])(?=.{0,39}[a-z])(?=.{0,39}[0-9])[A-Za-z0-9/+]{40}"
)


def _command_flag(commands: str, flag: str) -> re.Pattern[str]:
    """`flag`'s value on the command line of one of `commands` (same line, same pipeline stage)."""
    return re.compile(rf"(?P<head>(?<![\w.-])(?:{commands})\b[^\n|;&]*?\s{flag}){_NOT_YET}(?P<val>{_WORD})")


_MYSQL = r"mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlshow|mysqlpump|mariadb(?:-[a-z]+)?"
# Whole values of password options.
_COMMAND_PASSWORDS = (
    _command_flag(_MYSQL, "-p"),  # attached only: a bare -p prompts for it
    _command_flag("sshpass", r"-p\s*"),
    _command_flag("redis-cli", r"(?:-a\s*|--pass\s+)"),
    _command_flag(r"(?:docker|podman|nerdctl)\s+login", r"-p\s+"),
    _command_flag("openssl", r"-pass(?:in|out)?\s+pass:"),
)
# user:password values: the part after the separator is the secret.
_COMMAND_USERPASS = (
    (_command_flag("curl", r"(?:-[A-Za-z]*[uU]\s*|--(?:proxy-)?user(?:\s+|=))"), ":"),
    (_command_flag("http|https|xh", r"(?:-a\s*|--auth(?:\s+|=))"), ":"),
    (_command_flag("smbclient|rpcclient", r"(?:-U\s*|--user(?:\s+|=))"), "%"),
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
        text = redact_key_material(text)
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}", text)
        text = _HEADER.sub(_header_value, text)
        text = _BEARER.sub(_keep_head, text)
        text = _TOKEN_SHAPES.sub(REDACTED, text)
        text = _AWS_SECRET.sub(REDACTED, text)
        text = _command_lines(text)
        text = _ASSIGNMENT.sub(_redact_assignment, text)
        text = _SPACED_KEY.sub(_keep_head, text)
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


def redact_key_material(text: str) -> str:
    """Key bodies shown without their BEGIN line, e.g. `tail -n 5 ~/.ssh/id_rsa`.

    A run of consecutive base64 lines (PEM headers such as ``DEK-Info:`` included) is key
    material when an END ...PRIVATE KEY line closes it, when one of its lines starts like an
    OpenSSH key body, or when one of its lines (runs of zero bytes, i.e. ``AAA``, set aside)
    mixes upper and lower case and has the entropy of random bytes (`KEY_LINE_ENTROPY`).
    The whole run, and its END line, become one `[REDACTED]` line.
    Ordinary output (hashes, paths, prose, `ssh-ed25519 AAAA...` public keys) has no such run.
    """
    if not text:
        return text
    text = _ESCAPED_KEY_TAIL.sub(REDACTED, text)
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    run: list[str] = []
    for line in lines:
        body = line.strip()
        if _BASE64_LINE.fullmatch(body) or (run and _PEM_HEADER.fullmatch(body)):
            run.append(line)
            continue
        if _KEY_END.fullmatch(body):
            kept.append(REDACTED + _ending(line))
            run = []
            continue
        kept += _settled(run)
        run = []
        kept.append(line)
    kept += _settled(run)
    return "".join(kept)


def _settled(run: list[str]) -> list[str]:
    """A run of base64 lines not closed by an END line: redacted when it holds a key line."""
    if any(_is_key_line(line.strip()) for line in run):
        return [REDACTED + _ending(run[-1])]
    return run


def _is_key_line(body: str) -> bool:
    if len(body) < KEY_LINE_MIN or not _BASE64_LINE.fullmatch(body):
        return False
    if body.startswith(_OPENSSH_MAGIC):
        return True
    random_part = _ZERO_BYTES.sub("", body)  # length fields and padding of key formats
    size = len(random_part)
    if size < KEY_LINE_MIN - 4:
        return False
    upper = sum(c.isupper() for c in random_part) / size
    lower = sum(c.islower() for c in random_part) / size
    if upper < 0.1 or not 0.1 <= lower <= 0.7:
        return False  # random base64 is ~40% upper, ~40% lower; hex, base32 and prose are not
    entropy = -sum(n / size * math.log2(n / size) for n in Counter(random_part).values())
    return entropy >= min(KEY_LINE_ENTROPY, 0.8 * math.log2(size))  # short lines cannot score high


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]


def _keep_head(match: re.Match[str]) -> str:
    return match.group("head") + REDACTED


def _header_value(match: re.Match[str]) -> str:
    if not match.group("val").strip():
        return match.group(0)
    return match.group("head") + REDACTED


def _command_lines(text: str) -> str:
    for pattern in _COMMAND_PASSWORDS:
        text = pattern.sub(_keep_quoted, text)
    for pattern, separator in _COMMAND_USERPASS:
        text = pattern.sub(functools.partial(_after_separator, separator=separator), text)
    return text


def _keep_quoted(match: re.Match[str]) -> str:
    value = match.group("val")
    quote_char = value[0] if value[0] in "'\"" else ""
    return f"{match.group('head')}{quote_char}{REDACTED}{quote_char}"


def _after_separator(match: re.Match[str], separator: str) -> str:
    """`user:secret` -> `user:[REDACTED]` (quotes kept); a value without the separator stays."""
    value = match.group("val")
    quote_char = value[0] if value[0] in "'\"" else ""
    body = value[1:-1] if quote_char and len(value) > 1 else value
    user, found, secret = body.partition(separator)
    if not found or not secret or secret == REDACTED:
        return match.group(0)
    return f"{match.group('head')}{quote_char}{user}{separator}{REDACTED}{quote_char}"


def _redact_assignment(match: re.Match[str]) -> str:
    for group, quote_char in (("dq", '"'), ("sq", "'")):
        quoted = match.group(group)
        if quoted is not None:
            if not quoted:
                return match.group(0)  # password="" holds nothing to hide
            return f"{match.group('head')}{quote_char}{REDACTED}{quote_char}"
    return match.group("head") + REDACTED
