"""Tools defined only in YAML, run on a real sshd: values reach the target as one argument each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domains.catalog import build_registry
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.registry import ToolContext, ToolRegistry
from tests.integration.sshd_fixtures import SSH_HOSTS

pytestmark = pytest.mark.sshd

WEB = AssetRef(name="web-01", address=SSH_HOSTS[2], os="linux")
HOSTILE = "a; b | c $(touch PWNED) `touch PWNED` 'single' \"double\" \\back\nsecond line\n"

ARGV_TOOL = """\
name: test.argv_echo
description: Print the arguments the target received, as JSON.
risk: read
params:
  text:
    type: string
    max_length: 200
linux:
  argv:
    [/usr/bin/python3, -c, "import json, sys; print(json.dumps(sys.argv[1:]))", "{text}", "--label={text}"]
output:
  format: json
summary: "received {value}"
"""

SCRIPT_TOOL = """\
name: test.script_echo
description: Print a parameter that arrives as an environment variable.
risk: read
params:
  text: {type: string}
  count: {type: integer, min: 1, max: 5, default: 2}
linux:
  script: |
    printf 'count=%s\\n' "$COUNT"
    printf '%s' "$TEXT"
output:
  format: regex
  regex: 'count=(?P<count_seen>\\d+)'
summary: "{count_seen} asked on {target}"
"""


def _registry(tmp_path: Path, *texts: str) -> ToolRegistry:
    folder = tmp_path / "catalog"
    folder.mkdir(exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"tool{i}.yaml").write_text(text)
    return build_registry([folder])


async def _run(registry: ToolRegistry, services: dict[type[Any], Any], name: str, **raw: Any) -> ToolOutput:
    spec = registry.get(name)
    ctx = ToolContext(execution_id="test", step_id="s1", services=services)
    return await spec.func(ctx, WEB, spec.parse_args(raw))


async def test_argv_value_with_shell_syntax_arrives_as_one_literal_argument(
    tmp_path: Path, services: dict[type[Any], Any]
) -> None:
    registry = _registry(tmp_path, ARGV_TOOL)
    out = await _run(registry, services, "test.argv_echo", text=HOSTILE)
    assert out.ok
    assert out.data == {"value": [HOSTILE, f"--label={HOSTILE}"]}
    assert out.summary.startswith("received [")
    assert not [p for p in (Path("/root/PWNED"), Path.home() / "PWNED") if p.exists()]


async def test_script_parameters_arrive_as_environment_variables(
    tmp_path: Path, services: dict[type[Any], Any]
) -> None:
    registry = _registry(tmp_path, SCRIPT_TOOL)
    out = await _run(registry, services, "test.script_echo", text=HOSTILE, count=3)
    assert out.stdout == f"count=3\n{HOSTILE}"
    assert out.data == {"count_seen": "3"}
    assert out.summary == "3 asked on web-01"
    assert not [p for p in (Path("/root/PWNED"), Path.home() / "PWNED") if p.exists()]


async def test_a_non_zero_exit_is_a_failed_result_with_its_output(
    tmp_path: Path, services: dict[type[Any], Any]
) -> None:
    failing = ARGV_TOOL.replace("test.argv_echo", "test.fails").replace(
        '"import json, sys; print(json.dumps(sys.argv[1:]))"',
        "\"import sys; sys.exit('no cache named ' + sys.argv[1])\"",
    )
    registry = _registry(tmp_path, failing)
    out = await _run(registry, services, "test.fails", text="shop")
    assert not out.ok and out.exit_code == 1
    assert out.summary == "test.fails failed: no cache named shop"
