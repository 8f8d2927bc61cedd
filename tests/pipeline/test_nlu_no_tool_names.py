"""The understanding layer names no tool: every tool's words come from its declaration.

Reads every module of pipeline/nlu (and the LLM prompt's modules) as Python and fails on any
string (code, docstring or f-string part) that holds the name of a catalog tool, so a rule
keyed on a tool name cannot come back. The catalog decides what a sentence means through `ToolSpec.phrasing`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from domains.catalog import build_registry

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
NLU = PIPELINE / "nlu"
# the LLM's prompt too: its few-shot examples come from the offered tools' declarations
MODULES = [
    *sorted(NLU.glob("*.py")),
    *sorted((PIPELINE / "prompts").glob("*.py")),
    PIPELINE / "llm_understander.py",
]


def _strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_module_of_the_understanding_layer_names_a_tool() -> None:
    registry = build_registry()
    domains = sorted({spec.domain for spec in registry})
    full = re.compile(r"\b(?:" + "|".join(domains) + r")\.[a-z_]+\b")
    short = {spec.name.split(".", 1)[1] for spec in registry if "_" in spec.name.split(".", 1)[1]}
    found = []
    for path in MODULES:
        for line, text in _strings(path):
            if full.search(text) or any(re.search(rf"\b{s}\b", text) for s in short):
                found.append(f"{path.name}:{line}: {text[:60]!r}")
    assert found == []


def test_the_check_finds_a_tool_name_where_one_is_written(tmp_path: Path) -> None:
    sample = tmp_path / "rule.py"
    sample.write_text('TOOLS = {"automation.reboot": 1}\n', encoding="utf-8")
    assert [text for _, text in _strings(sample)] == ["automation.reboot"]
