"""What an `AssetFilter` selects: the one rule, and an index that answers it without a scan.

Every place that picks assets by a filter uses this module: stage C (`build_plan`), the
asset directories (`domains.assets.directory`, `db.assets`) and the understanding layer's
inventory view (`pipeline.nlu.inventory`). The rule, field by field (empty fields match all):

    names         the asset's name or address (case-insensitive)
    types         the type; "server"/"servers" stands for every server type (`is_server_type`)
    os, environments, locations
                  equal, case-insensitive, any of the values
    tags          every key present with an equal value (keys and values case-insensitive)
    services      the asset runs any of them
    exclude       removes assets by name or address

`matches(asset, selector)` states the rule for one asset; `AssetIndex` answers the same
question for a whole snapshot from posting lists (one dict per field), so selection costs
what it returns, not the size of the inventory. A test holds the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pipeline.contracts import AssetFilter, AssetRef

SERVER_TYPES = frozenset({"web_server", "app_server", "db_server", "domain_controller"})
"""What "servers" means in the reference inventory (ARCHITECTURE: tool catalog)."""

SERVER_WORDS = frozenset({"server", "servers"})


def is_server_type(asset_type: str) -> bool:
    """A server by type: the four named ones and, in other inventories, any `*_server` or `*controller`."""
    low = asset_type.casefold()
    return low in SERVER_TYPES or low.endswith("_server") or low.endswith("controller")


def _fold(values: Iterable[str]) -> set[str]:
    return {str(v).casefold() for v in values}


def _types_match(asset_type: str, wanted: Iterable[str]) -> bool:
    folded = _fold(wanted)
    if asset_type.casefold() in folded:
        return True
    return bool(folded & SERVER_WORDS) and is_server_type(asset_type)


def _tag(tags: Mapping[str, str], key: str) -> str:
    for k, v in tags.items():
        if k.casefold() == key.casefold():
            return v.casefold()
    return "\0"  # never equal to a wanted value


def matches(asset: AssetRef, selector: AssetFilter) -> bool:
    """True when `selector` picks `asset` (the rule in the module docstring)."""
    keys = {asset.name.casefold(), asset.address.casefold()}
    checks = (
        not selector.names or bool(keys & _fold(selector.names)),
        not selector.types or _types_match(asset.type, selector.types),
        not selector.os or asset.os.casefold() in _fold(selector.os),
        not selector.environments or asset.environment.casefold() in _fold(selector.environments),
        not selector.locations or asset.location.casefold() in _fold(selector.locations),
        all(_tag(asset.tags, k) == str(v).casefold() for k, v in selector.tags.items()),
        not selector.services or bool(_fold(asset.services) & _fold(selector.services)),
        not (keys & _fold(selector.exclude)),
    )
    return all(checks)


def select(assets: Iterable[AssetRef], selector: AssetFilter) -> list[AssetRef]:
    """The assets `selector` picks, sorted by name (a scan; `AssetIndex.select` for snapshots)."""
    return sorted((a for a in assets if matches(a, selector)), key=lambda a: a.name)


Postings = dict[str, list[int]]


@dataclass
class AssetIndex:
    """Posting lists over one snapshot (positions into `assets`, sorted by name).

    Build once per snapshot (`AssetIndex.of` keeps the last one); memory is one list entry
    per asset and indexed value, so it grows linearly with the inventory.
    """

    assets: tuple[AssetRef, ...]
    keys: Postings = field(default_factory=dict)  # name and address -> position
    types: Postings = field(default_factory=dict)
    os: Postings = field(default_factory=dict)
    environments: Postings = field(default_factory=dict)
    locations: Postings = field(default_factory=dict)
    tags: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    services: Postings = field(default_factory=dict)

    @classmethod
    def build(cls, assets: Sequence[AssetRef]) -> AssetIndex:
        index = cls(tuple(sorted(assets, key=lambda a: a.name)))
        for i, asset in enumerate(index.assets):
            index._add(i, asset)
        return index

    def _add(self, i: int, asset: AssetRef) -> None:
        for key in {asset.name.casefold(), asset.address.casefold()}:
            self.keys.setdefault(key, []).append(i)
        self.types.setdefault(asset.type.casefold(), []).append(i)
        self.os.setdefault(asset.os.casefold(), []).append(i)
        self.environments.setdefault(asset.environment.casefold(), []).append(i)
        self.locations.setdefault(asset.location.casefold(), []).append(i)
        for k, v in asset.tags.items():
            self.tags.setdefault((k.casefold(), v.casefold()), []).append(i)
        for service in {s.casefold() for s in asset.services}:
            self.services.setdefault(service, []).append(i)

    @classmethod
    def of(cls, assets: Sequence[AssetRef]) -> AssetIndex:
        """The index of `assets`, reused while the same snapshot object is passed."""
        for seen, index in _RECENT:
            if seen is assets:
                return index
        index = cls.build(assets)
        _RECENT[:] = [(assets, index), *_RECENT[: _KEEP - 1]]
        return index

    def get(self, key: str) -> AssetRef | None:
        """The asset named `key`, or with that address."""
        found = self.keys.get(key.strip().casefold())
        return self.assets[found[0]] if found else None

    def select(self, selector: AssetFilter) -> list[AssetRef]:
        """The assets `selector` picks, sorted by name; equal to `select(assets, selector)`."""
        chosen: set[int] | None = None
        for positions in self._candidates(selector):
            chosen = positions if chosen is None else chosen & positions
            if not chosen:
                return []
        if chosen is None:
            chosen = set(range(len(self.assets)))
        for key in _fold(selector.exclude):
            chosen.difference_update(self.keys.get(key, ()))
        return [self.assets[i] for i in sorted(chosen)]

    def _candidates(self, selector: AssetFilter) -> Iterable[set[int]]:
        if selector.names:
            yield _union(self.keys, _fold(selector.names))
        if selector.types:
            yield _union(self.types, self._type_keys(selector.types))
        for postings, values in (
            (self.os, selector.os),
            (self.environments, selector.environments),
            (self.locations, selector.locations),
            (self.services, selector.services),
        ):
            if values:
                yield _union(postings, _fold(values))
        for k, v in selector.tags.items():
            yield set(self.tags.get((k.casefold(), str(v).casefold()), ()))

    def _type_keys(self, wanted: Iterable[str]) -> set[str]:
        folded = _fold(wanted)
        if folded & SERVER_WORDS:
            folded |= {t for t in self.types if is_server_type(t)}
        return folded


def _union(postings: Mapping[str, list[int]], keys: Iterable[str]) -> set[int]:
    found: set[int] = set()
    for key in keys:
        found.update(postings.get(key, ()))
    return found


_KEEP = 2  # snapshots whose index is kept (the live one and the one it replaced)
_RECENT: list[tuple[Sequence[AssetRef], AssetIndex]] = []
