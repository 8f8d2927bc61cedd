"""Kinds of tool parameters that policy reads: remote paths and per-target probe lists.

A tool declares the kind on the parameter's type, never by its name or the tool's name, so
every tool gets the same checks, built-in or defined in the catalog::

    class FetchArgs(BaseModel):
        path: RemotePath                   # a file on the target: the path policy applies
        also: list[RemotePath] = []        # lists of paths too

    class ScanArgs(BaseModel):
        ports: Annotated[list[int], PROBES]   # one probe per item per target: the probe cap applies

The kind travels in the JSON schema (``"x-kind": "remote-path"`` / ``"probes"``), so a
catalog-defined tool whose schema says so is covered as well; the LLM-facing schema drops it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Annotated, Any

from pydantic import BaseModel, Field

KIND = "x-kind"
REMOTE_PATH = "remote-path"
PROBE_LIST = "probes"

PATH = Field(json_schema_extra={KIND: REMOTE_PATH})
PROBES = Field(json_schema_extra={KIND: PROBE_LIST})
RemotePath = Annotated[str, PATH]
"""A path on a target host (a file the tool reads, writes or sends): the path policy applies."""


@cache
def kinds(model: type[BaseModel]) -> dict[str, str]:
    """{parameter: kind} for the parameters of `model` that declare a kind."""
    schema = model.model_json_schema()
    defs = schema.get("$defs", {})
    found: dict[str, str] = {}
    for name, node in schema.get("properties", {}).items():
        kind = _kind_of(node, defs)
        if kind:
            found[name] = kind
    return found


def _kind_of(node: Any, defs: dict[str, Any]) -> str:
    if not isinstance(node, dict):
        return ""
    if "$ref" in node:
        return _kind_of(defs.get(node["$ref"].rsplit("/", 1)[-1]), defs)
    if isinstance(node.get(KIND), str):
        return str(node[KIND])
    for option in node.get("anyOf", []):  # `X | None`
        kind = _kind_of(option, defs)
        if kind:
            return kind
    return _kind_of(node.get("items"), defs)  # list[RemotePath]


def path_values(model: type[BaseModel], args: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(parameter, path) for every remote path among `args` (validated, JSON-shaped)."""
    for name, kind in kinds(model).items():
        if kind != REMOTE_PATH:
            continue
        value = args.get(name)
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str):
                yield name, item


def probes_per_target(model: type[BaseModel], args: dict[str, Any]) -> int:
    """How many probes the call sends to each target (1 when it declares no probe list)."""
    counts = [
        len(value)
        for name, kind in kinds(model).items()
        if kind == PROBE_LIST and isinstance(value := args.get(name), list | tuple)
    ]
    total = 1
    for count in counts:
        total *= max(count, 1)
    return total
