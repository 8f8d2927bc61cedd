"""Suggested requests as buttons: a click sends the request as the clicker's own message, with
their rights and the same approval rules, answered in the thread that offered it."""

from __future__ import annotations

from typing import Any

from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_requests import texts
from tests.fakes.memory import _Execution

OFFER = "choose read web-01 | write web-01"


async def offered(world: World) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ask something the (scripted) planner is unsure of; return the answer and its buttons."""
    await world.slack.mention(OFFER)
    [post] = world.api.of("chat.postMessage")
    [actions] = [b for b in post.args["blocks"] if b["type"] == "actions"]
    return post.args, actions["elements"]


def planned(world: World) -> list[_Execution]:
    """The executions with steps (the offer itself is recorded too, without any)."""
    return [e for e in world.store.executions.values() if e.plan.steps]


def click(world: World, answer: dict[str, Any], button: dict[str, Any], user: str) -> dict[str, Any]:
    [(_channel, ts), *_] = list(world.api.messages)
    payload = world.slack.action_payload(button["action_id"], button["value"], user=user, message_ts=ts)
    payload["message"]["thread_ts"] = answer["thread_ts"]
    payload["actions"][0]["block_id"] = "opsconductor_suggestions"
    return payload


async def test_the_answer_offers_each_suggestion_as_a_button(world: World) -> None:
    answer, buttons = await offered(world)
    assert "Which one did you mean?" in texts(answer["blocks"])
    assert [(b["value"], b["text"]["text"]) for b in buttons] == [
        ("read web-01", "read web-01"),
        ("write web-01", "write web-01"),
    ]
    assert len({b["action_id"] for b in buttons}) == 2  # Slack wants distinct ids in one block
    assert CALLS == []


async def test_a_click_on_a_read_runs_it_as_the_clicker_in_the_thread(world: World) -> None:
    answer, (read, _write) = await offered(world)
    response = await world.slack.action(click(world, answer, read, user="U3"))
    assert response.status == 200
    assert CALLS == [("read", "web-01")]
    [_offer, result] = world.api.of("chat.postMessage")
    assert result.args["thread_ts"] == answer["thread_ts"]
    assert "probe.read" in texts(result.args["blocks"])
    assert world.identities[-1].user_id == "U3"
    [execution] = planned(world)
    assert execution.principal.subject == "U3" and execution.message.text == "read web-01"


async def test_a_click_on_a_change_asks_for_approval_like_a_typed_request(world: World) -> None:
    answer, (_read, write) = await offered(world)
    await world.slack.action(click(world, answer, write, user="U1"))
    assert CALLS == []
    [_offer, prompt] = world.api.of("chat.postMessage")
    assert prompt.args["thread_ts"] == answer["thread_ts"]
    assert "Approval needed" in texts(prompt.args["blocks"])
    [execution] = planned(world)
    assert execution.principal.subject == "U1" and execution.status == "awaiting_approval"


async def test_a_click_does_not_lend_rights(world: World) -> None:
    """U2 may only read: the suggested change is refused for them as if they had typed it."""
    answer, (_read, write) = await offered(world)
    await world.slack.action(click(world, answer, write, user="U2"))
    assert CALLS == []
    [_offer, refusal] = world.api.of("chat.postMessage")
    assert "not permitted" in texts(refusal.args["blocks"]).lower()
    [execution] = planned(world)
    assert execution.plan.outcome == "refused" and execution.principal.subject == "U2"


async def test_the_same_click_delivered_twice_runs_once(world: World) -> None:
    answer, (read, _write) = await offered(world)
    payload = click(world, answer, read, user="U1")
    await world.slack.action(payload)
    await world.slack.action(payload)
    assert CALLS == [("read", "web-01")]


async def test_a_malformed_suggestion_runs_nothing(world: World) -> None:
    answer, (read, _write) = await offered(world)
    payload = click(world, answer, {**read, "value": ""}, user="U1")
    await world.slack.action(payload)
    assert CALLS == []
    [note] = world.api.responses
    assert "not one I know" in note["text"]
