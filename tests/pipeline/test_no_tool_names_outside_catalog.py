"""No module outside the catalog names a tool by string to decide what it does.

Reads every module of pipeline/, bot/, adapters/ and domains/ as Python and fails on a string
literal (code or f-string part; docstrings are documentation) that holds a catalog tool's name, or
is written like one (`linux.cleanup`), unless it is:

- a declaration: the name given to `<toolset>.tool(...)`, or the `Call(...)` a declaration
  carries (its undo, its read counterpart), in domains/;
- listed in ALLOWED below, with the reason it does not decide behaviour.

Which tool diagnoses an alert, what the help shows, what policy allows: the catalog's
declarations say, never a tool name written in code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from domains.catalog import build_registry
from domains.packs import SHIPPED

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "bot", "adapters", "domains")  # db/ names tables ("assets.id"), not tools
ALLOWED: dict[tuple[str, str], str] = {
    ("pipeline/evaluation.py", "assets.query"): (
        "the evaluation contract (ARCHITECTURE.md) itself names it: the scorer ignores extra steps "
        "of it that only resolve targets; planning never reads this"
    ),
    ("adapters/api/schemas.py", "network.ping"): "an example value in the OpenAPI schema",
}


def _declared(tree: ast.AST) -> set[int]:
    """ids of the literals that are a declaration's own name: `x.tool("name", ...)`, `Call("name", ...)`."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        declares = (isinstance(func, ast.Attribute) and func.attr == "tool") or (
            isinstance(func, ast.Name) and func.id == "Call"
        )
        if declares and isinstance(node.args[0], ast.Constant):
            found.add(id(node.args[0]))
    return found


def literals(path: Path, *, declarations: bool) -> Iterator[tuple[int, str]]:
    """(line, text) of every string literal of `path` but docstrings (and, when `declarations`,
    but a declaration's own name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = [n.value for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant)]
    skip = {id(n) for n in docs}
    if declarations:
        skip |= _declared(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            yield node.lineno, node.value


def tool_names(text: str, known: set[str], pattern: re.Pattern[str]) -> set[str]:
    """The tool names `text` holds: a known tool's name as a word, or the whole text written like one."""
    named = {name for name in known if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", text)}
    return named | ({text} if pattern.fullmatch(text) else set())


def _offences(files: list[Path], base: Path) -> list[str]:
    registry = build_registry([SHIPPED])
    known = set(registry.names())
    domains = sorted({spec.domain for spec in registry})
    pattern = re.compile(r"(?:" + "|".join(domains) + r")\.(?:[a-z][a-z0-9_]*)?")  # "linux." too
    found = []
    for path in files:
        where = path.relative_to(base).as_posix()
        for line, text in literals(path, declarations=where.startswith("domains/")):
            for name in sorted(tool_names(text, known, pattern)):
                if (where, name) not in ALLOWED:
                    found.append(f"{where}:{line}: {name} in {text[:60]!r}")
    return sorted(found, key=lambda f: (f.split(":")[0], int(f.split(":")[1])))


def test_no_module_outside_the_catalog_names_a_tool() -> None:
    files = [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(files) > 100
    assert _offences(files, ROOT) == []


def test_every_allowance_is_still_needed() -> None:
    registry = build_registry([SHIPPED])
    known = set(registry.names())
    for (where, name), reason in ALLOWED.items():
        texts = [t for _, t in literals(ROOT / where, declarations=False)]
        assert any(name in tool_names(t, known, re.compile("$^")) for t in texts), (where, name, reason)


def test_the_scan_finds_a_tool_name_used_to_decide(tmp_path: Path) -> None:
    rule = tmp_path / "adapters" / "rule.py"
    rule.parent.mkdir()
    rule.write_text(
        '"""Mentions diag.collect in its docstring only."""\n'
        'def pick(alert):\n    return "diag.collect" if alert else f"linux.{alert}_cleanup"\n'
        'RUNBOOK = "web.restart_all"\nNOT_A_TOOL = "db.url password"\n',
        encoding="utf-8",
    )
    assert _offences([rule], tmp_path) == [
        "adapters/rule.py:3: diag.collect in 'diag.collect'",
        "adapters/rule.py:3: linux. in 'linux.'",
        "adapters/rule.py:4: web.restart_all in 'web.restart_all'",
    ]
    declaration = tmp_path / "domains" / "tools.py"
    declaration.parent.mkdir()
    declaration.write_text(
        '@site.tool("site.flush", Args)\nasync def flush(): ...\n'
        'UNDO = Call("automation.service_control", {})\nOTHER = {"automation.reboot": 1}\n',
        encoding="utf-8",
    )
    assert _offences([declaration], tmp_path) == [
        "domains/tools.py:4: automation.reboot in 'automation.reboot'"
    ]
