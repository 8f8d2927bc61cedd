"""A history answer's chart reaches the Slack thread as a PNG (files.uploadV2 flow) through the
real Slack adapter, from a signed mention to the Slack stand-in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from db.engine import create_engine, session_factory
from db.migrate import upgrade
from pipeline.contracts import utcnow
from tests.adapters.slack.conftest import World
from tests.db.test_history import historian, seed_pings
from tests.db.test_network_paths import seed_london

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_a_trend_answer_uploads_its_chart_into_the_thread(world: World, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/history.db"
    await upgrade(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        now = utcnow()
        await seed_pings(
            sessions, "db-01", [(now - timedelta(hours=h), 2.0 + (h % 3) / 10) for h in range(48, 0, -1)]
        )
        world.kernel.history = historian(sessions, tmp_path / "charts", clock=utcnow)
        await world.slack.mention("how has latency to db-01 changed over the last 2 days?")
    finally:
        await engine.dispose()

    [post] = world.api.of("chat.postMessage")
    assert "Latency over the last 2 days: db-01" in post.args["text"]
    [complete] = world.api.of("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C1"
    assert complete.args["thread_ts"] == post.args["thread_ts"]
    [chart] = world.api.uploads
    assert chart.startswith(PNG_MAGIC)
    (drawn,) = (tmp_path / "charts").iterdir()
    assert drawn.read_bytes() == chart
    assert "history.answer" in world.audit.events()


async def test_a_network_path_answer_uploads_its_diagram_into_the_thread(
    world: World, tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/paths.db"
    await upgrade(url)
    engine = create_engine(url)
    try:
        sessions = session_factory(engine)
        await seed_london(sessions)
        world.kernel.history = historian(sessions, tmp_path / "charts", clock=utcnow)
        await world.slack.mention("show me the network path to the london servers")
    finally:
        await engine.dispose()

    [post] = world.api.of("chat.postMessage")
    assert "Slowest hop: 10.1.0.1 -> 172.16.0.1" in post.args["text"]
    [complete] = world.api.of("files.completeUploadExternal")
    assert complete.args["thread_ts"] == post.args["thread_ts"]
    [diagram] = world.api.uploads
    assert diagram.startswith(PNG_MAGIC)
    (drawn,) = (tmp_path / "charts").iterdir()
    assert drawn.name.startswith("paths-") and drawn.read_bytes() == diagram
