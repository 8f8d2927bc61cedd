"""Fan-out benchmark: the bot's executor against bare asyncssh, parallel-ssh, Ansible, fping and nmap.

    sudo .venv/bin/python -m bench.fanout --n 50 --n 200 --repeat 3 --write docs/benchmarks.md

Builds its own testbed (tests/integration/sshd_testbed.py): a network namespace with
only `lo` up, one OpenSSH sshd on 0.0.0.0:22 serving 127.0.0.1-254 as hosts, and a
/24 of dead addresses whose packets are silently dropped. The whole run happens inside
that namespace; nothing else is contacted. Needs root, openssh-server, fping, nmap, and
the `bench` extra (ansible-core, parallel-ssh).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench import contenders as c
from bench.report import markers, write_section
from tests.integration import sshd_testbed
from tests.integration.sshd_testbed import SshdTestbed

Results = dict[str, dict[str, list[c.Measurement]]]
SSH_ORDER = (
    "bare asyncssh",
    "bot (cold)",
    "bot (cold, pool closed)",
    "bot (warm pool)",
    "parallel-ssh",
    "ansible -m raw",
)
SSH_DEAD = "bot automation.run_command (2 s connect timeout)"
DEAD_TIMEOUTS = {"bot network.ping (1 s timeout)": 1.0, "fping (1 s timeout)": 1.0, SSH_DEAD: 2.0}
NOTES = """
## How to read this

- **bare asyncssh** is the floor: `asyncssh.connect` + `run("true")` + close for all hosts at
  once, no host key check, nothing else.
- **bot (cold)** is a plan step `automation.run_command {command: true}` on N targets through
  `pipeline.stages.execute.Executor` (policy re-check, claim, per-target fan-out and timeouts,
  result records) with `AsyncsshShell` (strict known_hosts check, pool, caps) on a new pool.
  Its time ends when the executor returns; the connections stay in the pool, which is the
  point of the pool. **bot (cold, pool closed)** also closes them inside the timing, like the
  floor does. **bot (warm pool)** is a second run over the pooled connections (a follow-up
  request, or the next step of a plan): one channel per host, no handshake.
- **parallel-ssh** (native client, `pool_size=N`) runs in its own process (gevent) and is timed
  there around `run_command` + `join`. **ansible** is timed as the operator runs it:
  `ansible all -m raw -a true -f N -o`, start-up included, OpenSSH client defaults (so the
  sntrup761x25519 key exchange) except `ControlMaster=no`, so that every contender starts cold.
- Dead hosts: 10.254.0.0/24 is routed via a veth peer with a permanent neighbour entry, so
  packets leave and vanish. (`ip route add blackhole` would not do: Linux fails locally sent
  packets to a blackhole route at once with EINVAL, and nothing would time out.) The bot's
  sweeps are bounded by one timeout because every target gets its own: the executor's fan-out
  limit (512 here) and the SSH adapter's `max_concurrency` (256 here) are above the number of
  targets. With the defaults of 200, 254 dead hosts take two timeouts; raise both for sweeps.
- The testbed shares two vCPUs between sshd, the clients and whatever else runs on the machine;
  absolute times move with that load (the load average is printed above), ratios much less.
