"""AsyncsshShell against a real OpenSSH sshd: output, errors, timeouts, pooling."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from adapters.ssh import AsyncsshShell, SshConfig
from domains.automation.ports import TRUNCATION_MARKER, CommandResult
from pipeline.contracts import AssetRef
from pipeline.errors import TargetUnreachable, ToolError, ToolTimeout
from tests.integration.sshd_fixtures import HANGING, REFUSING, SSH_HOSTS

pytestmark = pytest.mark.sshd

HOST = AssetRef(name="web-01", address=SSH_HOSTS[0])


async def test_exit_code_and_streams_apart(shell: AsyncsshShell) -> None:
    result = await shell.run(HOST, "echo out; echo err >&2; exit 3")
    assert (result.exit_code, result.stdout, result.stderr) == (3, "out\n", "err\n")
    assert not result.ok and not result.truncated


async def test_output_is_capped_with_marker(shell: AsyncsshShell) -> None:
    result = await shell.run(HOST, "head -c 5000 /dev/zero | tr '\\0' a; echo fine >&2", max_output=1024)
    assert result.truncated and result.exit_code == 0
    assert result.stdout == "a" * 1024 + "\n" + TRUNCATION_MARKER.format(n=1024)
    assert result.stdout.endswith("[output truncated after 1024 bytes]")
    assert result.stderr == "fine\n"


async def test_stdin_is_fed_and_closed(shell: AsyncsshShell) -> None:
    result = await shell.run(HOST, "wc -l", stdin="one\ntwo\n'three' \"$x\"\n")
    assert result.stdout.strip() == "3"


async def test_signal_ends_command_without_exit_code(shell: AsyncsshShell) -> None:
    result = await shell.run(HOST, "kill -TERM $$")
    assert result.exit_code is None and result.exit_signal == "TERM"


async def test_connection_is_reused_across_commands(shell: AsyncsshShell) -> None:
    peers = {(await shell.run(HOST, "echo $SSH_CLIENT")).stdout.split()[1] for _ in range(3)}
    assert len(peers) == 1  # sshd saw one client port: one TCP connection for all three
    assert (shell.counters.opened, shell.counters.reused) == (1, 2)


async def test_concurrent_first_use_opens_one_connection(shell: AsyncsshShell) -> None:
    results = await asyncio.gather(*(shell.run(HOST, "echo $SSH_CLIENT") for _ in range(12)))
    assert len({r.stdout.split()[1] for r in results}) == 1
    assert shell.counters.opened == 1


async def test_idle_connection_is_closed(ssh_config: Callable[..., SshConfig]) -> None:
    shell = AsyncsshShell(ssh_config(idle_timeout_s=0))
    try:
        await shell.run(HOST, "true")
        assert shell.open_connections == 0 and shell.counters.closed_idle == 1
        await shell.run(HOST, "true")
        assert shell.counters.opened == 2
    finally:
        await shell.close()


async def test_refusing_host_is_unreachable(shell: AsyncsshShell) -> None:
    with pytest.raises(TargetUnreachable, match="refused the connection"):
        await shell.run(AssetRef.raw(REFUSING), "true")


async def test_host_that_never_speaks_times_out_on_connect(ssh_config: Callable[..., SshConfig]) -> None:
    shell = AsyncsshShell(ssh_config(connect_timeout_s=0.5))
    try:
        with pytest.raises(ToolTimeout, match="accepted the connection but SSH did not answer"):
            await shell.run(AssetRef.raw(HANGING), "true")
    finally:
        await shell.close()


async def test_command_timeout_kills_command_and_keeps_connection(shell: AsyncsshShell) -> None:
    with pytest.raises(ToolTimeout, match=r"within 0\.3 s"):
        await shell.run(HOST, "sleep 30", timeout_s=0.3)
    assert (await shell.run(HOST, "echo still here")).stdout == "still here\n"
    assert shell.counters.opened == 1


async def test_connection_dying_mid_command_is_unreachable(shell: AsyncsshShell) -> None:
    with pytest.raises(TargetUnreachable, match="lost while the command ran"):
        # the pause lets sshd pass on the preamble's line before it dies: then the bot knows the
        # command's process group and stops it over a new connection (else the outcome is uncertain)
        await shell.run(HOST, "echo started; sleep 0.5; kill -9 $PPID; sleep 5")
    assert (await shell.run(HOST, "echo back")).stdout == "back\n"  # a fresh connection
    assert shell.counters.opened == 2


async def test_dead_and_slow_hosts_do_not_hold_back_the_others(ssh_config: Callable[..., SshConfig]) -> None:
    shell = AsyncsshShell(ssh_config(connect_timeout_s=0.5))
    targets = [AssetRef.raw(a) for a in (*SSH_HOSTS, REFUSING, HANGING)]

    async def one(target: AssetRef) -> CommandResult | ToolError:
        try:
            return await shell.run(target, "echo $SSH_CONNECTION")
        except ToolError as err:
            return err

    try:
        outcomes = await asyncio.gather(*(one(t) for t in targets))
    finally:
        await shell.close()
    by_address = dict(zip((t.address for t in targets), outcomes, strict=True))
    for address in SSH_HOSTS:
        result = by_address[address]
        assert isinstance(result, CommandResult) and result.stdout.split()[2] == address
    assert isinstance(by_address[REFUSING], TargetUnreachable)
    assert isinstance(by_address[HANGING], ToolTimeout)
