"""Charts, path diagrams and fetched files reach Teams as Teams lets a bot send them: an image as an
inline `data:` attachment in its own message (channels and personal chats alike), within the
connector's message size limit; anything else as a note saying why it is not attached."""

from __future__ import annotations

import asyncio
import base64
import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image

from adapters.charts import MatplotlibCharts
from pipeline.contracts import Reply
from pipeline.history import Sample
from tests.adapters.teams.conftest import World
from tests.fakes.bot_connector import MESSAGE_LIMIT


async def chart(folder: Path) -> str:
    """A real latency chart as the historian draws it: two noisy series over a week."""
    noise = random.Random(3)
    start = datetime(2026, 12, 1, tzinfo=UTC)
    series = {
        host: [Sample(start + timedelta(hours=h), base + noise.uniform(-0.4, 0.4)) for h in range(168)]
        for host, base in (("db-01", 2.0), ("db-02", 3.5))
    }
    return await MatplotlibCharts(folder).line("latency — the last week", "ms", series)


def decoded(attachment: dict[str, object]) -> Image.Image:
    url = str(attachment["contentUrl"])
    head, _, data = url.partition(",")
    assert head == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
    image.load()  # the whole PNG decodes
    return image


async def test_a_chart_is_shown_inline_after_the_answer_in_a_channel(world: World, tmp_path: Path) -> None:
    png = await chart(tmp_path)
    drawn = await asyncio.to_thread(Path(png).read_bytes)
    activity = world.teams.channel_message("read web-01")
    await world.teams.post(activity)
    [execution] = world.store.executions.values()

    await world.adapter.deliver(execution.message, Reply(outcome="answer", summary="latency", files=(png,)))

    answer, image = world.connector.posted()[-2:]
    assert answer.body["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert image.kind == "reply" and image.activity_id == activity["id"]  # in the request's thread
    [attachment] = image.body["attachments"]
    assert attachment["contentType"] == "image/png" and attachment["name"] == Path(png).name
    picture = decoded(attachment)
    assert (picture.format, picture.size) == ("PNG", (800, 400))
    assert base64.b64decode(str(attachment["contentUrl"]).partition(",")[2]) == drawn  # the chart as drawn
    assert len(picture.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 4  # lines, not a blank square
    assert len(drawn) > MESSAGE_LIMIT and world.connector.refused == []  # base64 images are not counted


async def test_in_a_personal_chat_too_and_other_files_get_a_note(world: World, tmp_path: Path) -> None:
    png = await chart(tmp_path)
    fetched = tmp_path / "nginx.conf"
    fetched.write_text("worker_processes auto;\n" * 400)
    huge = tmp_path / "big.png"
    Image.effect_noise((2000, 1500), 120).convert("RGB").save(huge)  # over 1024 px, and noise stays big
    await world.teams.post(world.teams.personal_message("read web-01"))
    [execution] = world.store.executions.values()
    reply = Reply(outcome="answer", summary="files", files=(png, str(fetched), str(huge)))

    await world.adapter.deliver(execution.message, reply)

    _answer, image, note = world.connector.posted()[-3:]
    assert decoded(image.body["attachments"][0]).size == (800, 400)
    text = note.body["text"]
    assert "nginx.conf (9 KB) is not attached: Teams does not let a bot post files" in text
    assert "big.png (" in text and "too large to show inline in Teams" in text
    assert not note.body.get("attachments") and world.connector.refused == []
