"""Inventory selection and validation, shared by every AssetDirectory implementation.

What an `AssetFilter` selects is defined once, in `pipeline.selection`;
`InMemoryAssetDirectory` (eval command, tests) and `db.assets.SqlAssetRepository`
both answer queries through its index, so planning gives the same targets whichever
backs the inventory.
`AssetStore` is the port the inventory tools use to change assets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from pipeline.contracts import AssetFilter, AssetRef
from pipeline.errors import InvalidRequest
from pipeline.selection import AssetIndex

ASSET_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
NUMERIC_NAME = re.compile(r"^[0-9.]+$")
WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")
RELATIONSHIP_KINDS = ("depends_on", "runs_on", "member_of", "connects_to")
DEPENDENCY_KINDS = ("depends_on", "runs_on", "connects_to")
"""`source kind target` relationships through which a change to the target reaches the source."""


def asset_key(name: str) -> str:
    """How asset names are stored and compared: stripped, lower-case."""
    return name.strip().lower()


def validation_problems(err: ValidationError) -> list[str]:
    """One ``field: problem`` line per pydantic error."""
    return [f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg'].lower()}" for e in err.errors()]


def valid_address(address: str) -> bool:
    """An IP address, or a host name that cannot be mistaken for one: a name whose labels are
    all numbers ('10.0.0.300', '192.168.1') is a mistyped IPv4 address, never a host name."""
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return bool(HOSTNAME.match(address)) and not NUMERIC_NAME.match(address)
    return True


def validate_asset(asset: AssetRef) -> AssetRef:
    """The asset normalised (lower-case name, stripped fields), or InvalidRequest naming the problem."""
    name = asset_key(asset.name)
    if not ASSET_NAME.match(name):
        raise InvalidRequest(f"name {asset.name!r} is not valid (a-z, 0-9, '.', '_', '-'; max 63)")
    address = asset.address.strip()
    if not address:
        raise InvalidRequest(f"{name}: address missing")
    if NUMERIC_NAME.match(address) and not valid_address(address):
        raise InvalidRequest(f"{name}: address {address!r} is not a valid IP address")
    if not valid_address(address):
        raise InvalidRequest(f"{name}: address {address!r} is neither an IP address nor a host name")
    for field in ("type", "os"):
        value = getattr(asset, field).strip()
        if not WORD.match(value):
            raise InvalidRequest(f"{name}: {field} {value!r} is not valid")
    for field in ("environment", "location"):
        value = getattr(asset, field).strip()
        if value and not WORD.match(value):
            raise InvalidRequest(f"{name}: {field} {value!r} is not valid")
    for key in asset.tags:
        if not WORD.match(key):
            raise InvalidRequest(f"{name}: tag key {key!r} is not valid")
    services = tuple(s.strip() for s in asset.services if s.strip())
    return asset.model_copy(
        update={
            "name": name,
            "address": address,
            "type": asset.type.strip(),
            "os": asset.os.strip(),
            "environment": asset.environment.strip(),
            "location": asset.location.strip(),
            "services": tuple(dict.fromkeys(services)),
        }
    )


class InMemoryAssetDirectory:
    """AssetDirectory over a fixed list (the eval command, tests, demos)."""

    def __init__(self, assets: Sequence[AssetRef]) -> None:
        self._assets = tuple(sorted(assets, key=lambda a: a.name))

    async def snapshot(self) -> Sequence[AssetRef]:
        return self._assets

    async def query(self, selector: AssetFilter) -> Sequence[AssetRef]:
        return AssetIndex.of(self._assets).select(selector)


class AssetStore(Protocol):
    """Changing the inventory (the assets.create/update/delete tools and the importer).

    Raises InvalidRequest for invalid fields, UnknownTarget for unknown names, and
    InvalidRequest when a name is already taken.
    """

    async def snapshot(self) -> Sequence[AssetRef]: ...

    async def query(self, selector: AssetFilter) -> Sequence[AssetRef]: ...

    async def get(self, name: str) -> AssetRef | None: ...

    async def create(self, asset: AssetRef) -> AssetRef: ...

    async def update(self, name: str, changes: Mapping[str, Any]) -> AssetRef: ...

    async def delete(self, name: str) -> bool: ...

    async def import_assets(self, assets: Sequence[AssetRef], *, replace: bool = False) -> int:
        """Write all assets in one transaction (all or nothing); `replace` updates existing names."""
        ...
