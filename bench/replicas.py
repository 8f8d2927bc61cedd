"""Replica benchmark: requests per second and acknowledgement latency for one and two bot replicas.

    .venv/bin/python -m bench.replicas --requests 300 --concurrency 50 --latency-ms 200 \\
        --write docs/benchmarks.md

Each replica is a real `opsconductor serve` process (Slack adapter on) sharing one throwaway
PostgreSQL and Redis (tests/services.py). Requests are signed Slack `app_mention` events,
sent with bounded concurrency and spread over the replicas. Every request goes to the LLM
(`llm.confidence_threshold = 1`, no LLM cache): a scripted OpenAI-compatible server
(tests/fakes/openai_server.py) answers each call after a fixed latency, so the numbers show
how far replicas scale a deployment whose bottleneck is the model's latency and each
replica's `llm.max_concurrency`. Everything runs on loopback.

- ack latency: Slack's HTTP request until the replica's 200 (Slack wants < 3 s)
- requests/s: requests / (first request sent .. last answer posted to the Slack stand-in)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy.ext.asyncio import create_async_engine

from bench.report import markers, write_section
from tests import services
from tests.fakes.openai_server import ScriptedOpenAIServer
from tests.fakes.slack_api import SlackApiStandIn
from tests.scaleout.conftest import Cluster, Webhooks, subprocess_env

MARK_START, MARK_END = markers("bench.replicas")
CHAT_ANSWER = {
    "intent": "chat",
    "category": "other",
    "confidence": 0.9,
    "outcome": "no_action",
    "message": "Hello!",
    "calls": [],
}


@dataclass
class Run:
    replicas: int
    requests: int
    seconds: float
    acks_ms: list[float]
    answered: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def ack(self, q: float) -> float:
        ordered = sorted(self.acks_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_run(
    replicas: int,
    requests: int,
    concurrency: int,
    latency_s: float,
    pg: services.PostgresServer,
    redis_url: str,
) -> Run:
    api = SlackApiStandIn()
    api_url = await api.start()
    api.add_user("U1", "alice@example.com", "alice")
    hooks = Webhooks(hold_s=0)
    await hooks.start()
    db_url = pg.create_database()
    workdir = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    async with ScriptedOpenAIServer() as llm:
        for _ in range(requests + 50):
            llm.reply_json(CHAT_ANSWER, delay_s=latency_s)
        env = subprocess_env(workdir, db_url, redis_url, api_url, hooks.port)
        env.update(
            {
                "OPSCONDUCTOR_LLM__BASE_URL": llm.base_url,
                "OPSCONDUCTOR_LLM__CONFIDENCE_THRESHOLD": "1",
                "OPSCONDUCTOR_LLM__CACHE_TTL_S": "0",
                "OPSCONDUCTOR_SLACK__QUEUE_SIZE": str(requests * 2),
                "OPSCONDUCTOR_REDIS__KEY_PREFIX": f"bench{replicas}:",
            }
        )
        await migrate(env)
        db = create_async_engine(db_url)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
            cluster = Cluster(env, workdir, api, hooks, db, http)
            try:
                procs = [await cluster.start("serve") for _ in range(replicas)]
                run = await drive(cluster, procs, requests, concurrency)
            finally:
                await asyncio.to_thread(cluster.stop_all)
                await db.dispose()
    await hooks.close()
    await api.close()
    pg.drop_database(db_url)
    return run


async def migrate(env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "upgrade", env=env, stdout=asyncio.subprocess.DEVNULL
    )
    if await proc.wait() != 0:
        raise SystemExit("db upgrade failed")


async def drive(cluster: Cluster, procs: list, requests: int, concurrency: int) -> Run:  # type: ignore[type-arg]
    gate = asyncio.Semaphore(concurrency)
    acks: list[float] = []
    texts = [f"how is your day going, take {i}" for i in range(requests)]
    before = len(cluster.api.of("chat.postMessage"))

    async def send(i: int) -> None:
        body = cluster.mention_body(texts[i], event_id=f"EvBench{i}")
        async with gate:
            start = time.perf_counter()
            status = await cluster.event(procs[i % len(procs)], body)
            acks.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"request {i} answered {status}")

    started = time.perf_counter()
    await asyncio.gather(*(send(i) for i in range(requests)))
    for _ in range(30_000):  # at most 10 minutes for the answers to arrive
        if len(cluster.api.of("chat.postMessage")) - before >= requests:
            break
        await asyncio.sleep(0.02)
    seconds = time.perf_counter() - started
    answered = len(cluster.api.of("chat.postMessage")) - before
    return Run(len(procs), requests, seconds, acks, answered)


def report(runs: list[Run], args: argparse.Namespace) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        MARK_START,
        "## Bot replicas: requests per second and acknowledgement latency",
        "",
        "```",
        f".venv/bin/python -m bench.replicas --requests {args.requests} --concurrency {args.concurrency} "
        f"--latency-ms {args.latency_ms:g} --write docs/benchmarks.md",
        "```",
        "",
        f"Machine: {platform.node() or 'vm'}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average before the run {load}. Each replica is an `opsconductor serve` process "
        "(Slack adapter on, default `llm.max_concurrency` 4, `slack.workers` 8) on one PostgreSQL "
        f"and Redis; every request makes one LLM call answered by a scripted server after "
        f"{args.latency_ms:g} ms; {args.concurrency} requests in flight at a time, spread round-robin.",
        "",
        "| replicas | requests | answered | requests/s | ack p50 ms | ack p99 ms | ack max ms |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        lines.append(
            f"| {r.replicas} | {r.requests} | {r.answered} | {r.rps:.1f} "
            f"| {statistics.median(r.acks_ms):.1f} | {r.ack(0.99):.1f} | {max(r.acks_ms):.1f} |"
        )
    if len(runs) == 2:
        lines += ["", f"Two replicas answer {runs[1].rps / runs[0].rps:.2f}x the requests per second of one."]
    lines += [
        "",
        "Acknowledgements stay far below Slack's 3 s because replicas ack before any work; throughput",
        "is bounded by LLM latency x concurrent LLM calls per replica, which replicas multiply.",
        MARK_END,
    ]
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> None:
    pg = services.postgres_server()
    redis = services.RedisDatabase(services.redis_server())
    try:
        runs = []
        for replicas in (1, 2):
            redis.flush()
            runs.append(
                await one_run(
                    replicas, args.requests, args.concurrency, args.latency_ms / 1000, pg, redis.url
                )
            )
    finally:
        redis.release()
        pg.close()
    section = report(runs, args)
    print(section)
    if args.write:
        write_section(args.write, "bench.replicas", section)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--write", type=Path, help="append/replace the section in this markdown file")
    asyncio.run(main(parser.parse_args()))
