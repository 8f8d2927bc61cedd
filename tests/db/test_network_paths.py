"""'show me the network path to the london servers': stored traceroutes (SQLite and PostgreSQL)
merged into one diagram, the slowest hop named, the PNG checked by its pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.image import imread
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.network_results import SqlNetworkResults
from domains.network.ports import ScanContext
from domains.network.traceroute import Hop
from pipeline.contracts import utcnow
from tests.db.test_history import OLGA, ask, historian

Sessions = async_sessionmaker[AsyncSession]
LONDON_SERVERS = ("api-02", "db-02", "web-03", "win-app-01", "win-app-02", "win-dc-01")


async def store_trace(
    sessions: Sessions, step: str, target: str, *hops: tuple[str | None, float | None]
) -> None:
    """A traceroute as the tool stores it; the last hop reached the target when it answered."""
    traced = [
        Hop(ttl, address, rtt, "" if address else "no answer") for ttl, (address, rtt) in enumerate(hops, 1)
    ]
    if traced[-1].address:
        last = traced[-1]
        traced[-1] = Hop(last.ttl, last.address, last.rtt_ms, "destination")
    scan = ScanContext("no-execution", step, {"max_hops": 30})
    await SqlNetworkResults(sessions).record_traceroute(
        scan, target, hops[-1][0] or "192.0.2.99", "icmp", traced
    )


async def seed_london(sessions: Sessions) -> None:
    await store_trace(sessions, "old", "web-03", ("10.0.0.1", 0.4), ("10.9.9.9", 90.0), ("192.0.2.13", 95.0))
    await store_trace(
        sessions,
        "new",
        "web-03",
        ("10.0.0.1", 0.4),
        ("10.1.0.1", 1.1),
        ("172.16.0.1", 39.5),
        ("192.0.2.13", 40.1),
    )
    await store_trace(
        sessions, "new", "api-02",
        ("10.0.0.1", 0.6), ("10.1.0.1", 1.0), ("172.16.0.1", 38.9), (None, None), ("192.0.2.22", 41.0),
    )  # fmt: skip
    await store_trace(sessions, "new", "db-02", ("10.0.0.1", 0.3), ("10.1.0.9", 2.0), (None, None))
    await store_trace(sessions, "new", "web-01", ("10.0.0.1", 0.3), ("192.0.2.11", 0.5))  # frankfurt


async def test_the_london_paths_are_merged_drawn_and_their_slowest_hop_named(
    sessions: Sessions, tmp_path: Path
) -> None:
    await seed_london(sessions)
    ask_paths = ask("show me the network path to the london servers")
    reply = await historian(sessions, tmp_path, clock=utcnow).answer(ask_paths, OLGA)

    assert reply is not None and reply.outcome == "answer"
    assert reply.summary.startswith("Network paths to 3 host(s); 2 shared segment(s)")
    assert "Slowest hop: 10.1.0.1 -> 172.16.0.1 (+38.15 ms, on the path to api-02, web-03)." in reply.summary
    assert "Not reached: db-02." in reply.summary
    assert "for win-app-01, win-app-02, win-dc-01" in reply.summary  # london servers never traced
    assert "10.9.9.9" not in reply.summary and [s.title for s in reply.sections] == [
        "api-02",
        "db-02",
        "web-03",
    ]
    web = dict(next(s for s in reply.sections if s.title == "web-03").facts)
    assert (web["hops"], web["round trip"], web["reached"]) == ("4", "40.1 ms", "yes")

    (diagram,) = reply.files
    assert Path(diagram).parent == tmp_path
    pixels = imread(diagram)[..., :3]
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 800
    red = (pixels[..., 0] > 0.75) & (pixels[..., 1] < 0.3) & (pixels[..., 2] < 0.3)
    assert red.sum() > 200  # the slowest hop's link
    green = np.all(np.abs(pixels - (0xA5 / 255, 0xD6 / 255, 0xA7 / 255)) < 0.03, axis=-1)
    assert green.sum() > 2000  # the two reached hosts' nodes


async def test_without_stored_traceroutes_the_request_is_left_to_the_planner(sessions: Sessions) -> None:
    await store_trace(sessions, "new", "web-01", ("10.0.0.1", 0.3), ("192.0.2.11", 0.5))  # not in london
    reply = await historian(sessions, clock=utcnow).answer(
        ask("show me the network path to the london servers"), OLGA
    )
    assert reply is None  # planned as traceroutes, which store what the next question draws