"""


async def _repeat(
    results: Results, group: str, jobs: dict[str, Callable[[], Awaitable[c.Measurement]]], n: int
) -> None:
    for _ in range(n):
        for name, job in jobs.items():
            results[group][name].append(await job())
            await asyncio.sleep(1.0)  # let sshd reap the sessions of the last run
        print(
            f"  {group}: " + ", ".join(f"{k} {v[-1][0]:.3f}s" for k, v in results[group].items()), flush=True
        )


async def run_all(args: argparse.Namespace, bed: SshdTestbed, known: Path, workdir: Path) -> Results:
    results: Results = defaultdict(lambda: defaultdict(list))
    key = bed.client_key
    await c.bare_asyncssh(key, c.hosts(max(args.n)))  # warm-up: page cache, sshd binary
    for n in args.n:
        await _repeat(results, f"ssh N={n}", _ssh_jobs(c.hosts(n), key, known, workdir, args), args.repeat)
    await _network(results, args)
    await _dead(results, args, known, key)
    return results


def _ssh_jobs(
    addresses: list[str], key: Path, known: Path, workdir: Path, args: argparse.Namespace
) -> dict[str, Callable[[], Awaitable[c.Measurement]]]:
    config = c.ssh_config(known, key)
    jobs: dict[str, Callable[[], Awaitable[c.Measurement]]] = {
        "bare asyncssh": lambda: c.bare_asyncssh(key, addresses),
        "bot (cold)": lambda: c.bot_ssh(config, addresses),
        "bot (cold, pool closed)": lambda: c.bot_ssh(config, addresses, with_close=True),
        "bot (warm pool)": lambda: c.bot_ssh(config, addresses, warm=True),
    }
    if not args.skip_others:
        jobs["parallel-ssh"] = lambda: c.parallel_ssh(key, addresses)
        jobs["ansible -m raw"] = lambda: c.ansible_raw(workdir, key, known, addresses)
    return jobs


async def _network(results: Results, args: argparse.Namespace) -> None:
    live = c.hosts(254)
    await _repeat(
        results,
        "ping 254 live",
        {"bot network.ping": lambda: c.bot_ping(live), "fping": lambda: c.fping(live[0], live[-1], 254)},
        args.repeat,
    )

    async def bot_scan() -> c.Measurement:
        seconds, open_ports = await c.bot_port_scan("127.0.0.1", "1-1024")
        return seconds, 0 if open_ports == [22] else 1

    async def nmap() -> c.Measurement:
        seconds, open_ports = await c.nmap_scan("127.0.0.1", "1-1024")
        return seconds, 0 if open_ports == [22] else 1

    await _repeat(
        results, "port scan 1-1024", {"bot network.port_scan": bot_scan, "nmap -sT": nmap}, args.repeat
    )


async def _dead(results: Results, args: argparse.Namespace, known: Path, key: Path) -> None:
    dead = c.hosts(254, "10.254.0")
    dead_config = c.ssh_config(known, key, connect_timeout_s=DEAD_TIMEOUTS[SSH_DEAD], max_concurrency=256)
    ping, fping, ssh = DEAD_TIMEOUTS
    jobs: dict[str, Callable[[], Awaitable[c.Measurement]]] = {
        ping: lambda: c.bot_ping(dead, timeout_s=DEAD_TIMEOUTS[ping]),
        fping: lambda: c.fping(dead[0], dead[-1], 254, timeout_s=DEAD_TIMEOUTS[fping]),
        ssh: lambda: c.bot_ssh(dead_config, dead),
    }
    await _repeat(results, "dead 254 (silently dropped)", jobs, 1)


def _median(values: list[c.Measurement]) -> float:
    return statistics.median(v[0] for v in values)


def _failed(values: list[c.Measurement]) -> int:
    return max(v[1] for v in values)


def _paired(values: list[c.Measurement], basis: list[c.Measurement]) -> float:
    """Median of run-by-run ratios: runs were interleaved, so this cancels drift in machine load."""
    return statistics.median(v[0] / b[0] for v, b in zip(values, basis, strict=True))


def render(results: Results, args: argparse.Namespace) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Fan-out of the bot's executor (`pipeline.stages.execute.Executor` with the real tools and",
        "adapters) against other tools, on one loopback testbed that the benchmark builds itself: a",
        "network namespace with only `lo` up, one OpenSSH sshd on 0.0.0.0:22 serving 127.0.0.1-254",
        "as hosts (ed25519 host key, key auth, UsePAM no, UseDNS no, MaxStartups raised, a clean root",
        "shell), and 10.254.0.0/24 routed to a veth peer that silently drops every packet.",
        "",
        "## Invocation",
        "",
        "```",
        f"sudo .venv/bin/python -m bench.fanout {' '.join(f'--n {n}' for n in args.n)} "
        f"--repeat {args.repeat} --write docs/benchmarks.md",
        "```",
        "",
        f"Machine: {platform.node() or 'unknown'}, {_cpus()} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {_ssh_version()}, load average before the run "
        f"{args.load}. Median of {args.repeat} runs; "
        "failures = targets that did not succeed (worst run). Ratios are medians of run-by-run",
        "ratios (the contenders of one run go one after the other, so drifting load cancels out).",
        "",
        *_targets(results),
        "## `true` on N hosts",
        "",
        "| N | tool | seconds | failures | vs bare asyncssh | bot is faster by |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for group, by_tool in results.items():
        if not group.startswith("ssh N="):
            continue
        n = group.removeprefix("ssh N=")
        floor, bot = by_tool["bare asyncssh"], by_tool["bot (cold)"]
        for name in [t for t in SSH_ORDER if t in by_tool]:
            runs = by_tool[name]
            speedup = f"{_paired(runs, bot):.1f}x" if name in ("parallel-ssh", "ansible -m raw") else ""
            cells = [n, name, f"{_median(runs):.3f}", _failed(runs), f"{_paired(runs, floor):.2f}x", speedup]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    lines.append(NOTES.rstrip("\n"))
    for group, title in (
        ("ping 254 live", "Ping sweep, 254 live addresses (count 1)"),
        ("port scan 1-1024", "TCP connect scan of ports 1-1024 on 127.0.0.1"),
        ("dead 254 (silently dropped)", "Dead hosts: 254 addresses whose packets are dropped"),
    ):
        by_tool = results.get(group, {})
        reference = next((v for k, v in by_tool.items() if not k.startswith("bot")), None)
        lines += [
            "",
            f"## {title}",
            "",
            "| tool | seconds | failures / unreachable | vs the reference tool |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, values in by_tool.items():
            if name in DEAD_TIMEOUTS:
                ratio = f"{_median(values) / DEAD_TIMEOUTS[name]:.2f} of its timeout"
            elif reference and len(values) == len(reference):
                ratio = f"{_paired(values, reference):.2f}x"
            else:
                ratio = ""
            lines.append(f"| {name} | {_median(values):.3f} | {_failed(values)} | {ratio} |")
    return "\n".join(lines) + "\n"


def _targets(results: Results) -> list[str]:
    """The issue's targets at the largest N: within 1.2x of the floor, >= 5x faster than Ansible."""
    group = max((g for g in results if g.startswith("ssh N=")), key=lambda g: int(g[6:]), default=None)
    if group is None:
        return []
    runs = results[group]
    floor, lines = runs["bare asyncssh"], ["## Against the targets", ""]
    for name in ("bot (cold)", "bot (cold, pool closed)"):
        ratio = _paired(runs[name], floor)
        lines.append(f"- {group}, {name}: {ratio:.2f}x the bare asyncssh floor (target: within 1.2x)")
    if "ansible -m raw" in runs:
        speedup = _paired(runs["ansible -m raw"], runs["bot (cold)"])
        lines.append(
            f"- {group}: the bot is {speedup:.1f}x faster than `ansible -m raw` (target: at least 5x)"
        )
    return [*lines, ""]


