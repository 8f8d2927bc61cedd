"""Catalog files: validated whole, every problem as file:line: message, never half-loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from domains.catalog import build_registry
from domains.packs.loader import CatalogInvalid, load_catalog
from pipeline.contracts import Risk
from pipeline.errors import InvalidRequest
from pipeline.params import kinds

GOOD = """\
name: app.cache_flush
description: Flush an application's cache.
risk: write
params:
  app: {type: string, pattern: '[a-z][a-z0-9-]{0,31}'}
  mode: {type: enum, choices: [soft, hard], default: soft}
  keep: {type: integer, min: 0, max: 100, default: 10}
  wait: {type: duration, default: 30s}
  log: {type: path, required: false}
  dry_run: {type: boolean, default: false}
linux:
  argv: [/usr/local/bin/cache-tool, flush, "--app={app}", --mode, "{mode}", --log, "{log}"]
timeout: 2m
summary: "flushed {app}: {output}"
phrasing:
  patterns: ["flush the {app} cache on {targets}"]
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def _problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog([folder])
    return list(caught.value.problems)


def test_a_definition_becomes_a_typed_tool(tmp_path: Path) -> None:
    _write(tmp_path, "flush.yaml", GOOD)
    spec = build_registry([tmp_path]).get("app.cache_flush")
    assert spec.risk is Risk.WRITE and spec.changes and spec.timeout_s == 120
    assert spec.source == str(tmp_path / "flush.yaml") and len(spec.digest) == 64
    args = spec.parse_args({"app": "shop", "wait": "5m"})
    assert args.model_dump() == {
        "app": "shop", "mode": "soft", "keep": 10, "wait": 300.0, "log": None, "dry_run": False
    }  # fmt: skip
    assert kinds(spec.args_model) == {"log": "remote-path"}  # the path policy covers it
    for bad in ({"app": "Shop; rm -rf /"}, {"app": "shop", "mode": "brutal"}, {"app": "shop", "keep": 101},
                {"app": "shop", "log": "relative/x"}, {"app": "shop", "extra": 1}, {}):  # fmt: skip
        with pytest.raises(InvalidRequest, match=r"app\.cache_flush"):
            spec.parse_args(bad)
    assert spec.phrasing.patterns == ("flush the {app} cache on {targets}",)


def test_errors_name_the_file_and_line(tmp_path: Path) -> None:
    broken = GOOD.replace("risk: write", "risk: sometimes").replace('"--app={app}"', '"--app={ap}"')
    path = _write(tmp_path, "flush.yaml", broken)
    [problem] = _problems(tmp_path)
    assert problem.startswith(f"{path}:3: risk: ")
    path.write_text(GOOD.replace('"--app={app}"', '"--app={ap}"'))
    problems = _problems(tmp_path)
    assert f"{path}:12: linux.argv[2]: {{ap}} is not a parameter" in problems
    path.write_text(GOOD.replace("default: 10", "default: 1000"))
    assert _problems(tmp_path) == [
        f"{path}:7: params.keep.default: keep: Input should be less than or equal to 100"
    ]
    path.write_text("name: [unclosed\n")
    assert _problems(tmp_path)[0].startswith(f"{path}:2: invalid YAML")
    path.write_text(GOOD.replace("description: Flush an application's cache.\n", ""))
    assert _problems(tmp_path) == [f"{path}:1: description: Field required"]


def test_one_bad_file_loads_nothing(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD)
    _write(
        tmp_path,
        "b.yaml",
        GOOD.replace("app.cache_flush", "app.cache_warm").replace("risk: write", "risk: x"),
    )
    with pytest.raises(CatalogInvalid):
        build_registry([tmp_path])
    registry = build_registry()
    with pytest.raises(CatalogInvalid):
        registry.define(load_catalog([tmp_path]).specs)
    assert "app.cache_flush" not in registry


def test_names_are_taken_once(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yaml", GOOD)
    second = _write(tmp_path / "more", "b.yaml", GOOD)
    assert _problems(tmp_path) == [f"{second}:1: app.cache_flush is already defined in {first}"]
    second.unlink()
    first.write_text(GOOD.replace("app.cache_flush", "automation.reboot"))
    with pytest.raises(CatalogInvalid, match=r"a.yaml:1: automation.reboot is a built-in tool's name"):
        build_registry([tmp_path])


@pytest.mark.parametrize(
    "change,message",
    [
        (("  argv: [", '  argv: ["{app}", '), "argv[0] (the program) must be written out"),
        (('summary: "flushed {app}: {output}"', 'summary: "{freed}"'), "summary: {freed} is not a parameter"),
        (("on {targets}", "on {where}"), "phrasing.patterns[0]: {where} is not a parameter"),
        (("  dry_run:", "  targets:"), "'targets' cannot be a parameter name"),
        (("name: app.cache_flush", "name: CacheFlush"), "name must be dotted lower-case words"),
        (("{0,31}'", "{0,31}('"), "pattern does not compile"),
    ],
)
def test_what_is_refused(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    _write(tmp_path, "t.yaml", GOOD.replace(*change))
    problems = _problems(tmp_path)
    assert any(message in p for p in problems), problems
