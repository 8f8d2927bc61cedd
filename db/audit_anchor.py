"""What keeps the audit chain honest without trusting the database: the key and the head.

`AuditKey`: the HMAC-SHA256 key every record's hash is made with (a key file under the home
directory, mode 0600, or a configured key). Records written before keyed hashes existed keep
their plain sha256; the key says how many there were (`unkeyed_through`), so a chain rewritten
as unkeyed is still caught. Key file format, one item per line::

    <base64 32-byte key>
    unkeyed-through: 17        (only when earlier records predate the key)

`HeadFile`: an append-only file that gets ``SEQ:HASH AT`` after every append, fsync'd. A head
(`Head`) exported anywhere (this file, a remote log via ``opsconductor audit head``) lets
`SqlAuditLog.verify` catch a shortened, deleted or rebuilt chain.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pipeline.errors import StoreUnavailable

log = logging.getLogger(__name__)
KEY_BYTES = 32
AUDIT_KEY_FILE = "audit.key"
HEAD_FILE = "audit.head"
HEAD_PATTERN = re.compile(r"(?<![0-9A-Za-z])(\d+):([0-9a-f]{64})(?![0-9A-Za-z])")
UNKEYED = re.compile(r"unkeyed-through:\s*(\d+)")


class AuditKeyError(StoreUnavailable):
    """The audit key is missing, unreadable or not a key."""


@dataclass(frozen=True)
class AuditKey:
    """The chain's HMAC key; records 1..`unkeyed_through` predate it and use plain sha256."""

    secret: bytes
    unkeyed_through: int = 0

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise AuditKeyError(f"the audit key must be {KEY_BYTES} bytes, got {len(self.secret)}")

    def __repr__(self) -> str:
        return f"AuditKey(key_id={self.key_id!r}, unkeyed_through={self.unkeyed_through})"

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:8]

    def digest(self, seq: int, canonical: bytes) -> str:
        if seq <= self.unkeyed_through:
            return hashlib.sha256(canonical).hexdigest()
        return hmac.new(self.secret, canonical, hashlib.sha256).hexdigest()

    @classmethod
    def generate(cls, unkeyed_through: int = 0) -> AuditKey:
        return cls(secrets.token_bytes(KEY_BYTES), unkeyed_through)

    @classmethod
    def from_base64(cls, text: str, unkeyed_through: int = 0, source: str = "the audit key") -> AuditKey:
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise AuditKeyError(f"{source} is not valid base64") from None
        if len(secret) != KEY_BYTES:
            raise AuditKeyError(f"{source} must hold {KEY_BYTES} bytes (base64), got {len(secret)}")
        return cls(secret, unkeyed_through)

    def file_text(self) -> str:
        text = base64.b64encode(self.secret).decode("ascii") + "\n"
        return text + (f"unkeyed-through: {self.unkeyed_through}\n" if self.unkeyed_through else "")


def read_key_file(path: Path) -> AuditKey:
    """The key in `path` (see the module docstring for the format)."""
    lines = [line.strip() for line in path.read_text(encoding="ascii").splitlines() if line.strip()]
    if not lines:
        raise AuditKeyError(f"the audit key file {path} is empty")
    unkeyed = next((int(m.group(1)) for line in lines[1:] if (m := UNKEYED.fullmatch(line))), 0)
    return AuditKey.from_base64(lines[0], unkeyed, source=f"the audit key file {path}")


def create_key_file(path: Path, key: AuditKey) -> AuditKey:
    """Create `path` (mode 0600) holding `key`; if another process made one first, theirs is used."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key.file_text())
            file.flush()
            os.fsync(file.fileno())
        os.link(temp, path)
    except FileExistsError:
        return read_key_file(path)
    finally:
        temp.unlink(missing_ok=True)
    return key


@dataclass(frozen=True)
class Head:
    """An exported chain head: record `seq` has hash `hash`; `source` says where it was read."""

    seq: int
    hash: str
    source: str = ""

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def parse_heads(text: str, source: str) -> list[Head]:
    """Every ``SEQ:HASH`` in `text`, one per line (blank and ``#`` lines skipped); ValueError
    naming ``source:line`` for a line that holds none."""
    heads = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        found = HEAD_PATTERN.search(line)
        if found is None:
            raise ValueError(f"{source}:{number}: not an audit head (expected SEQ:HASH)")
        heads.append(Head(int(found.group(1)), found.group(2), f"{source}:{number}"))
    return heads


def load_heads(value: str) -> list[Head]:
    """`value` is one ``SEQ:HASH`` or a file of them (the head file, a remote log)."""
    if found := HEAD_PATTERN.fullmatch(value.strip()):
        return [Head(int(found.group(1)), found.group(2), "--head")]
    path = Path(value)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ValueError(f"--head {value}: neither SEQ:HASH nor a readable file ({err.strerror})") from None
    heads = parse_heads(text, str(path))
    if not heads:
        raise ValueError(f"--head {value}: the file holds no audit head")
    return heads


class HeadFile:
    """The append-only head file: one ``SEQ:HASH AT`` line per append, written and fsync'd."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, seq: int, digest: str, at: datetime) -> None:
        """Append one head; a failure is logged (the record is already committed), never raised."""
        line = f"{seq}:{digest} {at.isoformat()}\n".encode("ascii")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as err:
            log.error("the audit head file %s could not be written: %s", self.path, err.strerror or err)

    def heads(self) -> list[Head]:
        """The heads written so far ([] when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return []
        return parse_heads(text, str(self.path))
