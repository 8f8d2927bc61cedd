"""Catalog files' `check:` and `undo:` keys: validated with file:line, used by check mode and the
Undo button through the whole pipeline on the real sshd; linux.disk_cleanup's check reports the
space a cleanup would free and deletes nothing."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domains.catalog import build_registry
from domains.packs import SHIPPED
from domains.packs.loader import CatalogInvalid, load_catalog
from pipeline.contracts import ApprovalPrompt, Reply, TargetResult, TargetStatus, ToolOutput
from tests.fakes.chat import FakeChat
from tests.integration.sshd_testbed import SshdTestbed

FLAG = """\
name: demo.flag
description: Turn a feature flag file on or off.
risk: write
params:
  flag: {{type: path}}
  state: {{type: enum, choices: ["on", "off"]}}
linux:
  script: |
    before=$(cat "$FLAG" 2>/dev/null || echo off)
    echo "$STATE" > "$FLAG"
    echo "was=$before now=$STATE"
output: {{format: regex, regex: '^was=(?P<was>\\w+) now=(?P<now>\\w+)$'}}
summary: "{{flag}}: {{was}} -> {{now}}"
{extra}
"""
CHECK = """\
check:
  linux:
    script: |
      echo "was=$(cat "$FLAG" 2>/dev/null || echo off) now=$STATE"
  summary: "{flag} is {was}; would be {now}"
undo:
  tool: demo.flag
  args: {flag: "{flag}", state: "{was}"}
"""


def _catalog(folder: Path, extra: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flag.yaml").write_text(FLAG.format(extra=extra))
    return folder


def _exists(path: Path) -> bool:
    return path.exists()


def _only(reply: Reply) -> TargetResult:
    assert reply.result is not None, reply
    [step] = reply.result.steps
    [result] = step.results
    return result


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("check: {args: {colour: red}}", "check.args.colour: not a parameter of demo.flag"),
        ("check: {args: {state: maybe}}", "check.args.state: Input should be 'on' or 'off'"),
        ("check: {}", "give either args"),
        ("check: {linux: {argv: [cat, '{nope}']}}", "check.linux.argv[1]: {nope} is not a parameter"),
        ("undo: {tool: demo.nothing}", "undo.tool: there is no tool named demo.nothing"),
        ("undo: {tool: demo.flag, args: {flag: '{flag}'}}", "undo.args: demo.flag needs state"),
        ("undo: {tool: demo.flag, args: {flag: x, state: on, size: 1}}", "demo.flag has no parameter size"),
        ("undo: {tool: demo.flag, args: {flag: '{flag}', state: '{previous}'}}", "{previous} is not a"),
        ("undo: {tool: demo.flag, none: nothing}", "give either tool"),
    ],
)
def test_check_and_undo_keys_are_validated_with_lines(tmp_path: Path, extra: str, problem: str) -> None:
    folder = _catalog(tmp_path / "catalog", extra)
    with pytest.raises(CatalogInvalid) as raised:
        load_catalog([folder])
    [found] = raised.value.problems
    assert found.startswith(f"{folder / 'flag.yaml'}:") and problem in found, found
    assert int(found.split(":")[1]) == 14  # the line of the key, not the file's first line


def test_a_read_tool_declares_no_check_or_undo(tmp_path: Path) -> None:
    folder = _catalog(tmp_path / "catalog", "undo: {none: never}")
    text = (folder / "flag.yaml").read_text().replace("risk: write", "risk: read")
    (folder / "flag.yaml").write_text(text)
    with pytest.raises(CatalogInvalid, match="check and undo are for change tools"):
        load_catalog([folder])


@pytest.mark.sshd
async def test_a_defined_check_changes_nothing_and_a_defined_undo_reverses(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    flag = tmp_path / "feature.flag"
    flag.write_text("off\n")
    fake = FakeChat(services=services, catalog_paths=[_catalog(tmp_path / "catalog", CHECK)])
    asked = f"demo.flag loopback-2 flag={flag} state=on"

    checked = await fake.say(asked, check=True)
    assert isinstance(checked, Reply) and checked.outcome == "answer", checked
    result = _only(checked)
    assert result.status is TargetStatus.OK and result.output.data["check"]
    assert result.output.summary == f"check: {flag} is off; would be on"
    assert flag.read_text() == "off\n"  # the check changed nothing

    prompt = await fake.say(asked)
    assert isinstance(prompt, ApprovalPrompt)
    done = await fake.click(prompt, "alan")
    assert isinstance(done, Reply) and flag.read_text() == "on\n"
    assert done.undo is not None and done.undo.steps == (f"demo.flag flag={flag} state=off on loopback-2",)
    assert done.execution_id is not None
    stub = ApprovalPrompt.model_construct(execution_id=done.execution_id)
    undo = await fake.click(stub, "olga", action="undo")
    assert isinstance(undo, ApprovalPrompt) and undo.plan.undo_of == done.execution_id
    back = await fake.click(undo, "alan")
    assert isinstance(back, Reply) and _only(back).status is TargetStatus.OK
    assert flag.read_text() == "off\n"


@pytest.fixture
def old_rotated_log() -> Iterator[Path]:
    """A rotated log under the real /var/log (the testbed's sshd serves this machine), 40 days old."""
    folder = Path("/var/log") / f"opsconductor-check-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    log = folder / "app.log.1"
    log.write_bytes(os.urandom(256 * 1024))
    old = time.time() - 40 * 86400
    os.utime(log, (old, old))
    try:
        yield log
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.sshd
async def test_disk_cleanup_check_reports_what_would_be_freed(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, old_rotated_log: Path
) -> None:
    fake = FakeChat(services=services, catalog_paths=[SHIPPED])
    reply = await fake.say("clean up disk space on loopback-2", check=True)
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    result = _only(reply)
    assert result.status is TargetStatus.OK, result.error
    data = result.output.data
    assert int(data["files"]) >= 1 and int(data["logs_kb"]) >= 256
    assert int(data["would_free_kb"]) >= int(data["logs_kb"]) + int(data["cache_kb"])
    assert result.output.summary.startswith("check: would free about ")
    assert _exists(old_rotated_log)  # nothing deleted
    assert reply.plan is not None and all(s.check for s in reply.plan.steps)


def test_disk_cleanup_declares_it_cannot_be_undone() -> None:
    spec = build_registry([SHIPPED]).get("linux.disk_cleanup")
    assert spec.checks and spec.undo is not None
    assert "cannot be restored" in str(spec.undo({}, ToolOutput()))
