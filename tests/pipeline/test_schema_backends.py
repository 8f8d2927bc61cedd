"""The response schemas compile under both of vLLM's structured-output backends, llguidance and
xgrammar, for every set of tools a role can be offered (a schema the backend refuses makes vLLM
answer 400).

xgrammar's JSON-schema compiler is native code that runs on CPU, but the package imports torch in
its `__init__` (and declares torch, transformers and triton: CUDA wheels on PyPI). scripts/test.sh
installs xgrammar and its binding with --no-deps into .venv/share/xgrammar; `xgrammar_compiler`
loads the compiler module itself, without the package `__init__`.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import sys
import types
from pathlib import Path
from typing import Any

import llguidance
import pytest

from domains.catalog import build_registry
from pipeline.llm_understander import summary_schema
from pipeline.prompts.schema import confirmation_schema, response_schema

REGISTRY = tuple(build_registry())
SCHEMAS = {
    "every tool": response_schema(REGISTRY),
    "read tools": response_schema(tuple(t for t in REGISTRY if not t.changes)),
    "no tool": response_schema(()),
    "answer summary": summary_schema(5),
    "change confirmation": confirmation_schema(REGISTRY),
    "change confirmation, read tools": confirmation_schema(tuple(t for t in REGISTRY if not t.changes)),
}


def compile_errors(schema: dict[str, Any]) -> list[str]:
    """llguidance's verdict, as vLLM's guidance backend asks for it (validate_grammar)."""
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        json.dumps(schema), defaults={"whitespace_flexible": False}
    )
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    return list(messages) if failed else []


XGRAMMAR_HOME = Path(sys.prefix) / "share" / "xgrammar"
REFUSED = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(?<=x)a"}}}  # look-behind


def xgrammar_compiler() -> Any:
    """xgrammar's `Grammar` (what vLLM's xgrammar backend validates a schema with), loaded from
    .venv/share/xgrammar without the package __init__ that imports torch."""
    if "xgrammar.grammar" in sys.modules:
        return sys.modules["xgrammar.grammar"].Grammar
    root = XGRAMMAR_HOME / "xgrammar"
    if not root.is_dir():
        pytest.skip(
            f"xgrammar not found: pip install --no-deps --target {XGRAMMAR_HOME} xgrammar apache-tvm-ffi"
        )
    sys.path.append(str(XGRAMMAR_HOME))  # its binding, tvm_ffi, lives beside it
    package = types.ModuleType("xgrammar")
    package.__path__ = [str(root)]
    package.__spec__ = importlib.machinery.ModuleSpec("xgrammar", None, is_package=True)
    sys.modules["xgrammar"] = package
    importlib.import_module("xgrammar.load_binding")  # the native library, as the __init__ loads it
    return importlib.import_module("xgrammar.grammar").Grammar


def xgrammar_errors(schema: dict[str, Any]) -> list[str]:
    """xgrammar's verdict, as vLLM's xgrammar backend validates a request's schema."""
    try:
        xgrammar_compiler().from_json_schema(json.dumps(schema), any_whitespace=False)
    except RuntimeError as refused:
        return [str(refused)]
    return []


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_compiles_under_llguidance(name: str) -> None:
    assert compile_errors(SCHEMAS[name]) == []


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_compiles_under_xgrammar(name: str) -> None:
    assert xgrammar_errors(SCHEMAS[name]) == []


def test_the_check_would_catch_a_schema_the_backend_refuses() -> None:
    assert any("look-around" in m for m in compile_errors(REFUSED))
    assert any("Lookbehind" in m for m in xgrammar_errors(REFUSED))
