"""The domains the app offers: one line per domain, and the catalog's defined tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from domains.assets.tools import assets
from domains.automation.tools import automation
from domains.communication.tools import communication
from domains.network.tools import network
from domains.packs.live import LiveCatalog
from domains.packs.loader import CatalogInvalid
from pipeline.registry import ToolRegistry, ToolSet

DOMAINS: tuple[ToolSet, ...] = (assets, automation, network, communication)


def build_registry(catalog_paths: Sequence[Path] = (), *, stamp: Path | None = None) -> ToolRegistry:
    """The built-in tools plus every tool defined under `catalog_paths`, kept current as the
    files change (`LiveCatalog`); CatalogInvalid when a definition is invalid at start."""
    registry = ToolRegistry(DOMAINS)
    if catalog_paths:
        live = LiveCatalog(registry, catalog_paths, stamp)
        if not live.reload():
            raise CatalogInvalid(live.problems)
    return registry
