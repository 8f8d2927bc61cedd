"""The domains the app offers: one line per domain."""

from __future__ import annotations

from domains.assets.tools import assets
from domains.automation.tools import automation
from domains.communication.tools import communication
from domains.network.tools import network
from pipeline.registry import ToolRegistry, ToolSet

DOMAINS: tuple[ToolSet, ...] = (assets, automation, network, communication)


def build_registry() -> ToolRegistry:
    return ToolRegistry(DOMAINS)
