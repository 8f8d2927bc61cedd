"""The automation domain's tool set: `tools` (hosts, services, commands) and `files` declare on it."""

from __future__ import annotations

from pipeline.registry import ToolSet

automation = ToolSet("automation")
