"""What the understanding prompt says about the inventory, bounded whatever its size.

    system prefix  the attribute values that selectors use (types, os, environments, locations;
                   each list capped) and the asset count: stable, so the prefix cache holds
    user message   only the names, services and tags the request could refer to, looked up in
                   the understanding layer's tolerant index (exact, normalised, typos, globs,
                   ranges' ends), each list capped

So the prompt stays the same size for 18 or 100,000 assets: a request naming three hosts sends
three names, not the inventory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipeline.contracts import AssetRef
from pipeline.nlu.inventory import InventoryIndex, is_address, within_one

MAX_NAMES = 40
MAX_VALUES = 30
_WORD = re.compile(r"[A-Za-z0-9*][A-Za-z0-9._*/-]*")


def summary(assets: Sequence[AssetRef]) -> list[tuple[str, str]]:
    """(label, values) lines for the system prefix: selector values and the size of the inventory."""
    known = [a for a in assets if a.in_inventory]
    rows = [
        ("assets", str(len(known))),
        ("types", _listed({a.type for a in known})),
        ("os", _listed({a.os for a in known})),
        ("environments", _listed({a.environment for a in known})),
        ("locations", _listed({a.location for a in known})),
    ]
    return rows


def relevant(text: str, index: InventoryIndex, *, addresses: bool = False) -> list[tuple[str, str]]:
    """(label, values) lines for the names, services and tags `text` could refer to."""
    names: list[str] = []
    services: list[str] = []
    tags: list[str] = []
    for word in _WORD.findall(text):
        low = word.lower().strip(".,;:")
        names += _names(low, index)
        services += _services(low, index)
        tags += [f"{k}={v}" for k, v in index.tag_values.get(low, ())]
        tags += [f"{low}=..." for key in (low,) if key in index.tag_keys]
    found = list(dict.fromkeys(names))[:MAX_NAMES]
    rows = [
        ("names", ", ".join(found) or "(none named)"),
        ("services", ", ".join(list(dict.fromkeys(services))[:MAX_VALUES]) or "(none named)"),
        ("tags", ", ".join(list(dict.fromkeys(tags))[:MAX_VALUES]) or "(none named)"),
    ]
    if addresses and found:
        rows.append(("addresses", ", ".join(f"{n}={index.by_name[n.lower()].address}" for n in found)))
    return rows


def _names(low: str, index: InventoryIndex) -> list[str]:
    if "*" in low:
        return index.glob(low)[:MAX_NAMES]
    if is_address(low):
        return [index.by_address[low]] if low in index.by_address else []
    if low in index.by_name or index.looks_like_host(low) or len(low) >= 5:
        return list(index.lookup(low).names)
    return []


def _services(low: str, index: InventoryIndex) -> list[str]:
    if low in index.services:
        return [index.services[low]]
    if len(low) < 5:
        return []
    return [s for key, s in index.services.items() if len(key) >= 5 and within_one(low, key)]


def _listed(values: Iterable[str], cap: int = MAX_VALUES) -> str:
    ordered = sorted(v for v in values if v)
    shown = ", ".join(ordered[:cap])
    more = f" (+{len(ordered) - cap} more)" if len(ordered) > cap else ""
    return (shown + more) or "(none)"
