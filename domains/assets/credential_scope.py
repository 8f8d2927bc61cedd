"""Which stored credential logs in to a host: scopes (host, tag, default) and their precedence.

An operator stores a login for one host (`opsconductor credentials set web-01 ...`), for every
host carrying a tag (`--tag env=prod`), or for every host (`--default`). For a host the most
specific scope that holds a usable kind wins: host, then tag, then default. Within a scope a
key comes before a password (SSH); Windows hosts use the `winrm` kind only. Two tags of one host
holding credentials are taken in the order of their `k=v` text, so the choice is stable and
`credentials list` shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeVar

from domains.assets.credentials import CredentialKind
from pipeline.contracts import AssetRef
from pipeline.errors import InvalidRequest

ScopeKind = Literal["host", "tag", "default"]
T = TypeVar("T")
SCOPE_ORDER: dict[str, int] = {"host": 0, "tag": 1, "default": 2}


@dataclass(frozen=True, slots=True)
class CredentialScope:
    """Where a credential applies: one host (by asset name), one tag (``k=v``), or every host."""

    kind: ScopeKind
    value: str = ""

    @classmethod
    def tag(cls, text: str) -> CredentialScope:
        key, sep, value = text.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise InvalidRequest(f"--tag {text!r}: give it as KEY=VALUE, e.g. --tag env=prod")
        return cls("tag", f"{key.strip().lower()}={value.strip()}")

    @property
    def rank(self) -> tuple[int, str]:
        """Sorts most specific first: host, tag, default (then by name)."""
        return SCOPE_ORDER[self.kind], self.value

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}" if self.value else self.kind

    @property
    def sealed_as(self) -> str:
        """The name the cipher binds a scoped secret to (never an asset name: those have no ':')."""
        return f"scope:{self.kind}:{self.value}"

    def matches(self, asset: AssetRef) -> bool:
        if self.kind == "default":
            return True
        if self.kind == "host":
            return asset.name == self.value
        key, _, value = self.value.partition("=")
        return {k.lower(): v for k, v in asset.tags.items()}.get(key) == value


def kinds_for(asset: AssetRef) -> tuple[CredentialKind, ...]:
    """The credential kinds that can log in to `asset`, preferred first."""
    return ("winrm",) if asset.os.lower() == "windows" else ("ssh_key", "password")


def choose(
    asset: AssetRef, stored: Iterable[tuple[CredentialScope, CredentialKind, T]]
) -> tuple[CredentialScope, CredentialKind, T] | None:
    """The credential that logs in to `asset`: most specific scope first, then preferred kind."""
    kinds = kinds_for(asset)
    usable = [
        (*scope.rank, kinds.index(kind), scope, kind, item)
        for scope, kind, item in stored
        if kind in kinds and scope.matches(asset)
    ]
    if not usable:
        return None
    *_, scope, kind, item = min(usable, key=lambda row: row[:3])
    return scope, kind, item
