"""Planning latency and memory as the inventory grows (no LLM: the grammar and stage C).

    .venv/bin/python -m bench.planning --sizes 18,2000,20000,100000 --write docs/benchmarks.md

Each inventory is the reference fixture (18 assets, so every request still names real hosts)
plus generated assets shaped like it: names `<role>-<site>-<n>`, 40 sites, four environments,
team/role tags and the role's services. The requests are the dev set and our held-out sets on
the fixture inventory. For each size one `HybridPlanner` over an `InMemoryAssetDirectory`
plans every request (as an operator, nothing executed), after one warm-up pass that builds
the per-snapshot indexes; p50/p95/max are over the timed pass.

Latency: wall-clock p50/p95/max, and the CPU time the planning thread used (`cpu`), which is
the figure to read on a shared machine: under load, wall-clock time mostly measures waiting
for a core. `first plan` includes building the per-snapshot indexes (once per inventory
change). Each size runs in its own interpreter. Memory: growth of the resident set while
building the snapshot (`snapshot MiB`) and while the first plan builds the indexes (`index
MiB`); `peak rss MiB` is that interpreter's peak.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.report import markers, write_section
from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.contracts import AssetRef, Principal
from pipeline.evaluation import load_cases, percentile
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT.parent / "shared" / "fixtures" / "inventory.yaml"
FIXTURE_COPY = ROOT / "tests" / "data" / "inventory_fixture_copy.yaml"
REQUEST_SETS = [
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
    *(ROOT / "tests" / "data" / n for n in ("heldout_nlu.jsonl", "heldout_phrasings.jsonl")),
    *(ROOT / "tests" / "data" / n for n in ("heldout_blind.jsonl", "heldout_blind2_fixture.jsonl")),
]
MARK_START, MARK_END = markers("bench.planning")
OPERATOR = Principal(subject="bench", roles=frozenset({"operator"}))

ROLES = [  # (name prefix, type, os, services)
    ("web", "web_server", "linux", ("nginx",)),
    ("api", "app_server", "linux", ("gunicorn", "redis")),
    ("db", "db_server", "linux", ("postgresql",)),
    ("cache", "app_server", "linux", ("redis",)),
    ("win-app", "app_server", "windows", ("W3SVC",)),
    ("dc", "domain_controller", "windows", ("NTDS", "DNS")),
    ("sw", "switch", "network", ()),
    ("mon", "app_server", "linux", ("prometheus",)),
]
SITES = [f"site{n:02d}" for n in range(40)]
ENVIRONMENTS = ("production", "staging", "dev", "qa")
TEAMS = ("storefront", "platform", "data", "finance", "it", "sre")


def generated(count: int) -> list[AssetRef]:
    """`count` assets shaped like the fixture's, with names that cannot collide with it."""
    assets = []
    for i in range(count):
        prefix, kind, os_name, services = ROLES[i % len(ROLES)]
        site = SITES[(i // len(ROLES)) % len(SITES)]
        number = i // (len(ROLES) * len(SITES)) + 1
        assets.append(
            AssetRef(
                name=f"{prefix}-{site}-{number:03d}",
                address=f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}",
                type=kind,
                os=os_name,
                environment=ENVIRONMENTS[i % len(ENVIRONMENTS)],
                location=site,
                tags={"role": prefix, "team": TEAMS[i % len(TEAMS)]},
                services=services,
            )
        )
    return assets


@dataclass
class Row:
    size: int
    requests: int
    p50_ms: float
    p95_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    max_ms: float
    first_ms: float
    snapshot_mib: float
    index_mib: float
    rss_mib: float


async def measure(size: int, texts: Sequence[str]) -> Row:
    fixture = load_inventory(FIXTURE if FIXTURE.exists() else FIXTURE_COPY)
    gc.collect()
    before = rss_bytes()
    assets = tuple(sorted([*fixture, *generated(max(0, size - len(fixture)))], key=lambda a: a.name))
    gc.collect()
    snapshot_bytes = rss_bytes() - before
    registry = build_registry()
    policy = Policy.default(registry)
    planner = HybridPlanner(registry, InMemoryAssetDirectory(assets), permitted_tools=policy.permitted_tools)
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    await planner.plan(texts[0], OPERATOR)
    first_ms = (time.perf_counter() - started) * 1000
    gc.collect()
    index_bytes = rss_bytes() - before
    for text in texts:  # warm-up: caches every request would find warm in a running bot
        await planner.plan(text, OPERATOR)
    gc.collect()
    timings, cpu = [], []
    for text in texts:
        started, started_cpu = time.perf_counter(), time.thread_time()
        await planner.plan(text, OPERATOR)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - started_cpu) * 1000)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return Row(
        size=len(assets),
        requests=len(texts),
        p50_ms=statistics.median(timings),
        p95_ms=percentile(timings, 0.95),
        cpu_p50_ms=statistics.median(cpu),
        cpu_p95_ms=percentile(cpu, 0.95),
        max_ms=max(timings),
        first_ms=first_ms,
        snapshot_mib=snapshot_bytes / 2**20,
        index_mib=index_bytes / 2**20,
        rss_mib=rss_kib / 1024,
    )


