"""Suggested requests as Action.Submit buttons: a click sends the request as the clicker's own
message (their rights, the same approval rules), answered in the conversation that offered it."""

from __future__ import annotations

from typing import Any

from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import CALLS, World
from tests.fakes.memory import _Execution


async def offered(world: World) -> tuple[tuple[str, str], list[dict[str, Any]]]:
    """Ask something the (scripted) planner is unsure of; return (conversation, card id) and buttons."""
    await world.teams.post(world.teams.channel_message("choose read web-01 | write web-01"))
    [post] = world.connector.posted()
    card_id = next(i for i, body in world.connector.messages.items() if body is post.body)
    assert "Which one did you mean?" in texts(card_of(post.body))
    return (post.conversation, card_id), actions(card_of(post.body))


def pressed(world: World, card: tuple[str, str], button: dict[str, Any], user: str) -> dict[str, Any]:
    """What Teams sends for an Action.Submit: a message whose value is the button's data."""
    activity = world.teams.submit("suggest", "", card, user=user)
    activity["value"] = button["data"]
    return activity


def planned(world: World) -> list[_Execution]:
    return [e for e in world.store.executions.values() if e.plan.steps]


async def test_each_suggestion_is_an_action_submit(world: World) -> None:
    _card, buttons = await offered(world)
    assert [(b["type"], b["title"], b["data"]) for b in buttons] == [
        ("Action.Submit", "read web-01", {"verb": "suggest", "text": "read web-01"}),
        ("Action.Submit", "write web-01", {"verb": "suggest", "text": "write web-01"}),
    ]
    assert CALLS == []


async def test_a_click_runs_the_read_as_the_clicker_in_the_same_thread(world: World) -> None:
    card, (read, _write) = await offered(world)
    await world.teams.post(pressed(world, card, read, user="U3"))
    assert CALLS == [("read", "web-01")]
    [execution] = planned(world)
    assert execution.message.identity.user_id == "aad-0003-carol"
    assert execution.message.text == "read web-01"
    answer = world.connector.posted()[-1]
    assert answer.conversation == card[0] and "probe.read" in texts(card_of(answer.body))


async def test_a_click_on_a_change_asks_for_approval_and_lends_no_rights(world: World) -> None:
    card, (_read, write) = await offered(world)
    await world.teams.post(pressed(world, card, write, user="U1"))
    await world.teams.post(pressed(world, card, write, user="U2"))  # an approver may not write
    assert CALLS == []
    by_person = {e.message.identity.user_id: e for e in planned(world)}
    assert by_person["aad-0001-alice"].status == "awaiting_approval"
    assert by_person["aad-0002-bob"].plan.outcome == "refused"


async def test_a_malformed_suggestion_runs_nothing(world: World) -> None:
    card, _buttons = await offered(world)
    await world.teams.post(pressed(world, card, {"data": {"verb": "suggest", "text": 5}}, user="U1"))
    assert CALLS == [] and planned(world) == []
    assert "not one I know" in str(world.connector.posted()[-1].body)
