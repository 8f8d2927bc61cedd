"""`opsconductor credentials set|list|delete`: the logins the bot uses on hosts, by scope.

A login is stored for one host (an inventory asset), for every host with a tag, or for every
host (default); SSH and WinRM take the most specific one (domains.assets.credential_scope).
Secrets are sealed with the credential key and never printed: a listing shows scope, user,
kind and, for an SSH key, its fingerprint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.app import credential_cipher, prepare_database, seed_demo_inventory
from bot.settings import Settings
from db.assets import SqlAssetRepository
from db.credentials import SqlCredentialStore, StoredLogin
from db.engine import session_factory
from domains.assets.credential_scope import CredentialScope
from domains.assets.credentials import CredentialKind, ssh_key_fingerprint
from pipeline.errors import InvalidRequest, UnknownTarget

NOT_IN_INVENTORY = (
    "{host} is not in the inventory: add it first (`opsconductor assets import FILE`), "
    "or store a login for many hosts with --tag KEY=VALUE or --default"
)


@dataclass(frozen=True, slots=True)
class ScopeChoice:
    """What the command line named: HOST, --tag KEY=VALUE or --default (exactly one)."""

    host: str | None
    tag: str | None
    default: bool

    def problem(self) -> str | None:
        given = sum((self.host is not None, self.tag is not None, self.default))
        return None if given == 1 else "name exactly one of HOST, --tag KEY=VALUE or --default"


@dataclass(frozen=True, slots=True)
class NewLogin:
    """A login to store: a private key's text or a password, for `user`."""

    user: str
    key: str | None = None
    password: str | None = None
    winrm: bool = False  # the password is for WinRM (implied for a Windows host)


@asynccontextmanager
async def inventory_sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the configured database, with the demo inventory seeded where the app seeds it."""
    engine = await prepare_database(settings)
    try:
        sessions = session_factory(engine)
        if settings.embedded_default:
            await seed_demo_inventory(SqlAssetRepository(sessions))
        yield sessions
    finally:
        await engine.dispose()


@asynccontextmanager
async def credential_store(settings: Settings) -> AsyncIterator[SqlCredentialStore]:
    """The credential store of the configured database."""
    async with inventory_sessions(settings) as sessions:
        yield SqlCredentialStore(sessions, await credential_cipher(settings, sessions))


async def _scope(store: SqlCredentialStore, choice: ScopeChoice) -> CredentialScope:
    if choice.tag is not None:
        return CredentialScope.tag(choice.tag)
    if choice.host is None:
        return CredentialScope("default")
    try:
        return await store.host_scope(choice.host)
    except UnknownTarget as err:
        raise InvalidRequest(NOT_IN_INVENTORY.format(host=choice.host)) from err


async def _kind(store: SqlCredentialStore, scope: CredentialScope, login: NewLogin) -> CredentialKind:
    if login.key is not None:
        return "ssh_key"
    if login.winrm:
        return "winrm"
    if scope.kind == "host" and await store.is_windows(scope.value):
        return "winrm"
    return "password"


def read_key_file(path: Path) -> str:
    """The private key's text, checked (a public key or a passphrase-protected key is refused)."""
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        ssh_key_fingerprint(text)
    except InvalidRequest as err:
        raise InvalidRequest(f"{path}: {err}") from err
    return text


async def set_login(settings: Settings, choice: ScopeChoice, login: NewLogin) -> str:
    """Store the login; returns the line to print (what was stored, never the secret)."""
    secret = login.key if login.key is not None else login.password
    if not secret:
        raise InvalidRequest("the password is empty (give it on stdin with --password-stdin)")
    async with credential_store(settings) as store:
        scope = await _scope(store, choice)
        kind = await _kind(store, scope, login)
        await store.set(scope, kind, login.user, secret)
    shown = f", key {ssh_key_fingerprint(secret)}" if kind == "ssh_key" else ""
    return f"stored {kind} for {scope.label} (user {login.user}{shown})"


async def list_logins(settings: Settings) -> list[StoredLogin]:
    async with credential_store(settings) as store:
        return await store.logins()


def login_line(login: StoredLogin) -> str:
    return f"{login.scope.label:<28} {login.username or '-':<16} {login.kind:<8} {login.fingerprint or '-'}"


async def delete_login(settings: Settings, choice: ScopeChoice, kind: CredentialKind | None) -> str:
    async with credential_store(settings) as store:
        scope = await _scope(store, choice)
        removed = await store.delete(scope, kind)
    if not removed:
        raise InvalidRequest(
            f"no {kind or 'credential'} stored for {scope.label} (see `opsconductor credentials list`)"
        )
    return f"deleted {removed} credential{'s' if removed > 1 else ''} of {scope.label}"