def rss_bytes() -> int:
    """The process's resident set now (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def requests(limit: int) -> list[str]:
    texts = [c.text for path in REQUEST_SETS if path.exists() for c in load_cases(path) if not c.thread]
    texts = list(dict.fromkeys(texts))
    return texts[:limit] if limit else texts


def table(rows: Sequence[Row]) -> str:
    head = (
        "| assets | requests | p50 ms | p95 ms | max ms | cpu p50 ms | cpu p95 ms | first plan ms "
        "| snapshot MiB | index MiB | peak rss MiB |\n"
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    lines = [
        f"| {r.size:,} | {r.requests} | {r.p50_ms:.2f} | {r.p95_ms:.2f} | {r.max_ms:.1f} "
        f"| {r.cpu_p50_ms:.2f} | {r.cpu_p95_ms:.2f} | {r.first_ms:.0f} "
        f"| {r.snapshot_mib:.1f} | {r.index_mib:.1f} | {r.rss_mib:.0f} |"
        for r in rows
    ]
    return "\n".join([head, *lines])


def section(rows: Sequence[Row], command: str) -> str:
    load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    return "\n".join(
        [
            MARK_START,
            "## Planning latency against inventory size",
            "",
            "```",
            command,
            "```",
            "",
            f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average before the run {load}. No LLM: the deterministic understanding and stage C, "
            "as an operator, nothing executed (see `bench/planning.py` for the inventories and requests).",
            "",
            table(rows),
            "",
            "Target: p95 under 20 ms at 20,000 assets, memory growing linearly with the inventory.",
            MARK_END,
        ]
    )


def in_child(size: int, limit: int) -> Row:
    """Measure one size in a fresh interpreter, so memory figures are that size's alone."""
    command = [sys.executable, "-m", "bench.planning", "--one", str(size), "--requests", str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    return Row(**json.loads(done.stdout.strip().splitlines()[-1]))


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.planning", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="18,2000,20000,100000", help="inventory sizes, comma-separated")
    parser.add_argument("--requests", type=int, default=0, help="at most this many requests (0: all)")
    parser.add_argument("--write", type=Path, help="replace this benchmark's section in this markdown file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: one size, JSON out
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(asdict(await measure(args.one, requests(args.requests)))))
        return 0
    rows = []
    for size in sorted(int(s) for s in args.sizes.split(",")):
        rows.append(in_child(size, args.requests))
        print(table(rows[-1:]).splitlines()[-1] if len(rows) > 1 else table(rows), flush=True)
    print()
    print(table(rows))
    if args.write:
        command = f".venv/bin/python -m bench.planning --sizes {args.sizes} --write docs/benchmarks.md"
        write_section(args.write, "bench.planning", section(rows, command.strip()))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
