"""The catalog from the command line: validate definition files, list and show tools."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.settings import Settings
from domains.catalog import DOMAINS, build_registry
from domains.packs.loader import CatalogInvalid, load_catalog
from pipeline.registry import ToolRegistry, ToolSpec


def validate(paths: Sequence[Path], *, strict: bool = True) -> tuple[list[str], int]:
    """(problems as ``file:line: message``, definitions found) for the files under `paths`;
    `strict`: a path that does not exist is a problem too."""
    missing = [f"{p}:1: no such file or folder" for p in paths if strict and not p.expanduser().exists()]
    builtin = ToolRegistry(DOMAINS).builtin
    try:
        loaded = load_catalog(paths, builtin=builtin)
    except CatalogInvalid as err:
        return missing + list(err.problems), 0
    return missing, len(loaded.entries)


log = logging.getLogger(__name__)


def reload_stamp(settings: Settings) -> Path:
    """The file `tools reload` touches: processes on this machine reload with their next request."""
    return settings.home / "catalog.reload"


def registry(settings: Settings) -> ToolRegistry:
    """Built-in tools plus the catalog under `catalog.paths`, reloaded as the files change."""
    return build_registry(settings.catalog.paths, stamp=reload_stamp(settings))


def request_reload(settings: Settings) -> tuple[list[str], int]:
    """`tools reload`: validate the catalog; when valid, touch the stamp so running processes load it."""
    problems, count = validate(settings.catalog.paths, strict=False)
    if not problems:
        stamp = reload_stamp(settings)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(f"{time.time_ns()}\n")
    return problems, count


def reload_on_sighup(tools: ToolRegistry) -> None:
    """SIGHUP reloads the catalog in this process (kept as it was when a file is invalid)."""

    def reload() -> None:
        log.info("SIGHUP: reloading the catalog")
        tools.refresh(force=True)

    asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)


def summary(spec: ToolSpec) -> dict[str, Any]:
    """One line's worth of a tool, for `tools list`."""
    return {
        "name": spec.name,
        "risk": spec.risk.value,
        "targets": spec.takes_targets,
        "source": spec.source or "built-in",
        "digest": spec.digest,
        "description": spec.description.splitlines()[0] if spec.description else "",
    }


def detail(spec: ToolSpec) -> dict[str, Any]:
    """Everything about a tool, for `tools show`."""
    words = spec.phrasing
    return {
        **summary(spec),
        "description": spec.description,
        "timeout_s": spec.timeout_s,
        "changes": spec.changes,
        "args": spec.json_schema().get("properties", {}),
        "required": spec.json_schema().get("required", []),
        "phrasing": {
            "patterns": list(words.patterns),
            "verbs": list(words.verbs),
            "objects": list(words.objects),
            "synonyms": {k: list(v) for k, v in words.synonyms.items()},
            "examples": list(words.examples),
        },
    }
