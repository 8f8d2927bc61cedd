"""YAML from files people hand in (inventories, roles, settings), with limits.

PyYAML's safe loader still expands anchors and aliases without limit: a few hundred
bytes of nested aliases ("billion laughs") become gigabytes. `compose` and `load`
here refuse, with one line naming the limit, a text that is larger than `max_bytes`,
uses more than `max_aliases` aliases, would expand to more than `max_values` values
(every alias counted as a copy of what it names), refers to itself, or is nested too
deeply. `read_text` reads at most `max_bytes` (a FIFO or /dev/zero cannot stall it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from pipeline.errors import InvalidRequest

MAX_BYTES = 10 * 1024 * 1024
MAX_ALIASES = 1_000
MAX_VALUES = 250_000


class YamlRefused(InvalidRequest):
    """The YAML is over a limit; the message is one line starting with the source name."""


class _CountingLoader(yaml.SafeLoader):
    """SafeLoader that counts the aliases it resolves while composing."""

    max_aliases = MAX_ALIASES

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _OverLimit(f"more than {self.max_aliases:,} aliases")
        return super().compose_node(parent, index)


class _OverLimit(Exception):
    pass


def read_text(path: Path, max_bytes: int = MAX_BYTES) -> str:
    """The file's UTF-8 text; YamlRefused when larger than `max_bytes`. OSError and
    UnicodeDecodeError pass through for the caller to word."""
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise YamlRefused(f"{path.name}: larger than the {_size(max_bytes)} limit")
    return data.decode("utf-8")


def compose(
    text: str,
    source: str,
    *,
    max_bytes: int = MAX_BYTES,
    max_aliases: int = MAX_ALIASES,
    max_values: int = MAX_VALUES,
) -> tuple[Node | None, yaml.SafeLoader]:
    """The document's node graph and the loader that made it (to construct values from it;
    the caller disposes of it). YamlRefused when over a limit; yaml.YAMLError when not YAML."""
    if len(text) > max_bytes:
        raise YamlRefused(f"{source}: larger than the {_size(max_bytes)} limit")
    loader = _CountingLoader(text)
    loader.max_aliases = max_aliases
    try:
        root = loader.get_single_node()
        if root is not None and loader.aliases:
            _check_expansion(root, max_values)
    except _OverLimit as err:
        loader.dispose()
        raise YamlRefused(f"{source}: refused: {err} (anchors and aliases are limited)") from None
    except RecursionError:
        loader.dispose()
        raise YamlRefused(f"{source}: refused: nested too deeply") from None
    except BaseException:
        loader.dispose()
        raise
    return root, loader


def load(text: str, source: str, **limits: int) -> Any:
    """`yaml.safe_load` within the limits of `compose`."""
    root, loader = compose(text, source, **limits)
    try:
        return None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def _check_expansion(root: Node, max_values: int) -> None:
    """Raise _OverLimit when the graph, aliases expanded, holds more than `max_values` values."""
    sizes: dict[int, int] = {}
    visiting: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in visiting:
            raise _OverLimit("an alias refers to the node that contains it")
        visiting.add(key)
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        visiting.discard(key)
        if total > max_values:
            raise _OverLimit(f"the aliases expand to more than {max_values:,} values")
        sizes[key] = total
        return total

    size(root)


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:g} MiB" if n >= 1024 * 1024 else f"{n:,} bytes"


def located(err: yaml.YAMLError, source: str) -> str:
    """'source:line: invalid YAML: problem' for a YAML syntax error (line 1 when it has no mark)."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(err, "problem", None) or "not valid YAML"
    context, start = getattr(err, "context", None), getattr(err, "context_mark", None)
    if context and start is not None and start.line + 1 != line:  # where the unclosed part began
        problem += f" ({context} at line {start.line + 1})"
    return f"{source}:{line}: invalid YAML: {problem}"
