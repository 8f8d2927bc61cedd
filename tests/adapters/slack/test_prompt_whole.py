"""An approval prompt shows every argument whole, or attaches the whole plan and says so.

The attack: a long command whose dangerous tail sits past Slack's 3,000-character section
limit, which today's prompt cut off silently. Real signed requests to the real endpoint; the
Slack stand-in refuses what Slack refuses (more than 50 blocks, sections over 3,000 characters).
"""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.contracts import short_digest
from tests.adapters.slack.conftest import World
from tests.adapters.slack.test_requests import texts
from tests.fakes.probe_tools import TAIL, long_command


def shown_argument(blocks: list[dict[str, Any]]) -> str:
    """The `command` argument as an approver reads it across its sections (code blocks)."""
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    first = next(i for i, text in enumerate(sections) if text.startswith("*command* ("))
    pieces = [sections[first]]
    pieces += [t for t in sections[first + 1 :] if t.startswith("_(continued, part")]
    code = "".join(p[p.index("```") + 3 : p.rindex("```")] for p in pieces)
    return code.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u200b", "")


@pytest.mark.parametrize("size", [3_500, 12_000])
async def test_a_long_command_is_shown_whole_in_the_prompt(world: World, size: int) -> None:
    await world.slack.mention(f"exec {size} web-01")
    [post] = world.api.of("chat.postMessage")
    assert world.api.unexpected == []
    blocks = post.args["blocks"]
    assert shown_argument(blocks) == long_command(size) and shown_argument(blocks).endswith(TAIL)
    assert all(len(b.get("text", {}).get("text", "")) <= 3_000 for b in blocks)
    assert world.api.of("files.getUploadURLExternal") == []  # it fitted: nothing attached


async def test_a_plan_too_long_for_a_message_is_attached_and_the_prompt_says_so(world: World) -> None:
    await world.slack.mention("exec 60000 web-01")
    [post] = world.api.of("chat.postMessage")
    shown = texts(post.args["blocks"])
    digest = next(b for b in post.args["blocks"] if b["type"] == "actions")["elements"][0]["value"].split(
        ":"
    )[1]
    assert "This plan is too long to show here in full" in shown
    assert f"opsconductor-plan-{short_digest(digest)}.txt" in shown and short_digest(digest) in shown
    assert TAIL not in shown  # not half shown: an overview, and the file
    [upload] = world.api.uploads
    assert long_command(60_000) in upload.decode().replace("\n   | ", "\n").replace("   | ", "")
    assert digest in upload.decode()
    [complete] = world.api.of("files.completeUploadExternal")
    assert short_digest(digest) in str(complete.args)
