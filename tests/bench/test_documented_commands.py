"""The benchmark commands agree: README, docs/benchmarks.md (written by the benchmarks) and each
module's docstring show the same command, and every option it uses is one the module takes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMMAND = re.compile(r"^\s*(?:sudo )?\.venv/bin/python -m (bench\.\w+)(?: [^#\n`]*)?", re.MULTILINE)
MODULES = ("bench.fanout", "bench.replicas", "bench.api_ack", "bench.planning")


def commands(text: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for match in COMMAND.finditer(re.sub(r"\s*\\{1,2}\n\s*", " ", text)):  # continued lines joined
        found.setdefault(match[1], set()).add(match[0].strip())
    return found


def module_docstring(module: str) -> str:
    source = (ROOT / (module.replace(".", "/") + ".py")).read_text()
    return source.split('"""', 2)[1]


def test_readme_docs_and_docstrings_show_the_same_command() -> None:
    readme = commands((ROOT / "README.md").read_text())
    docs = commands((ROOT / "docs" / "benchmarks.md").read_text())
    for module in MODULES:
        [documented] = docs[module]  # one recorded invocation per section
        assert readme[module] == {documented}, module
        assert commands(module_docstring(module))[module] == {documented}, module


@pytest.mark.parametrize("module", MODULES)
def test_every_documented_option_is_taken_by_the_module(module: str) -> None:
    [command] = commands((ROOT / "docs" / "benchmarks.md").read_text())[module]
    helped = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    for option in re.findall(r"(--[a-z-]+)", command):
        assert option in helped.stdout, f"{module} takes no {option}"
