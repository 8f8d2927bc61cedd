"""CredentialCipher: AES-256-GCM with associated data, key ids, rotation, key file, no leaks."""

from __future__ import annotations

import base64
import logging
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from domains.assets.credentials import (
    KEY_FILE,
    Credential,
    CredentialCipher,
    CredentialError,
    Sealed,
    commit_key_file,
    key_id_of,
    reseal,
    stage_key_file,
)

SECRET = "correct horse battery staple"


def test_sealed_secret_opens_and_hides_the_plaintext() -> None:
    cipher = CredentialCipher.generate()
    sealed = cipher.seal("web-01", "password", SECRET)
    assert SECRET.encode() not in sealed.ciphertext
    assert len(sealed.nonce) == 12 and sealed.key_id == cipher.key_id
    assert cipher.open("web-01", "password", sealed).get_secret_value() == SECRET
    again = cipher.seal("web-01", "password", SECRET)
    assert again.nonce != sealed.nonce and again.ciphertext != sealed.ciphertext


def test_wrong_key_fails() -> None:
    sealed = CredentialCipher.generate().seal("web-01", "password", SECRET)
    other = CredentialCipher.generate()
    with pytest.raises(CredentialError, match="sealed with key"):
        other.open("web-01", "password", sealed)
    # Even with a forged key id the tag check refuses it.
    with pytest.raises(CredentialError, match="does not decrypt"):
        other.open("web-01", "password", sealed._replace(key_id=other.key_id))


@pytest.mark.parametrize(("asset", "kind"), [("web-02", "password"), ("web-01", "ssh_key")])
def test_associated_data_binds_asset_and_kind(asset: str, kind: str) -> None:
    cipher = CredentialCipher.generate()
    sealed = cipher.seal("web-01", "password", SECRET)
    with pytest.raises(CredentialError, match="does not decrypt"):
        cipher.open(asset, kind, sealed)


def test_tampered_ciphertext_fails() -> None:
    cipher = CredentialCipher.generate()
    sealed = cipher.seal("web-01", "password", SECRET)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(CredentialError):
        cipher.open("web-01", "password", Sealed(flipped, sealed.nonce, sealed.key_id))


def test_reseal_moves_a_secret_to_the_new_key() -> None:
    old, new = CredentialCipher.generate(), CredentialCipher.generate()
    sealed = old.seal("db-01", "winrm", SECRET)
    moved = reseal(old, new, "db-01", "winrm", sealed)
    assert moved.key_id == new.key_id != old.key_id
    assert new.open("db-01", "winrm", moved).get_secret_value() == SECRET
    assert reseal(old, new, "db-01", "winrm", moved) is moved


def test_key_from_base64_and_key_id() -> None:
    key = bytes(range(32))
    cipher = CredentialCipher.from_base64(SecretStr(base64.b64encode(key).decode()))
    assert cipher.key_id == key_id_of(key) and len(cipher.key_id) == 8
    assert CredentialCipher.from_base64(cipher.export_key()).key_id == cipher.key_id
    with pytest.raises(CredentialError, match="32 bytes"):
        CredentialCipher.from_base64(base64.b64encode(b"short").decode())
    with pytest.raises(CredentialError, match="base64"):
        CredentialCipher.from_base64("not base64!")


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = CredentialCipher.load_or_create("", home)
    path = home / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CredentialCipher.load_or_create(SecretStr(""), home).key_id == first.key_id
    assert [p.name for p in home.iterdir()] == [KEY_FILE]
    configured = CredentialCipher.generate()
    assert CredentialCipher.load_or_create(configured.export_key(), home).key_id == configured.key_id


def test_secrets_never_print(caplog: pytest.LogCaptureFixture) -> None:
    cipher = CredentialCipher.generate()
    key_text = cipher.export_key().get_secret_value()
    credential = Credential(asset="web-01", kind="password", username="root", secret=SecretStr(SECRET))
    logging.getLogger("test").warning("cipher %s credential %r %s", cipher, credential, credential)
    shown = " ".join([repr(cipher), str(cipher), repr(credential), str(credential), caplog.text])
    assert SECRET not in shown and key_text not in shown
    assert cipher.key_id in repr(cipher)


def test_staged_key_becomes_current_on_commit(tmp_path: Path) -> None:
    old = CredentialCipher.load_or_create("", tmp_path)
    new = CredentialCipher.generate()
    staged = stage_key_file(tmp_path, new)
    assert stat.S_IMODE(staged.stat().st_mode) == 0o600
    assert CredentialCipher.load_or_create("", tmp_path).key_id == old.key_id
    commit_key_file(tmp_path)
    assert CredentialCipher.load_or_create("", tmp_path).key_id == new.key_id
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]
