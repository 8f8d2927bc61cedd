"""HTTP API benchmark: request -> acknowledgement latency of `/api/v1`, next to a bare aiohttp floor.

    .venv/bin/python -m bench.api_ack --requests 300 --concurrency 10 --write docs/benchmarks.md

Contenders, each an aiohttp server on 127.0.0.1 driven by the same aiohttp client:

- floor: a bare aiohttp app whose POST handler reads the JSON body and answers 202;
- `GET /api/v1/me`: the API's whole door (token lookup in SQLite, rate limits, roles, problem
  middleware) and nothing behind it;
- `POST /api/v1/requests` with `wait_s: 0`: a request acknowledged once the kernel has planned
  and recorded it (a read-only `assets.query`, which then finishes in the background).

The API runs on the embedded default (SQLite, in-process cache) in a temporary home, rate limits
raised out of the way. Server and client share one process and event loop, for the floor too.
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
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.report import markers, write_section
from bot.app import build_app
from bot.server import build_serve_app
from bot.settings import Settings
from db.api_tokens import SqlApiTokens

NAME = "bench.api_ack"
Call = Callable[[aiohttp.ClientSession], Awaitable[int]]


async def floor_server() -> TestServer:
    async def ack(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response({"ok": True}, status=202)

    app = web.Application()
    app.router.add_post("/ack", ack)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def measure(call: Call, requests: int, concurrency: int) -> tuple[list[float], int]:
    """Latencies (ms) of `requests` calls, `concurrency` in flight; and how many were not 2xx."""
    latencies: list[float] = []
    failures = 0
    gate = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one() -> None:
            nonlocal failures
            async with gate:
                start = time.perf_counter()
                status = await call(session)
                latencies.append((time.perf_counter() - start) * 1000)
                failures += status >= 300

        await call(session)  # warm-up: connections, caches
        await asyncio.gather(*(one() for _ in range(requests)))
    return latencies, failures


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Call:
    async def call(session: aiohttp.ClientSession) -> int:
        async with session.post(url, json=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    return call


def get(url: str, headers: dict[str, str]) -> Call:
    async def call(session: aiohttp.ClientSession) -> int:
        async with session.get(url, headers=headers) as resp:
            await resp.read()
            return resp.status

    return call


async def main(args: argparse.Namespace) -> None:
    load = os.getloadavg()
    rows: list[tuple[str, list[float], int]] = []
    floor = await floor_server()
    try:
        rows.append(
            (
                "bare aiohttp (floor)",
                *await measure(
                    post(str(floor.make_url("/ack")), {"text": "list assets"}),
                    args.requests,
                    args.concurrency,
                ),
            )
        )
    finally:
        await floor.close()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            rate_limits={"per_person": 0, "per_channel": 0, "per_token": 0},
            server={"sweep_interval_s": 3600},
        )
        app = await build_app(settings)
        server = TestServer(build_serve_app(settings, app), host="127.0.0.1")
        await server.start_server()
        try:
            _, token = await SqlApiTokens(app.sessions).create("bench", ["viewer"])  # type: ignore[arg-type]
            auth = {"Authorization": f"Bearer {token}"}
            base = str(server.make_url("/api/v1"))
            rows.append(
                ("GET /api/v1/me", *await measure(get(base + "/me", auth), args.requests, args.concurrency))
            )
            submit = post(base + "/requests", {"text": "list assets", "wait_s": 0}, auth)
            rows.append(
                ("POST /api/v1/requests (ack)", *await measure(submit, args.requests, args.concurrency))
            )
        finally:
            await server.close()
            await app.close()
    section = report(rows, args, load)
    print(section)
    if args.write:
        write_section(args.write, NAME, section)


def report(
    rows: list[tuple[str, list[float], int]], args: argparse.Namespace, load: tuple[float, ...]
) -> str:
    start, end = markers(NAME)
    floor = statistics.quantiles(rows[0][1], n=100)
    lines = [
        start,
        "## HTTP API: request to acknowledgement, next to a bare aiohttp floor",
        "",
        "```",
        f".venv/bin/python -m bench.api_ack --requests {args.requests} --concurrency {args.concurrency} "
        "--write docs/benchmarks.md",
        "```",
        "",
        f"Machine: {platform.node() or 'vm'}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average before the run {', '.join(f'{x:.1f}' for x in load)}. Embedded default (SQLite); "
        "client and servers share one process.",
        "",
        "| contender | requests | failed | p50 ms | p99 ms | mean ms | p50 / floor | p99 / floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, latencies, failed in rows:
        q = statistics.quantiles(latencies, n=100)
        lines.append(
            f"| {name} | {len(latencies)} | {failed} | {q[49]:.1f} | {q[98]:.1f} | "
            f"{statistics.fmean(latencies):.1f} | {q[49] / floor[49]:.1f}x | {q[98] / floor[98]:.1f}x |"
        )
    lines += [end]
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--write", type=Path, help="append/replace the section in this markdown file")
    asyncio.run(main(parser.parse_args()))
