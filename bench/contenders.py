"""The contenders: each runs one measurement and returns (seconds, failures).

All of them run inside the benchmark's network namespace (the calling thread entered
it; subprocesses inherit it). In-process contenders are timed around the work only;
command-line tools (ansible, fping, nmap) are timed as a user runs them, start-up
included, which is what an operator waits for.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncssh

from adapters.ssh import AsyncsshShell, SshConfig
from domains.automation.ports import RemoteShell
from domains.catalog import build_registry
from domains.network.config import NetworkConfig
from domains.network.icmp import IcmpProbe
from pipeline.contracts import AssetRef, ChatIdentity, InboundMessage, Plan, PlanStep, Principal, TargetStatus
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryExecutionStore

Measurement = tuple[float, int]  # seconds, targets that did not succeed
VENV_BIN = Path(sys.executable).parent
PRINCIPAL = Principal(subject="bench", roles=frozenset({"operator"}))
EXECUTOR_CONCURRENCY = 512  # above the 254 targets of a sweep: one wave, one timeout


def hosts(n: int, prefix: str = "127.0.0") -> list[str]:
    return [f"{prefix}.{i}" for i in range(1, n + 1)]


class BotPath:
    """The bot's executor with the real tools and adapters, as the app wires them."""

    def __init__(self, services: dict[type[Any], Any]) -> None:
        registry = build_registry()
        self.executor = Executor(
            registry,
            Policy.default(registry),
            MemoryExecutionStore(),
            services=services,
            max_concurrency=EXECUTOR_CONCURRENCY,
        )

    async def run(self, tool: str, args: dict[str, Any], addresses: Sequence[str]) -> Measurement:
        targets = tuple(AssetRef(name=f"host-{a}", address=a) for a in addresses)
        plan = Plan(steps=(PlanStep(id="s1", tool=tool, args=args, targets=targets, timeout_s=60),))
        message = InboundMessage(identity=ChatIdentity(platform="console", user_id="bench"), text=tool)
        execution_id = await self.executor.store.create(plan, message, PRINCIPAL, "approved")
        started = time.perf_counter()
        result = await self.executor.run(execution_id, plan, PRINCIPAL)
        seconds = time.perf_counter() - started
        return seconds, sum(r.status is not TargetStatus.OK for r in result.steps[0].results)


def ssh_config(known_hosts: Path, key: Path, **overrides: Any) -> SshConfig:
    return SshConfig(username="root", known_hosts=str(known_hosts), client_keys=(str(key),), **overrides)


async def bot_ssh(
    config: SshConfig, addresses: Sequence[str], *, warm: bool = False, with_close: bool = False
) -> Measurement:
    """automation.run_command `true` through the executor.

    `warm`: time a second run over the pooled connections. `with_close`: include closing
    the pool in the time (as the bare floor closes its connections inside its timing).
    """
    shell = AsyncsshShell(config)
    args = {"command": "true", "timeout_s": 60}
    try:
        bot = BotPath({RemoteShell: shell})
        seconds, failed = await bot.run("automation.run_command", args, addresses)
        if warm:
            seconds, failed = await bot.run("automation.run_command", args, addresses)
        if with_close:
            started = time.perf_counter()
            await shell.close()
            seconds += time.perf_counter() - started
        return seconds, failed
    finally:
        await shell.close()


async def bare_asyncssh(key: Path, addresses: Sequence[str]) -> Measurement:
    """The floor: connect, run, close, all at once, nothing else."""
    client_key = asyncssh.read_private_key(str(key))

    async def one(address: str) -> bool:
        async with asyncssh.connect(
            address, username="root", client_keys=[client_key], known_hosts=None, config=None
        ) as conn:
            return (await conn.run("true")).exit_status == 0

    started = time.perf_counter()
    outcomes = await asyncio.gather(*(one(a) for a in addresses), return_exceptions=True)
    return time.perf_counter() - started, sum(o is not True for o in outcomes)


