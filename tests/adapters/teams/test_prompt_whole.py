"""An approval card shows every argument whole, or the whole plan just above it, and says so.

The attack: a long command whose dangerous tail sat past the 600 characters today's card kept.
Real signed activities to the real endpoint; the Bot Connector stand-in refuses messages over
Teams' size limit as Teams does.
"""

from __future__ import annotations

from pipeline.contracts import short_digest
from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import World
from tests.fakes.probe_tools import TAIL, long_command


async def test_a_long_command_is_shown_whole_on_the_card(world: World) -> None:
    await world.teams.post(world.teams.channel_message("exec 5000 web-01"))
    [post] = world.connector.posted()
    shown = texts(card_of(post.body))
    assert f"command (5,000 characters):\n{long_command(5000)}" in shown and TAIL in shown
    assert world.connector.refused == [] and world.connector.unexpected == []


async def test_a_plan_too_long_for_a_card_is_posted_whole_above_it(world: World) -> None:
    await world.teams.post(world.teams.channel_message("exec 60000 web-01"))
    posts = world.connector.posted()
    assert world.connector.refused == [] and world.connector.unexpected == []
    *parts, prompt = posts
    card = card_of(prompt.body)
    digest = actions(card)[0]["data"]["digest"]
    notice = texts(card)
    assert f"in the {len(parts)} message(s) just above" in notice and short_digest(digest) in notice
    assert TAIL not in notice
    whole = "".join(texts(card_of(p.body)).split("\n", 1)[1] for p in parts)
    assert whole.startswith("Approval needed") and digest in whole
    assert long_command(60_000) in whole.replace("\n   | ", "\n").replace("   | ", "")
    for index, part in enumerate(parts, 1):
        assert texts(card_of(part.body)).startswith(
            f"Plan {short_digest(digest)}, part {index} of {len(parts)}"
        )
