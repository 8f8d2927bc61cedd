"""The domains the app offers: one line per domain, and the catalog's defined tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from domains.assets.tools import assets
from domains.automation.tools import automation
from domains.communication.tools import communication
from domains.network.tools import network
from domains.packs.loader import load_catalog
from pipeline.registry import ToolRegistry, ToolSet

DOMAINS: tuple[ToolSet, ...] = (assets, automation, network, communication)


def build_registry(catalog_paths: Sequence[Path] = ()) -> ToolRegistry:
    """The built-in tools plus every tool defined under `catalog_paths` (CatalogInvalid if any
    definition is invalid)."""
    registry = ToolRegistry(DOMAINS)
    if catalog_paths:
        registry.define(load_catalog(catalog_paths, reserved=registry.builtin_names).specs)
    return registry
