"""Checks run before the bot touches its files or opens its doors; each fails with one line.

Small functions, one concern each, called by the composition root (bot.app) and the console:

    secure_home(home)                       the state directory exists, is 0700 and writable
    private_file(path)                      a file the bot keeps (history) is created 0600
    secure_sqlite(path)                     the SQLite file, its -wal and -shm are 0600
    credential_cipher(settings, sealed)     the credential key, never silently replaced
    audit_key(settings, chain_end)          the audit chain's HMAC key, never silently replaced

Which doors must verify their callers is a settings rule (bot.settings.inbound_doors).
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from bot.settings import Settings
from db.audit_anchor import AUDIT_KEY_FILE, AuditKey, AuditKeyError, create_key_file, read_key_file
from domains.assets.credentials import KEY_FILE, NEW_KEY_FILE, CredentialCipher, CredentialError
from pipeline.errors import StoreUnavailable

log = logging.getLogger(__name__)
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def secure_home(home: Path) -> None:
    """Create `home` 0700, tighten it when it is looser (warn when it is not ours); StoreUnavailable
    with one line when it cannot be created or written (read-only file system, no permission)."""
    try:
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise StoreUnavailable(_unusable(home, err)) from None
    tighten(home, 0o700)
    if not os.access(home, os.W_OK):
        code = _read_only_errno(home)
        raise StoreUnavailable(_unusable(home, OSError(code, os.strerror(code))))


def private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 if it does not exist; tighten it if it does."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    except OSError as err:
        raise StoreUnavailable(_unusable(path, err)) from None
    tighten(path, 0o600)


def secure_sqlite(path: Path) -> None:
    """The database file created 0600 before SQLite opens it (SQLite gives its -wal and -shm
    the database file's mode), and every companion file that exists tightened to 0600."""
    if not path.exists():
        private_file(path)
    for suffix in SQLITE_COMPANIONS:
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            tighten(companion, 0o600)


def tighten(path: Path, mode: int) -> None:
    """Remove permission bits beyond `mode`; warn when the file is not ours to change."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not current & ~mode:
        return
    try:
        os.chmod(path, current & mode)
    except OSError as err:
        log.warning(
            "%s has mode %o (others can read it) and cannot be changed: %s", path, current, err.strerror
        )


def credential_cipher(settings: Settings, sealed_with: Mapping[str, int]) -> CredentialCipher:
    """The credential key (settings, else the key file under home), checked against the key ids
    of the stored credentials (`sealed_with`: key id -> rows). Fails closed with one line when
    the key file is gone or the key is not the one they were sealed with; a new key is only
    created when nothing is stored yet."""
    configured = settings.security.credential_key
    path = settings.home / KEY_FILE
    stored = sum(sealed_with.values())
    if not configured.get_secret_value().strip() and stored and not path.exists():
        raise CredentialError(
            f"the credential key file {path} is missing, but the database holds {stored} credentials "
            "sealed with it; restore the file from a backup (or set security.credential_key). "
            "No new key was created"
        )
    cipher = CredentialCipher.load_or_create(configured, settings.home)
    staged = settings.home / NEW_KEY_FILE  # an interrupted `credentials rotate-key`
    for key_file in (path, staged):
        tighten(key_file, 0o600)
    known = {cipher.key_id} | (
        {CredentialCipher.from_base64(staged.read_text()).key_id} if staged.exists() else set()
    )
    if stored and not known & set(sealed_with):
        source = "security.credential_key" if configured.get_secret_value().strip() else str(path)
        ids = ", ".join(sorted(sealed_with))
        raise CredentialError(
            f"the credential key in {source} (key id {cipher.key_id}) is not the one the {stored} stored "
            f"credentials were sealed with (key id {ids}); configure that key"
        )
    return cipher


def audit_key(settings: Settings, chain_end: tuple[int, bool]) -> AuditKey:
    """The audit chain's HMAC key: security.audit_key, else the key file under home.

    `chain_end` is (last seq, whether that record's hash is unkeyed) from `SqlAuditLog.chain_end`.
    A key file is made for an empty log, and outside production for a log whose records all
    predate keyed hashes (the file records how many, so they stay verifiable). Fails closed with
    one line when the records were keyed with a key file that is gone (a new key would make them
    unverifiable), and in production when the records predate keyed hashes: the operator keys
    them explicitly with `opsconductor audit init-key`.
    """
    configured = settings.security.audit_key.get_secret_value()
    if configured.strip():
        unkeyed = settings.security.audit_unkeyed_through
        return AuditKey.from_base64(configured, unkeyed, source="security.audit_key")
    path = settings.home / AUDIT_KEY_FILE
    if path.exists():
        tighten(path, 0o600)
        return read_key_file(path)
    last, unkeyed_end = chain_end
    if last and not unkeyed_end:
        raise AuditKeyError(
            f"the audit key file {path} is missing, but the database holds {last} audit records "
            "chained with it; restore the file from a backup (or set security.audit_key). "
            "No new key was created"
        )
    if last and settings.security.environment == "production":
        raise AuditKeyError(
            f"the audit key file {path} is missing and the {last} audit records predate keyed "
            f"hashes; run `opsconductor audit init-key` to key every record after {last}"
        )
    if last:
        log.warning("audit records 1..%d predate keyed hashes; %s keys the records after them", last, path)
    return create_key_file(path, AuditKey.generate(unkeyed_through=last))


def _unusable(path: Path, err: OSError) -> str:
    why = (err.strerror or str(err)).lower()
    return f"cannot write to {path} ({why}); set OPSCONDUCTOR_HOME to a writable directory"


def _read_only_errno(path: Path) -> int:
    try:
        return errno.EROFS if os.statvfs(path).f_flag & os.ST_RDONLY else errno.EACCES
    except OSError:
        return errno.EACCES