async def _timed_process(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env
    )
    out, _ = await proc.communicate()
    return time.perf_counter() - started, proc.returncode or 0, out


async def parallel_ssh(key: Path, addresses: Sequence[str]) -> Measurement:
    argv = [sys.executable, "-m", "bench.pssh_worker", ",".join(addresses), str(key)]
    _, rc, out = await _timed_process(argv)
    if rc != 0:
        raise RuntimeError(f"parallel-ssh worker failed: {out.decode(errors='replace')[-500:]}")
    report = json.loads(out.decode().strip().splitlines()[-1])
    return float(report["seconds"]), int(report["failed"])


async def ansible_raw(workdir: Path, key: Path, known_hosts: Path, addresses: Sequence[str]) -> Measurement:
    """`ansible all -m raw -a true -f N`, OpenSSH defaults except no ControlMaster (cold, like the others)."""
    inventory = workdir / f"inventory-{len(addresses)}.ini"
    inventory.write_text("[all]\n" + "\n".join(addresses) + "\n")
    env = {
        **os.environ,
        "ANSIBLE_HOME": str(workdir / "ansible"),
        "ANSIBLE_SSH_ARGS": (
            f"-o ControlMaster=no -o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
        ),
        "ANSIBLE_LOCALHOST_WARNING": "False",
    }
    argv = [
        str(VENV_BIN / "ansible"), "all", "-i", str(inventory), "-m", "raw", "-a", "true",
        "-f", str(len(addresses)), "-u", "root", "--private-key", str(key), "-o",
    ]  # fmt: skip
    seconds, _, out = await _timed_process(argv, env)
    ok = sum(
        1 for line in out.decode(errors="replace").splitlines() if "| CHANGED" in line or "| SUCCESS" in line
    )
    return seconds, len(addresses) - ok


async def bot_ping(addresses: Sequence[str], timeout_s: float = 1.0) -> Measurement:
    async with IcmpProbe() as probe:
        bot = BotPath({IcmpProbe: probe, NetworkConfig: NetworkConfig(ping_timeout_s=timeout_s)})
        return await bot.run("network.ping", {"count": 1}, addresses)


async def fping(first: str, last: str, count: int, timeout_s: float = 1.0) -> Measurement:
    argv = ["fping", "-q", "-i", "0", "-r", "0", "-t", str(int(timeout_s * 1000)), "-g", first, last]
    seconds, rc, out = await _timed_process(argv)
    unreachable = sum(1 for line in out.decode(errors="replace").splitlines() if "unreachable" in line)
    return seconds, unreachable if unreachable else (0 if rc == 0 else count)


async def bot_port_scan(address: str, ports: str) -> tuple[float, list[int]]:
    bot = BotPath({NetworkConfig: NetworkConfig()})
    targets = (AssetRef(name="scan", address=address),)
    plan = Plan(steps=(PlanStep(id="s1", tool="network.port_scan", args={"ports": ports}, targets=targets),))
    message = InboundMessage(identity=ChatIdentity(platform="console", user_id="bench"), text="scan")
    execution_id = await bot.executor.store.create(plan, message, PRINCIPAL, "approved")
    started = time.perf_counter()
    result = await bot.executor.run(execution_id, plan, PRINCIPAL)
    seconds = time.perf_counter() - started
    return seconds, list(result.steps[0].results[0].output.data.get("open", []))


async def nmap_scan(address: str, ports: str) -> tuple[float, list[int]]:
    seconds, _, out = await _timed_process(["nmap", "-sT", "-n", "-Pn", "-p", ports, "-oG", "-", address])
    open_ports = []
    for part in out.decode(errors="replace").split("Ports:")[1:]:
        for item in part.split(","):
            fields = item.strip().split("/")
            if len(fields) > 1 and fields[1] == "open":
                open_ports.append(int(fields[0]))
    return seconds, open_ports
