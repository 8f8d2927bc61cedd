"""The response schemas compile under vLLM's llguidance structured-output backend, for every
set of tools a role can be offered (a schema the backend refuses makes vLLM answer 400)."""

from __future__ import annotations

import json
from typing import Any

import llguidance
import pytest

from domains.catalog import build_registry
from pipeline.llm_understander import summary_schema
from pipeline.prompts.schema import response_schema

REGISTRY = tuple(build_registry())
SCHEMAS = {
    "every tool": response_schema(REGISTRY),
    "read tools": response_schema(tuple(t for t in REGISTRY if not t.changes)),
    "no tool": response_schema(()),
    "answer summary": summary_schema(5),
}


def compile_errors(schema: dict[str, Any]) -> list[str]:
    """llguidance's verdict, as vLLM's guidance backend asks for it (validate_grammar)."""
    grammar = llguidance.LLMatcher.grammar_from_json_schema(
        json.dumps(schema), defaults={"whitespace_flexible": False}
    )
    failed, messages = llguidance.LLMatcher.validate_grammar_with_warnings(grammar)
    return list(messages) if failed else []


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_compiles_under_llguidance(name: str) -> None:
    assert compile_errors(SCHEMAS[name]) == []


def test_the_check_would_catch_a_schema_the_backend_refuses() -> None:
    refused = {"type": "object", "properties": {"a": {"type": "string", "pattern": "(?<=x)a"}}}
    assert any("look-around" in m for m in compile_errors(refused))
