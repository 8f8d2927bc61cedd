"""Real commands over the sshd testbed behind a chat adapter: the live-output and Cancel tests.

`sshd_kernel` is the whole pipeline as in FakeChat (real catalog, planner, policy, executor,
`automation.run_command` over a real SSH shell; memory stores) with the chat platform's people.
The test process enters the testbed's network namespace (`shell` needs `in_testbed`) before
the platform stand-in and the bot's server start, so every socket lives there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.ssh import AsyncsshShell
from domains.automation.ports import RemoteShell
from tests.fakes.chat import FakeChat
from tests.fakes.memory import StaticIdentity
from tests.integration.sshd_fixtures import shell_fixture
from tests.integration.target_processes import kill_groups

HOST = "loopback-2"  # the demo inventory's 127.0.0.2, served by the testbed's sshd
LINES = 10
# streams a line every 0.6 s for about 6 s, then ends: the progress is edited several times
STREAMING = f'run "for i in $(seq 1 {LINES}); do echo line $i; sleep 0.6; done" on {HOST}'
INTERVAL_S = 1.5  # the adapters' progress interval (their default): inside Slack's one edit a second


def endless(canary: Path) -> str:
    """A command that runs until stopped; `canary` appears only if its shell outlives the stop."""
    return f'run "echo begin; tail -F {canary}.log 2>/dev/null; touch {canary}" on {HOST}'


def sshd_kernel(shell: AsyncsshShell, people: dict[str, set[str]]) -> FakeChat:
    chat = FakeChat(services={RemoteShell: shell})
    chat.kernel.identity = StaticIdentity(people)
    return chat


shell = shell_fixture(connect_timeout_s=5.0)


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    kill_groups(str(path))
