"""A timeout is real on the target: the command's whole process group is killed and confirmed gone.

Against the real OpenSSH sshd of the testbed, logged in as root (where sshd ignores the SSH
"signal" request). Each test's command carries a unique token (its canary path) so that what
still runs on the target can be found in the process table the testbed shares with us.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from pipeline.contracts import AssetRef
from pipeline.errors import OutcomeUncertain, TargetUnreachable, ToolTimeout
from pipeline.leftovers import tracking_unconfirmed_stops
from tests.integration.freezing_proxy import FreezingProxy
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.integration.sshd_testbed import SshdTestbed
from tests.integration.target_processes import files_left, kill_groups, running, started

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="web-01", address=SSH_HOSTS[2])
PROXY = ("127.0.0.77", 2222)


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "canary"
    yield path
    kill_groups(str(path))


def slow_command(canary: Path, seconds: float = 4) -> str:
    """A foreground sleep, a background child and, if not stopped, a canary written at the end."""
    return f"(sleep {seconds}; touch {canary}.child) & sleep {seconds}; touch {canary}"


async def no_trace_after(canary: Path, seconds: float) -> None:
    """Nothing of the command runs, and no canary appears until well after it would have."""
    assert running(str(canary)) == []
    await asyncio.sleep(seconds)
    assert files_left(canary, Path(f"{canary}.child")) == []


async def test_timeout_kills_the_whole_command_on_the_target(shell: AsyncsshShell, canary: Path) -> None:
    with pytest.raises(ToolTimeout, match=r"within 1\.5 s; it was stopped"):
        await shell.run(HOST, slow_command(canary), timeout_s=1.5)
    await no_trace_after(canary, 3.5)
    assert (await shell.run(HOST, "echo still here")).stdout == "still here\n"
    assert shell.counters.opened == 1  # the stop used a second channel of the same connection


async def test_a_command_ignoring_sigterm_is_killed(shell: AsyncsshShell, canary: Path) -> None:
    command = f"trap '' TERM; sleep 4; touch {canary}"
    with pytest.raises(ToolTimeout, match="it was stopped"):
        await shell.run(HOST, command, timeout_s=1)
    await no_trace_after(canary, 3.5)


async def test_a_cancelled_run_stops_its_command_before_it_returns(
    shell: AsyncsshShell, canary: Path
) -> None:
    task = asyncio.create_task(shell.run(HOST, slow_command(canary), timeout_s=60))
    assert await started(str(canary)), "the command never started"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await no_trace_after(canary, 4)


async def test_a_lost_connection_stops_the_command_over_a_new_one(shell: AsyncsshShell, canary: Path) -> None:
    with pytest.raises(TargetUnreachable, match=r"lost while the command ran.*it was stopped there"):
        await shell.run(HOST, f"sleep 0.5; kill -9 $PPID; sleep 4; touch {canary}")  # see test_shell.py
    await no_trace_after(canary, 3.5)


async def test_output_has_no_trace_of_the_preamble(shell: AsyncsshShell) -> None:
    result = await shell.run(HOST, "echo out; echo err >&2")
    assert (result.stdout, result.stderr) == ("out\n", "err\n")


@pytest.fixture
async def proxied_shell(
    in_testbed: SshdTestbed, testbed_known_hosts: Path, ssh_config: Callable[..., SshConfig]
) -> AsyncIterator[tuple[AsyncsshShell, FreezingProxy]]:
    proxy = FreezingProxy(PROXY, (HOST.address, 22))
    await proxy.start()
    in_testbed.write_known_hosts(testbed_known_hosts, [PROXY[0]], port=PROXY[1])
    shell = AsyncsshShell(ssh_config(port=PROXY[1], stop_timeout_s=1.5, connect_timeout_s=10.0))
    yield shell, proxy
    await shell.close()
    await proxy.close()


async def test_a_host_gone_mid_stop_is_uncertain_and_noted(
    proxied_shell: tuple[AsyncsshShell, FreezingProxy], canary: Path
) -> None:
    shell, proxy = proxied_shell
    target = AssetRef(name="vanishing", address=PROXY[0])

    async def vanish() -> None:
        assert await started(str(canary))
        await asyncio.sleep(0.3)
        proxy.freeze()

    vanishing = asyncio.create_task(vanish())
    with (
        tracking_unconfirmed_stops() as unconfirmed,
        pytest.raises(OutcomeUncertain, match="was not confirmed: it may still be running"),
    ):
        await shell.run(target, f"sleep 30; touch {canary}", timeout_s=4)  # frozen well before
    await vanishing
    assert unconfirmed == {"vanishing"}
    assert running(str(canary)), "the report would be a lie: the command was in fact stopped"
