"""What Slack receives for big runs: few API calls, shortened output with a marker and the
full report as a file, 429 answers honoured, and a full queue said out loud."""

from __future__ import annotations

import time

import pytest

from adapters.rendering import truncation_marker
from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_requests import texts

CHAT = {"chat.postMessage", "chat.update"}


async def test_a_quick_200_target_run_costs_one_message_and_one_report(world: World) -> None:
    await world.slack.mention("read *200")
    assert len(CALLS) == 200
    chat = [m for m in world.api.methods() if m in CHAT]
    assert chat == ["chat.postMessage"]  # no progress for a run shorter than the interval
    [post] = world.api.of("chat.postMessage")
    assert len(post.args["blocks"]) <= 50
    assert "… and 170 more targets; the full report is attached." in texts(post.args["blocks"])
    assert world.api.methods()[-2:] == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    [report] = world.api.uploads
    assert report.decode().count("fine on host-") == 200  # nothing lost in the file


@pytest.mark.parametrize("adapter_config", [{"progress_interval_s": 0.1}])
async def test_progress_of_a_long_run_updates_one_message_throttled(world: World) -> None:
    started = time.monotonic()
    await world.slack.mention("slow *200")  # targets finish one by one over ~0.6 s
    elapsed = time.monotonic() - started
    assert len(CALLS) == 200
    [post] = world.api.of("chat.postMessage")
    updates = world.api.of("chat.update")
    assert "⏳ `probe.slow`" in texts(post.args["blocks"])  # progress, then the answer in place
    ts = world.api.messages.popitem()[0][1]
    assert all(u.args["ts"] == ts for u in updates)
    assert "probe.slow on 200 targets: 200 ok" in texts(updates[-1].args["blocks"])
    # throttled: at most one progress message per interval, plus the final answer
    assert 1 + len(updates) <= elapsed / 0.1 + 2
    assert 1 + len(updates) < 20  # "a handful", for 200 progress events


async def test_long_output_is_shortened_with_a_marker_and_attached_in_full(world: World) -> None:
    await world.slack.mention("output 50000 web-01")
    [post] = world.api.of("chat.postMessage")
    sections = [b["text"]["text"] for b in post.args["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    cut = next(text for text in sections if "truncated" in text)
    assert "… (truncated, 4" in cut and "more characters)" in cut
    [complete] = world.api.of("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C1"
    assert complete.args["thread_ts"] == post.args["thread_ts"]
    assert world.api.uploads[0].decode().count("x") >= 50_000


def test_marker_counts_what_was_cut() -> None:
    assert truncation_marker(12345) == "… (truncated, 12,345 more characters)"


async def test_rate_limited_calls_are_retried_after_retry_after(world: World) -> None:
    world.api.rate_limit_once("chat.postMessage")
    world.api.rate_limit_once("users.info")
    await world.slack.mention("read web-01")
    assert world.api.methods().count("chat.postMessage") == 2  # 429, then delivered
    assert world.api.methods().count("users.info") == 2
    [(_, message)] = world.api.messages.items()
    assert "probe.read" in message["text"]


@pytest.mark.parametrize("adapter_config", [{"queue_size": 1, "workers": 1}])
async def test_a_full_queue_tells_the_user_to_retry(world: World) -> None:
    await world.slack.mention("wait web-01", drain=False)
    await world.gate.started.wait()  # the one worker is busy
    await world.slack.mention("read web-02", drain=False)  # fills the queue
    await world.slack.mention("read web-03", drain=False)  # refused
    command = await world.slack.command("read web-04", drain=False)
    assert "busy" in await command.text()
    await world.slack.action(world.slack.action_payload("opsconductor_approve", "e" * 32), drain=False)
    world.gate.open.set()
    await world.adapter.drain()
    assert sorted(CALLS) == [("read", "web-02"), ("wait", "web-01")]
    busy = [c for c in world.api.of("chat.postMessage") if "busy" in (c.args.get("text") or "")]
    assert len(busy) == 1 and busy[0].args["thread_ts"]
    assert ["busy" in r["text"] for r in world.api.responses] == [True]
    metrics = await (await world.slack.client.get("/metrics")).text()
    assert "opsconductor_slack_queue_rejections_total 3.0" in metrics