def _cpus() -> int:
    return os.cpu_count() or 0


def _ssh_version() -> str:
    out = subprocess.run(["ssh", "-V"], capture_output=True, text=True, check=False)
    return (out.stderr or out.stdout).strip().split(",")[0]


def _emit(report: str, args: argparse.Namespace) -> None:
    print(report)
    if args.write:  # the other benchmarks' sections in the same file stay as they are
        start, end = markers("bench.fanout")
        write_section(args.write, "bench.fanout", f"{start}\n{report.rstrip()}\n{end}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="hosts for the SSH fan-out (repeatable)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-others", action="store_true", help="only bare asyncssh and the bot")
    parser.add_argument("--write", type=Path, help="write the report (markdown) to this file")
    parser.add_argument("--json", type=Path, help="also write the raw measurements (JSON) here")
    parser.add_argument("--from-json", type=Path, help="only render the report of an earlier --json")
    args = parser.parse_args()
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        args.n, args.repeat, args.load = saved["args"]["n"], saved["args"]["repeat"], saved["args"]["load"]
        _emit(render(saved["results"], args), args)
        return
    args.n = args.n or [50, 200]
    args.load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    if max(args.n) > 254:
        parser.error("at most 254 hosts (127.0.0.1-254)")
    why_not = sshd_testbed.available()
    if why_not or not shutil.which("fping") or not shutil.which("nmap"):
        sys.exit(why_not or "needs fping and nmap (apt-get install fping nmap)")
    workdir = Path(tempfile.mkdtemp(prefix="oc-bench-"))
    bed = SshdTestbed(workdir, max_startups=4000)
    try:
        bed.start_sshd("main")
        bed.dead_network("10.254.0")
        known = bed.write_known_hosts(workdir / "known_hosts", c.hosts(254))
        print(f"testbed {bed.ns} ready; {shlex.join(sys.argv)}", flush=True)
        with bed.inside():
            results = asyncio.run(run_all(args, bed, known, workdir))
    finally:
        bed.close()
        shutil.rmtree(workdir, ignore_errors=True)
    _emit(render(results, args), args)
    if args.json:
        args.json.write_text(
            json.dumps({"args": vars(args) | {"write": None, "json": None}, "results": results})
        )


if __name__ == "__main__":
    main()
