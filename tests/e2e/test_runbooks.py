"""Runbooks through the whole pipeline on the real sshd: rollback, batches, failure limits.

The testbed's hosts are loopback addresses of one sshd on this machine; a step tells them
apart by the address the SSH connection reached ($SSH_CONNECTION), and fails on the ones
named in `bad`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.rendering import steps_text
from adapters.ssh import AsyncsshShell
from domains.automation.ports import RemoteShell
from pipeline.contracts import ApprovalPrompt, Reply, Risk, TargetResult, TargetStatus
from tests.fakes.chat import FakeChat
from tests.integration.sshd_fixtures import in_testbed, login, sshd_testbed, testbed_known_hosts
from tests.integration.sshd_testbed import SshdTestbed

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]
pytestmark = pytest.mark.sshd

STEP_TOOL = """\
name: test.step
description: Log a label for this host; fail on the hosts listed in `bad`.
risk: write
params:
  label: {type: string, pattern: '[a-z]+'}
  dir: {type: path}
  bad: {type: string, default: none, pattern: '[0-9. ]+|none'}
linux:
  script: |
    host=$(echo "$SSH_CONNECTION" | cut -d' ' -f3)
    echo "$LABEL $host" >> "$DIR/log"
    case " $BAD " in *" $host "*) echo "$LABEL failed on $host" >&2; exit 1;; esac
    echo "host=$host"
output: {format: regex, regex: 'host=(?P<host>[0-9.]+)'}
summary: "{label} on {host}"
"""

DEPLOY = """\
kind: runbook
name: test.deploy
description: Four steps; the third rolls back when it fails.
params:
  dir: {type: path}
  bad: {type: string, default: none}
steps:
  - {id: one, tool: test.step, args: {label: one, dir: "{dir}"}}
  - {id: two, tool: test.step, args: {label: two, dir: "{dir}"}}
  - {id: three, tool: test.step, args: {label: three, dir: "{dir}", bad: "{bad}"}, on_failure: rollback}
  - {id: four, tool: test.step, args: {label: four, dir: "{dir}"}}
rollback:
  - {tool: test.step, args: {label: undo, dir: "{dir}"}}
"""

ROLLING = """\
kind: runbook
name: test.rolling
description: Restart in batches, checking each batch.
params:
  dir: {type: path}
  bad: {type: string, default: none}
  batch: {type: integer, min: 1, max: 10, default: 2}
  failures: {type: integer, min: 0, max: 10, default: 0}
rollout:
  strategy: batch
  batch_size: "{batch}"
  max_fail: "{failures}"
  check: {tool: test.step, args: {label: check, dir: "{dir}"}}
steps:
  - {id: stop, tool: test.step, args: {label: stop, dir: "{dir}"}}
  - {id: start, tool: test.step, args: {label: start, dir: "{dir}", bad: "{bad}"}}
  - {id: verify, tool: test.step, args: {label: verify, dir: "{dir}"}, when: "start.host != 0.0.0.0"}
"""

ADDRESS = {
    "localhost": "127.0.0.1",
    "loopback-2": "127.0.0.2",
    "loopback-3": "127.0.0.3",
    "loopback-4": "127.0.0.4",
}


@pytest.fixture
async def chat(in_testbed: SshdTestbed, testbed_known_hosts: Path, tmp_path: Path) -> AsyncIterator[FakeChat]:
    shell = AsyncsshShell(login(in_testbed, testbed_known_hosts))
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for name, text in (("step.yaml", STEP_TOOL), ("deploy.yaml", DEPLOY), ("rolling.yaml", ROLLING)):
        (catalog / name).write_text(text)
    services: dict[type[Any], Any] = {RemoteShell: shell}
    yield FakeChat(catalog_paths=[catalog], services=services)
    await shell.close()


def _log(folder: Path) -> list[str]:
    return (folder / "log").read_text().splitlines()


async def _approve(chat: FakeChat, text: str) -> tuple[ApprovalPrompt, dict[str, TargetResult]]:
    prompt = await chat.say(text)
    assert isinstance(prompt, ApprovalPrompt), prompt
    reply = await chat.click(prompt, "alan")
    assert isinstance(reply, Reply) and reply.result is not None
    [step] = reply.result.steps
    return prompt, {r.target: r for r in step.results}


async def test_a_failed_third_step_runs_the_rollback(chat: FakeChat, tmp_path: Path) -> None:
    prompt, results = await _approve(
        chat, f"/opsconductor test.deploy loopback-3 dir={tmp_path} bad=127.0.0.3"
    )
    assert prompt.risk is Risk.WRITE  # one approval at the highest risk of its steps
    [result] = results.values()
    assert _log(tmp_path) == ["one 127.0.0.3", "two 127.0.0.3", "three 127.0.0.3", "undo 127.0.0.3"]
    assert result.status is TargetStatus.FAILED
    assert "three failed" in result.error and "rolled back: test.step ok" in result.error
    assert result.output.data["changed"] is True

    _, ok = await _approve(chat, f"/opsconductor test.deploy loopback-2 dir={tmp_path}")
    assert ok["loopback-2"].status is TargetStatus.OK
    assert _log(tmp_path)[-4:] == [f"{n} 127.0.0.2" for n in ("one", "two", "three", "four")]


async def test_a_batch_rollout_stops_at_its_failure_limit_and_says_which_hosts_changed(
    chat: FakeChat, tmp_path: Path
) -> None:
    hosts = "localhost loopback-2 loopback-3 loopback-4"
    prompt, results = await _approve(chat, f"/opsconductor test.rolling {hosts} dir={tmp_path} bad=127.0.0.3")
    [step] = prompt.plan.steps
    order = step.target_names
    shown = steps_text(prompt.plan)
    assert "runbook test.rolling: batches of 2; the rollout stops once more than 0 host(s) failed" in shown
    assert f"batch 1: {', '.join(order[:2])}" in shown and f"batch 2: {', '.join(order[2:])}" in shown
    assert "after each batch, check: test.step" in shown and "step 3 verify:" in shown

    first, second = order[:2], order[2:]
    assert "loopback-3" in second, order  # the demo inventory's order puts it in the last batch
    for name in first:
        assert results[name].status is TargetStatus.OK and results[name].output.data["changed"] is True
        assert f"check {ADDRESS[name]}" in _log(tmp_path)
    assert results["loopback-3"].status is TargetStatus.FAILED
    assert "batch 2, start failed: test.step failed: start failed on 127.0.0.3" in results["loopback-3"].error
    other = next(n for n in second if n != "loopback-3")
    assert results[other].output.data["changed"] is True  # its stop and start ran before the stop
    log = _log(tmp_path)
    assert f"verify {ADDRESS[other]}" not in log and f"check {ADDRESS[other]}" not in log

    again, limited = await _approve(
        chat, f"/opsconductor test.rolling {hosts} dir={tmp_path} bad=127.0.0.1 batch=1 failures=0"
    )
    order = again.plan.steps[0].target_names
    assert order[0] == "localhost"
    assert limited["localhost"].status is TargetStatus.FAILED
    for name in order[1:]:
        assert limited[name].status is TargetStatus.SKIPPED
        assert limited[name].error.startswith("not touched: the rollout stopped at batch 1/4, step start")
        assert limited[name].output.data["changed"] is False
