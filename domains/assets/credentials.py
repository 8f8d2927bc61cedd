"""Asset credentials at rest: AES-256-GCM with associated data binding each secret to its asset.

A `CredentialCipher` holds one 32-byte key (base64 in settings, or a generated key
file under the home directory with mode 0600 in the embedded default). Each secret
gets a fresh 12-byte nonce; the associated data ``opsconductor:<asset>:<kind>``
means a ciphertext copied to another asset or kind no longer decrypts. The key id
(first 8 hex digits of sha256 of the key) is stored with every row, so rotation
knows which rows still use the old key. Secrets travel as `SecretStr` and never
appear in repr, str or logs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path
from typing import Literal, NamedTuple

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, SecretStr

from pipeline.errors import InvalidRequest, OpsError

KEY_BYTES = 32
NONCE_BYTES = 12
KEY_FILE = "credential.key"
NEW_KEY_FILE = "credential.key.new"

CredentialKind = Literal["ssh_key", "password", "winrm"]


class CredentialError(OpsError):
    """A credential cannot be sealed or opened (bad key, wrong key, tampered ciphertext)."""


class Sealed(NamedTuple):
    """What is stored: ciphertext (with GCM tag), nonce and the id of the key that sealed it."""

    ciphertext: bytes
    nonce: bytes
    key_id: str


class Credential(BaseModel):
    """A usable credential; `secret` is a SecretStr so it never prints."""

    model_config = ConfigDict(frozen=True)
    asset: str
    kind: CredentialKind
    username: str = ""
    secret: SecretStr


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def associated_data(asset: str, kind: str) -> bytes:
    return f"opsconductor:{asset}:{kind}".encode()


class CredentialCipher:
    """Seals and opens credentials with one AES-256-GCM key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CredentialError(f"the credential key must be {KEY_BYTES} bytes, got {len(key)}")
        self._aead = AESGCM(key)
        self._key = key
        self.key_id = key_id_of(key)

    def __repr__(self) -> str:
        return f"CredentialCipher(key_id={self.key_id!r})"

    __str__ = __repr__

    @classmethod
    def generate(cls) -> CredentialCipher:
        return cls(AESGCM.generate_key(bit_length=KEY_BYTES * 8))

    @classmethod
    def from_base64(cls, text: str | SecretStr) -> CredentialCipher:
        try:
            key = base64.b64decode(_reveal(text).strip(), validate=True)
        except (binascii.Error, ValueError) as err:
            raise CredentialError("the credential key is not valid base64") from err
        return cls(key)

    @classmethod
    def load_or_create(cls, configured: str | SecretStr, home: Path) -> CredentialCipher:
        """The configured key, else the key file under `home` (created with mode 0600 on first use)."""
        if _reveal(configured).strip():
            return cls.from_base64(configured)
        path = home / KEY_FILE
        if not path.exists():
            _write_new_key(path)
        return cls.from_base64(path.read_text(encoding="ascii"))

    def export_key(self) -> SecretStr:
        """The key as base64 (for settings or a key file)."""
        return SecretStr(base64.b64encode(self._key).decode("ascii"))

    def seal(self, asset: str, kind: str, secret: str | SecretStr) -> Sealed:
        nonce = secrets.token_bytes(NONCE_BYTES)
        ciphertext = self._aead.encrypt(nonce, _reveal(secret).encode("utf-8"), associated_data(asset, kind))
        return Sealed(ciphertext, nonce, self.key_id)

    def open(self, asset: str, kind: str, sealed: Sealed) -> SecretStr:
        """The secret, or CredentialError when the key, asset, kind or ciphertext does not match."""
        if sealed.key_id != self.key_id:
            raise CredentialError(
                f"credential {kind} of {asset} was sealed with key {sealed.key_id}, not {self.key_id}"
            )
        try:
            plain = self._aead.decrypt(sealed.nonce, sealed.ciphertext, associated_data(asset, kind))
        except InvalidTag as err:
            raise CredentialError(
                f"credential {kind} of {asset} does not decrypt (tampered or moved)"
            ) from err
        return SecretStr(plain.decode("utf-8"))


def ssh_key_fingerprint(private_key: str | SecretStr) -> str:
    """``SHA256:...`` of the public half of an OpenSSH or PEM private key, as ``ssh-keygen -lf`` shows it.

    InvalidRequest when the text is not an unencrypted private key (a public key, a key with a
    passphrase, anything else), saying what to give instead.
    """
    text = _reveal(private_key).encode("utf-8")
    if text.lstrip().startswith((b"ssh-", b"ecdsa-")):
        raise InvalidRequest("that is a public key: give the private key file (the one without .pub)")
    try:
        load = (
            serialization.load_ssh_private_key
            if b"OPENSSH PRIVATE KEY" in text
            else serialization.load_pem_private_key
        )
        public = load(text, password=None).public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH)
    except TypeError as err:  # the key needs a password
        raise InvalidRequest(
            "the key is protected by a passphrase; store a copy without one "
            "(cp KEY COPY && ssh-keygen -p -N '' -f COPY), readable only by the service"
        ) from err
    except (ValueError, UnsupportedAlgorithm) as err:
        raise InvalidRequest("not an SSH private key (OpenSSH or PEM format expected)") from err
    digest = hashlib.sha256(base64.b64decode(public.split()[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def reseal(old: CredentialCipher, new: CredentialCipher, asset: str, kind: str, sealed: Sealed) -> Sealed:
    """Re-encrypt one sealed secret from `old` to `new` (a no-op for rows already under `new`)."""
    if sealed.key_id == new.key_id:
        return sealed
    return new.seal(asset, kind, old.open(asset, kind, sealed))


def _reveal(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def stage_key_file(home: Path, new: CredentialCipher) -> Path:
    """Write `new` beside the current key file (mode 0600) before rotating to it.

    Rotation for the embedded default: stage the new key, run
    `SqlCredentialStore.rotate(new)`, then `commit_key_file(home)`. A crash
    in between leaves both keys on disk, so no credential becomes unreadable.
    """
    path = home / NEW_KEY_FILE
    path.unlink(missing_ok=True)
    _write_key(path, new.export_key().get_secret_value().encode("ascii"))
    return path


def commit_key_file(home: Path) -> None:
    """Make the staged key the current one (atomic rename)."""
    os.replace(home / NEW_KEY_FILE, home / KEY_FILE)


def _write_new_key(path: Path) -> None:
    """Create the key file for a fresh random key (kept if another process made one first)."""
    _write_key(path, base64.b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)))


def _write_key(path: Path, key: bytes) -> None:
    """Create `path` atomically with mode 0600: write a private temp file, then link it into place."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(key + b"\n")
        os.link(temp, path)
    except FileExistsError:
        pass  # another process created it first: use theirs
    finally:
        temp.unlink(missing_ok=True)
