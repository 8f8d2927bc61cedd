"""Slack acknowledgement under load: the bot's `/slack/events` next to a bare Slack Bolt app (the
floor), driven by Locust side by side in one run, the ratios printed.

    .venv/bin/python -m bench.slack_ack --users 200 --seconds 30 --write docs/benchmarks.md

(needs `pip install -e ".[bench]"` for Locust). Contenders, each its own process on 127.0.0.1:

- floor: `bench.bolt_floor`, a Slack Bolt `AsyncApp` that checks signatures and acknowledges
  `app_mention` events, nothing else;
- the bot: `opsconductor serve` with the Slack adapter, on a throwaway PostgreSQL and Redis
  (tests/services.py), acknowledging each event and then planning and answering it (a read-only
  inventory query, answered to the Slack Web API stand-in in this process).

Locust (`bench/locust_slack.py`, headless, its own process) keeps `--users` signed events in
flight, each user sending its next as soon as the last is answered, for `--seconds` per
contender; the floor runs first, with the same settings. Requests per second and the median and
99th percentile of the time to the HTTP 200 come from Locust's CSV statistics.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import create_async_engine

from bench.replicas import migrate
from bench.report import markers, write_section
from tests import services
from tests.fakes.slack_api import SlackApiStandIn
from tests.scaleout.conftest import ROOT, SECRET, Cluster, Webhooks, subprocess_env

NAME = "bench.slack_ack"
LOCUSTFILE = Path(__file__).with_name("locust_slack.py")


@dataclass(frozen=True)
class Load:
    name: str
    requests: int
    failures: int
    rps: float
    p50: float
    p99: float


def locust(host: str, args: argparse.Namespace, workdir: Path, name: str) -> Load:
    """One headless Locust run against `host`; its aggregated statistics."""
    prefix = workdir / name.replace(" ", "_")
    env = {**os.environ, "BENCH_SIGNING_SECRET": SECRET}
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{args.seconds}s",
        "--host", host, "--csv", str(prefix), "--loglevel", "WARNING",
    ]  # fmt: skip
    with (workdir / f"{prefix.name}.log").open("wb") as log:  # Locust's own summary goes there
        subprocess.run(
            command, env=env, cwd=ROOT, check=False, stdout=log, stderr=log, timeout=args.seconds + 120
        )
    with open(f"{prefix}_stats.csv", newline="") as stats:
        (total,) = [row for row in csv.DictReader(stats) if row["Name"] == "Aggregated"]
    return Load(
        name,
        int(total["Request Count"]),
        int(total["Failure Count"]),
        float(total["Requests/s"]),
        float(total["50%"]),
        float(total["99%"]),
    )


async def healthy(url: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} never answered")


async def floor_run(args: argparse.Namespace, api_url: str, workdir: Path) -> Load:
    port = services.free_port()
    command = [
        sys.executable, "-m", "bench.bolt_floor", "--port", str(port),
        "--signing-secret", SECRET, "--api-url", api_url,
    ]  # fmt: skip
    with (workdir / "floor.log").open("wb") as log:
        floor = await asyncio.create_subprocess_exec(*command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        await healthy(f"http://127.0.0.1:{port}/health")
        return await asyncio.to_thread(locust, f"http://127.0.0.1:{port}", args, workdir, "bolt floor")
    finally:
        floor.terminate()
        await asyncio.wait_for(floor.wait(), 15)


async def bot_run(args: argparse.Namespace, api: SlackApiStandIn, api_url: str, workdir: Path) -> Load:
    pg = services.postgres_server()
    redis = services.RedisDatabase(services.redis_server())
    hooks = Webhooks(hold_s=0)
    await hooks.start()
    db_url = pg.create_database()
    try:
        env = subprocess_env(workdir, db_url, redis.url, api_url, hooks.port)
        env["OPSCONDUCTOR_JOBS__ENGINE"] = "inprocess"
        await migrate(env)
        db = create_async_engine(db_url)
        async with aiohttp.ClientSession() as http:
            cluster = Cluster(env, workdir, api, hooks, db, http)
            try:
                bot = await cluster.start("serve")
                return await asyncio.to_thread(locust, bot.base, args, workdir, "opsconductor")
            finally:
                await asyncio.to_thread(cluster.stop_all)
                await db.dispose()
    finally:
        await hooks.close()
        pg.drop_database(db_url)
        redis.release()
        pg.close()


def report(floor: Load, bot: Load, args: argparse.Namespace, load: tuple[float, ...]) -> str:
    start, end = markers(NAME)
    lines = [
        start,
        "## Slack acknowledgement under load, next to a bare Slack Bolt app (the floor)",
        "",
        "```",
        f".venv/bin/python -m bench.slack_ack --users {args.users} --seconds {args.seconds}",
        "```",
        "",
        f"Machine: {platform.node() or 'vm'}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average before the run {', '.join(f'{x:.1f}' for x in load)}. Locust keeps "
        f"{args.users} signed `app_mention` events in flight for {args.seconds} s per contender; "
        "the bot runs on PostgreSQL and Redis and answers every event it accepts.",
        "",
        "| contender | requests | failed | requests/s | p50 ms | p99 ms | p50 / floor | p99 / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for run in (floor, bot):
        lines.append(
            f"| {run.name} | {run.requests} | {run.failures} | {run.rps:.1f} | {run.p50:.0f} | {run.p99:.0f} "
            f"| {run.p50 / max(floor.p50, 1):.1f}x | {run.p99 / max(floor.p99, 1):.1f}x |"
        )
    ratio = bot.p99 / max(floor.p99, 1)
    verdict = "within" if ratio <= 2 else "above"
    lines += [
        "",
        f"The bot's acknowledgement p99 is {ratio:.1f}x the floor's ({verdict} the 2x target); "
        f"it serves {bot.rps / max(floor.rps, 0.1):.2f}x the floor's requests per second.",
        end,
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="bench-slack-ack-"))
    api = SlackApiStandIn()
    api_url = await api.start()
    api.add_user("U1", "alice@example.com", "alice")
    try:
        floor = await floor_run(args, api_url, workdir)
        bot = await bot_run(args, api, api_url, workdir)
    finally:
        await api.close()
    section = report(floor, bot, args, load)
    print(section)
    if args.write:
        write_section(args.write, NAME, section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=200, help="events in flight at once")
    parser.add_argument("--spawn-rate", type=int, default=100, help="users started per second")
    parser.add_argument("--seconds", type=int, default=30, help="per contender")
    parser.add_argument("--write", type=Path, help="append/replace the section in this markdown file")
    asyncio.run(main(parser.parse_args()))
