"""Catalog files -> ToolSpecs, all or nothing, every problem as ``file:line: message``.

`load_catalog(paths)` reads every ``*.yaml`` / ``*.yml`` file under the given folders (or the
files themselves), with the bounded YAML loader (`pipeline.safe_yaml`). One bad file fails the
whole load (`CatalogInvalid` lists every problem found): a catalog is never half-loaded, so a
reload either swaps in the whole new catalog or keeps the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from domains.packs import params
from domains.packs.command import BUILTINS, command_tool
from domains.packs.schema import HOLE, ToolDefinition
from pipeline import safe_yaml
from pipeline.errors import InvalidRequest
from pipeline.phrasing import Phrasing
from pipeline.registry import ToolSpec

MAX_FILE_BYTES = 256 * 1024
SUFFIXES = (".yaml", ".yml")
Loc = tuple[str | int, ...]


class CatalogInvalid(InvalidRequest):
    """One or more catalog files are invalid; `problems` holds one ``file:line: message`` each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Defined:
    """One loaded definition: where it came from, the digest of that version, the tool."""

    path: Path
    digest: str
    definition: ToolDefinition
    spec: ToolSpec


@dataclass(frozen=True)
class LoadedCatalog:
    entries: tuple[Defined, ...]
    files: tuple[tuple[Path, int, int], ...]  # (file, mtime_ns, size): what a reload compares

    @property
    def specs(self) -> list[ToolSpec]:
        return [e.spec for e in self.entries]


def catalog_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The definition files under `paths` (folders searched recursively), in a stable order."""
    for root in paths:
        root = root.expanduser()
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def snapshot(paths: Iterable[Path]) -> tuple[tuple[Path, int, int], ...]:
    """(file, mtime_ns, size) of every definition file: a change here means reload."""
    found = []
    for path in catalog_files(paths):
        try:
            stat = path.stat()
        except OSError:
            continue
        found.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(found)


def load_catalog(paths: Sequence[Path], reserved: Collection[str] = ()) -> LoadedCatalog:
    """Every definition under `paths`; CatalogInvalid when any file is invalid or a name is
    taken twice (by another file or by a built-in tool named in `reserved`)."""
    files = snapshot(paths)
    entries: list[Defined] = []
    problems: list[str] = []
    for path, _, _ in files:
        try:
            entries.append(load_file(path))
        except CatalogInvalid as err:
            problems += err.problems
    seen: dict[str, Path] = {}
    for entry in entries:
        name = entry.definition.name
        if name in reserved:
            problems.append(f"{entry.path}:1: {name} is a built-in tool's name")
        elif name in seen:
            problems.append(f"{entry.path}:1: {name} is already defined in {seen[name]}")
        seen.setdefault(name, entry.path)
    if problems:
        raise CatalogInvalid(problems)
    return LoadedCatalog(tuple(entries), files)


def load_file(path: Path) -> Defined:
    """One definition file; CatalogInvalid with every problem found in it."""
    try:
        text = safe_yaml.read_text(path, MAX_FILE_BYTES)
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogInvalid([f"{path}:1: cannot read: {getattr(err, 'strerror', None) or err}"]) from None
    except safe_yaml.YamlRefused as err:
        raise CatalogInvalid([f"{path}:1: {err}"]) from None
    root, raw = _parse(path, text)
    try:
        definition = ToolDefinition.model_validate(raw)
    except ValidationError as err:
        raise CatalogInvalid(
            [_where(path, root, tuple(e["loc"]), _message(e)) for e in err.errors()]
        ) from None
    model = params.args_model(definition)
    problems = [_where(path, root, loc, msg) for loc, msg in _checks(definition, model)]
    if problems:
        raise CatalogInvalid(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Defined(path, digest, definition, _spec(definition, model, path, digest))


def _parse(path: Path, text: str) -> tuple[Node | None, Any]:
    try:
        root, loader = safe_yaml.compose(text, str(path), max_bytes=MAX_FILE_BYTES)
    except safe_yaml.YamlRefused as err:
        raise CatalogInvalid([f"{path}:1: {err}"]) from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise CatalogInvalid([f"{path}:{line}: invalid YAML: {problem}"]) from None
    try:
        raw = None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()
    if not isinstance(raw, dict):
        raise CatalogInvalid([f"{path}:1: a definition is a mapping (name:, description:, risk: ...)"])
    return root, raw


def _message(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"])
    msg = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


def _where(path: Path, root: Node | None, loc: Loc, message: str) -> str:
    return f"{path}:{_line(root, loc)}: {message}"


def _line(node: Node | None, loc: Loc) -> int:
    """The line of the deepest node `loc` reaches (the parent's, for a missing key)."""
    if node is None:
        return 1
    for part in loc:
        child: Node | None = None
        if isinstance(node, MappingNode):
            child = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
        if child is None:
            break
        node = child
    return int(node.start_mark.line) + 1


def _checks(definition: ToolDefinition, model: type[BaseModel]) -> Iterator[tuple[Loc, str]]:
    """What pydantic cannot see alone: holes naming parameters, defaults fitting their types."""
    yield from _hole_checks(definition)
    for name, param in definition.params.items():
        if param.default is not None:
            problem = _default_problem(model, name, param.default)
            if problem:
                yield ("params", name, "default"), f"params.{name}.default: {problem}"


def _hole_checks(definition: ToolDefinition) -> Iterator[tuple[Loc, str]]:
    names = set(definition.params)
    argv = definition.linux.argv if definition.linux is not None else ()
    for i, element in enumerate(argv):
        for hole in HOLE.findall(element):
            if hole not in names:
                yield ("linux", "argv", i), f"linux.argv[{i}]: {{{hole}}} is not a parameter"
    if definition.summary and definition.output.format != "json":
        known = names | set(BUILTINS) | set(definition.output.groups())
        for hole in HOLE.findall(definition.summary):
            if hole not in known:
                yield ("summary",), f"summary: {{{hole}}} is not a parameter, a regex group or {BUILTINS}"
    for i, pattern in enumerate(definition.phrasing.patterns):
        for hole in HOLE.findall(pattern):
            if hole not in names | {"targets"}:
                yield ("phrasing", "patterns", i), f"phrasing.patterns[{i}]: {{{hole}}} is not a parameter"


def _default_problem(model: type[BaseModel], name: str, default: Any) -> str:
    try:
        model.model_validate({**_required_samples(model), name: default})
    except ValidationError as err:
        bad = [e for e in err.errors() if e["loc"][:1] == (name,)]
        return _message(bad[0]) if bad else ""
    return ""


def _required_samples(model: type[BaseModel]) -> dict[str, Any]:
    return {n: None for n, f in model.model_fields.items() if f.is_required()}


def _spec(definition: ToolDefinition, model: type[BaseModel], path: Path, digest: str) -> ToolSpec:
    said = definition.phrasing
    phrasing = Phrasing(
        verbs=said.verbs,
        objects=said.objects,
        states=said.states,
        questions=said.questions,
        slots=params.slots(definition),
        patterns=said.patterns,
        synonyms=dict(said.synonyms),
        examples=said.examples,
        untargeted=said.untargeted,
    )
    return ToolSpec(
        name=definition.name,
        args_model=model,
        risk=definition.risk,
        timeout_s=definition.timeout,
        takes_targets=definition.targets,
        description=definition.description.strip(),
        func=command_tool(definition),
        phrasing=phrasing,
        source=str(path),
        digest=digest,
    )
