"""The catalog from the command line: validate definition files, list and show tools."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from domains.catalog import DOMAINS, build_registry
from domains.packs.loader import CatalogInvalid, load_catalog
from pipeline.registry import ToolRegistry, ToolSpec


def validate(paths: Sequence[Path]) -> tuple[list[str], int]:
    """(problems as ``file:line: message``, definitions found) for the files under `paths`."""
    missing = [f"{p}:1: no such file or folder" for p in paths if not p.expanduser().exists()]
    builtin = ToolRegistry(DOMAINS).builtin_names
    try:
        loaded = load_catalog(paths, reserved=builtin)
    except CatalogInvalid as err:
        return missing + list(err.problems), 0
    return missing, len(loaded.entries)


def registry(paths: Sequence[Path]) -> ToolRegistry:
    return build_registry(paths)


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
