"""Catalog files -> ToolSpecs, all or nothing, every problem as ``file:line: message``.

`load_catalog(paths)` reads every ``*.yaml`` / ``*.yml`` file under the given folders (or the
files themselves), with the bounded YAML loader (`pipeline.safe_yaml`). One bad file fails the
whole load (`CatalogInvalid` lists every problem found): a catalog is never half-loaded, so a
reload either swaps in the whole new catalog or keeps the old one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from domains.packs import params
from domains.packs.changes import (
    check_func,
    counterparts,
    probe_definition,
    probe_problems,
    read_problems,
    undo_problems,
    undo_rule,
)
from domains.packs.command import BUILTINS, command_tool
from domains.packs.runbook import Rollout, checked_base, holes
from domains.packs.schema import CONDITION, HOLE, ParamDef, PhrasingDef, RunbookDefinition, ToolDefinition
from pipeline import safe_yaml
from pipeline.contracts import Risk, ToolOutput
from pipeline.errors import InvalidRequest, ToolFailed
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
    definition: ToolDefinition | RunbookDefinition
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


def load_catalog(paths: Sequence[Path], builtin: Mapping[str, ToolSpec] | None = None) -> LoadedCatalog:
    """Every definition under `paths`; CatalogInvalid when any file is invalid or a name is
    taken twice (by another file or by a `builtin` tool, which runbooks may call)."""
    builtin = builtin or {}
    files = snapshot(paths)
    entries: list[Defined] = []
    runbooks: list[_Runbook] = []
    problems: list[str] = []
    for path, _, _ in files:
        try:
            loaded = load_file(path)
        except CatalogInvalid as err:
            problems += err.problems
            continue
        (entries if isinstance(loaded, Defined) else runbooks).append(loaded)  # type: ignore[arg-type]
    problems += _taken(
        [*((e.path, e.definition.name) for e in entries), *((r.path, r.definition.name) for r in runbooks)],
        builtin,
    )
    tools = {**builtin, **{e.spec.name: e.spec for e in entries}}
    for runbook in runbooks:
        try:
            entries.append(runbook.build(tools))
        except CatalogInvalid as err:
            problems += err.problems
    commands = [(e.path, e.definition) for e in entries if isinstance(e.definition, ToolDefinition)]
    known = {**tools, **{e.spec.name: e.spec for e in entries}}
    for path, loc, message in [*undo_problems(commands, known), *read_problems(commands, known)]:
        problems.append(
            _where(path, _parse(path, safe_yaml.read_text(path, MAX_FILE_BYTES))[0], loc, message)
        )
    if problems:
        raise CatalogInvalid(problems)
    return LoadedCatalog(tuple(entries), files)


def _taken(named: Sequence[tuple[Path, str]], builtin: Mapping[str, ToolSpec]) -> list[str]:
    problems: list[str] = []
    seen: dict[str, Path] = {}
    for path, name in named:
        if name in builtin:
            problems.append(f"{path}:1: {name} is a built-in tool's name")
        elif name in seen:
            problems.append(f"{path}:1: {name} is already defined in {seen[name]}")
        seen.setdefault(name, path)
    return problems


def load_file(path: Path) -> Defined | _Runbook:
    """One definition file; CatalogInvalid with every problem found in it. A runbook is
    completed by `load_catalog` once the tools it calls are known."""
    try:
        text = safe_yaml.read_text(path, MAX_FILE_BYTES)
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogInvalid([f"{path}:1: cannot read: {getattr(err, 'strerror', None) or err}"]) from None
    except safe_yaml.YamlRefused as err:
        raise CatalogInvalid([f"{path}:1: {err}"]) from None
    root, raw = _parse(path, text)
    kind = ToolDefinition if raw.get("kind", "tool") != "runbook" else RunbookDefinition
    try:
        definition = kind.model_validate(raw)
    except ValidationError as err:
        raise CatalogInvalid(
            [_where(path, root, tuple(e["loc"]), _message(e)) for e in err.errors()]
        ) from None
    if isinstance(definition, RunbookDefinition):
        return _Runbook(path, text, root, definition)
    model = params.args_model(definition.name, definition.params)
    problems = [_where(path, root, loc, msg) for loc, msg in _checks(definition, model)]
    if problems:
        raise CatalogInvalid(problems)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Defined(path, digest, definition, _spec(definition, model, path, digest))


@dataclass(frozen=True)
class _Runbook:
    """A validated runbook file waiting for the tools it calls."""

    path: Path
    text: str
    root: Node | None
    definition: RunbookDefinition

    def build(self, tools: Mapping[str, ToolSpec]) -> Defined:
        problems = [
            _where(self.path, self.root, loc, msg) for loc, msg in _runbook_checks(self.definition, tools)
        ]
        if problems:
            raise CatalogInvalid(problems)
        rollout = Rollout(self.definition, {name: tools[name] for name in _called(self.definition)})
        if self.definition.risk is not None and rollout.risk() is not self.definition.risk:
            where = _where(self.path, self.root, ("risk",), "")
            raise CatalogInvalid(
                [
                    f"{where}risk: its steps need {rollout.risk().value}, "
                    f"more than {self.definition.risk.value}"
                ]
            )
        if self.definition.diagnoses and rollout.risk() is not Risk.READ:
            where = _where(self.path, self.root, ("diagnoses",), "")
            raise CatalogInvalid(
                [
                    f"{where}diagnoses: only a read runbook may diagnose alerts; "
                    f"its steps need {rollout.risk().value}"
                ]
            )
        inner = "".join(f"{name}={tools[name].digest}" for name in rollout.calls())
        digest = hashlib.sha256((self.text + inner).encode("utf-8")).hexdigest()
        d = self.definition
        model = params.args_model(d.name, d.params, base=checked_base(rollout))
        spec = ToolSpec(
            name=d.name,
            args_model=model,
            risk=rollout.risk(),
            timeout_s=d.timeout,
            takes_targets=True,
            description=d.description.strip(),
            func=_not_per_target,
            phrasing=_phrasing(d.phrasing, d.params),
            source=str(self.path),
            digest=digest,
            calls=rollout.calls(),
            run_all=rollout.run,
            outline=rollout.outline,
            diagnoses=d.diagnoses,
        )
        return Defined(self.path, digest, d, spec)


async def _not_per_target(ctx: Any, target: Any, args: Any) -> ToolOutput:
    raise ToolFailed("a runbook runs on all its targets at once (ToolSpec.run_all)")


def _called(definition: RunbookDefinition) -> list[str]:
    check = [definition.rollout.check.tool] if definition.rollout.check else []
    return [s.tool for s in (*definition.steps, *definition.rollback)] + check


def _runbook_checks(d: RunbookDefinition, tools: Mapping[str, ToolSpec]) -> Iterator[tuple[Loc, str]]:
    names = set(d.params)
    placed: list[tuple[Loc, Any]] = [(("steps", n), s) for n, s in enumerate(d.steps)]
    placed += [(("rollback", n), s) for n, s in enumerate(d.rollback)]
    placed += [(("rollout", "check"), d.rollout.check)] if d.rollout.check else []
    for loc, step in placed:
        where = ".".join(str(p) for p in loc)
        spec = tools.get(step.tool)
        if spec is None:
            yield (*loc, "tool"), f"{where}.tool: no tool named {step.tool}"
        elif spec.run_all is not None:
            yield (*loc, "tool"), f"{where}.tool: {step.tool} is a runbook; a runbook calls tools"
        elif not spec.takes_targets:
            yield (*loc, "tool"), f"{where}.tool: {step.tool} takes no targets; runbook steps run on hosts"
        for hole in sorted(holes(step.args) - names):
            yield (*loc, "args"), f"{where}.args: {{{hole}}} is not a parameter"
    ids = d.ids()
    for n, step in enumerate(d.steps):
        for dep in step.depends_on:
            if dep not in ids[:n]:
                yield ("steps", n, "depends_on"), f"steps.{n}.depends_on: {dep} is not an earlier step"
        match = CONDITION.match(step.when) if step.when else None
        if match is not None and match.group("step") not in ids[:n]:
            yield ("steps", n, "when"), f"steps.{n}.when: {match.group('step')} is not an earlier step"
    for key in ("batch_size", "max_fail"):
        for hole in sorted(holes(getattr(d.rollout, key)) - names):
            yield ("rollout", key), f"rollout.{key}: {{{hole}}} is not a parameter"


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
    yield from _name_checks(definition)
    probe = probe_definition(definition)
    if probe is not None:  # the check's own command: the same rules, under check.
        yield from (
            (("check", *loc), f"check.{msg}") for loc, msg in (*_hole_checks(probe), *_name_checks(probe))
        )
        yield from probe_problems(definition, model)
    for name, param in definition.params.items():
        if param.default is not None:
            problem = _default_problem(model, name, param.default)
            if problem:
                yield ("params", name, "default"), f"params.{name}.default: {problem}"


SHELL_NAMES = frozenset(
    [
        "PATH",
        "HOME",
        "IFS",
        "SHELL",
        "ENV",
        "BASH_ENV",
        "CDPATH",
        "PWD",
        "OLDPWD",
        "USER",
        "LOGNAME",
        "TERM",
        "LANG",
        "TMPDIR",
        "OPTIND",
        "OPTARG",
        "PS1",
        "PS2",
        "PS4",
        "MAIL",
        "PPID",
        "UID",
        "EUID",
        "HOSTNAME",
        "SHLVL",
    ]
)
POWERSHELL_NAMES = frozenset(
    [
        "args",
        "error",
        "event",
        "eventargs",
        "eventsubscriber",
        "executioncontext",
        "false",
        "foreach",
        "home",
        "host",
        "input",
        "lastexitcode",
        "matches",
        "myinvocation",
        "nestedpromptlevel",
        "null",
        "pid",
        "profile",
        "psboundparameters",
        "pscmdlet",
        "pscommandpath",
        "psculture",
        "psdebugcontext",
        "pshome",
        "psitem",
        "psscriptroot",
        "pssenderinfo",
        "psuiculture",
        "psversiontable",
        "pwd",
        "sender",
        "shellid",
        "stacktrace",
        "switch",
        "this",
        "true",
    ]
)


def _name_checks(definition: ToolDefinition) -> Iterator[tuple[Loc, str]]:
    """A script's parameters become environment variables, PowerShell's become variables:
    names those already mean something to are refused."""
    for name in definition.params:
        env = name.upper()
        script = definition.linux is not None and definition.linux.script
        if script and (env in SHELL_NAMES or env.startswith(("LD_", "LC_", "SSH_", "BASH_"))):
            yield (
                ("params", name),
                f"params.{name}: ${env} is an environment variable the shell needs; rename it",
            )
        if definition.windows is not None and name in POWERSHELL_NAMES:
            yield ("params", name), f"params.{name}: ${name} is a PowerShell automatic variable; rename it"


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


def _phrasing(said: PhrasingDef, declared: Mapping[str, ParamDef]) -> Phrasing:
    return Phrasing(
        verbs=said.verbs,
        objects=said.objects,
        states=said.states,
        questions=said.questions,
        slots=params.slots(declared),
        patterns=said.patterns,
        synonyms=dict(said.synonyms),
        examples=said.examples,
        untargeted=said.untargeted,
        targets_after=said.targets_after,
        words_required=said.words_required,
    )


def _spec(definition: ToolDefinition, model: type[BaseModel], path: Path, digest: str) -> ToolSpec:
    phrasing = _phrasing(definition.phrasing, definition.params)
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
        check=check_func(definition),
        undo=undo_rule(definition),
        counterparts=counterparts(definition),
        diagnoses=definition.diagnoses,
        platforms=frozenset(os for os in ("linux", "windows") if getattr(definition, os) is not None),
    )
