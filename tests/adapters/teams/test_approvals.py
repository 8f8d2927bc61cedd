"""Approval round trips through recorded-shape card clicks: the invoke answered with the refreshed
card (who, when), the shared card updated in place, runs exactly once, refusals to the clicker,
Action.Submit, unknown verbs, progress and results delivered after the turn has ended."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.teams.app import CARD_RESPONSE, ERROR_RESPONSE, MESSAGE_RESPONSE
from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import CALLS, OTHER_TENANT, PEOPLE, World

STAMP = "Approved by Bob Approver at 2027-01-15 08:00:00 UTC"


async def ask(world: World, text: str = "write web-01", user: str = "U1") -> tuple[str, tuple[str, str]]:
    """Post a request that needs approval; return (execution id, (conversation, card id))."""
    await world.teams.post(world.teams.channel_message(text, user=user))
    [post] = world.connector.posted()
    approve, reject, check = actions(card_of(post.body))
    assert approve["data"] == reject["data"] == check["data"] and check["verb"] == "check"
    execution_id = approve["data"]["execution_id"]
    card_id = next(i for i, body in world.connector.messages.items() if body is post.body)
    return execution_id, (post.conversation, card_id)


async def click(world: World, activity: dict[str, Any], **kw: Any) -> dict[str, Any]:
    response = await world.teams.post(activity, **kw)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


def shown_card(world: World, card_id: str) -> str:
    return texts(card_of(world.connector.messages[card_id]))


async def test_the_prompt_card_shows_the_typed_plan_with_universal_actions(world: World) -> None:
    execution_id, (_, card_id) = await ask(world)
    content = card_of(world.connector.messages[card_id])
    shown = texts(content)
    assert "Approval needed" in shown and "probe.write" in shown and "🟠 write" in shown
    assert "Targets (1): web-01" in shown and "Requested by: aad-0001-alice" in shown
    assert "Expires: " in shown and f"Execution: {execution_id}" in shown
    approve, reject, _check = actions(content)
    assert approve["type"] == reject["type"] == "Action.Execute"
    assert (approve["verb"], reject["verb"]) == ("approve", "reject")
    digest = approve["data"]["digest"]  # the plan the card shows: a click is bound to it
    assert approve["data"] == {"execution_id": execution_id, "digest": digest} and len(digest) == 64
    assert approve["fallback"] == {
        "type": "Action.Submit",
        "title": "Approve",
        "data": {"verb": "approve", "execution_id": execution_id, "digest": digest},
    }
    assert content["version"] == "1.5" and CALLS == []


async def test_approve_answers_with_the_refreshed_card_and_runs_once(world: World) -> None:
    execution_id, card = await ask(world)
    invoke = world.teams.invoke("approve", execution_id, card)
    answer = await click(world, invoke)
    assert answer["statusCode"] == 200 and answer["type"] == CARD_RESPONSE
    assert STAMP in texts(answer["value"]) and "changed" in texts(answer["value"])
    assert actions(answer["value"]) == []  # no buttons once decided
    [update] = world.connector.of("update")
    assert update.activity_id == card[1] and update.conversation == card[0]
    assert STAMP in shown_card(world, card[1])  # everyone sees who decided
    assert CALLS == [("write", "web-01")]
    assert world.store.executions[execution_id].status == "succeeded"

    # the same invoke redelivered, then a second click: nothing runs twice
    again = await click(world, invoke)
    assert again == {"statusCode": 200, "type": MESSAGE_RESPONSE, "value": again["value"]}
    assert "handled once" in again["value"]
    late = await click(world, world.teams.invoke("approve", execution_id, card))
    assert late["type"] == MESSAGE_RESPONSE and "already approved by aad-0002-bob" in late["value"]
    assert CALLS == [("write", "web-01")]
    assert len(world.connector.of("update")) == 1


async def test_reject_runs_nothing_and_the_card_says_who(world: World) -> None:
    execution_id, card = await ask(world)
    answer = await click(world, world.teams.invoke("reject", execution_id, card))
    shown = texts(answer["value"])
    assert "Rejected by Bob Approver" in shown and "nothing was run" in shown
    assert "Rejected by Bob Approver" in shown_card(world, card[1])
    assert CALLS == [] and world.store.executions[execution_id].status == "rejected"


async def test_clickers_without_rights_are_told_privately_and_the_card_stays(world: World) -> None:
    execution_id, card = await ask(world)
    refused = await click(world, world.teams.invoke("approve", execution_id, card, user="U3"))
    unknown = await click(world, world.teams.invoke("approve", execution_id, card, user="U9"))
    assert refused["type"] == MESSAGE_RESPONSE and refused["value"].startswith("Not permitted")
    assert unknown["type"] == MESSAGE_RESPONSE and "don't know who you are" in unknown["value"]
    assert world.connector.of("update") == [] and CALLS == []
    assert world.store.approvals[execution_id].state == "pending"


async def test_approvals_naming_no_execution_or_another_tenants_run_nothing(world: World) -> None:
    execution_id, card = await ask(world)
    missing = await click(world, world.teams.invoke("approve", "0" * 32, card))
    foreign = await click(world, world.teams.invoke("approve", execution_id, card, tenant=OTHER_TENANT))
    assert missing["value"] == foreign["value"] == "I can't find a pending approval with that id."
    assert world.connector.of("update") == [] and CALLS == []
    assert world.store.approvals[execution_id].state == "pending"


@pytest.mark.parametrize(
    "verb, execution_id", [("launch", "abc123"), ("approve", ""), ("approve", "x" * 500)]
)
async def test_unknown_verbs_and_malformed_data_answer_an_error_and_run_nothing(
    world: World, verb: str, execution_id: str
) -> None:
    _, card = await ask(world)
    answer = await click(world, world.teams.invoke(verb, execution_id, card))
    assert answer["statusCode"] == 400 and answer["type"] == ERROR_RESPONSE
    assert answer["value"]["message"] == "That button is not one I know; nothing was run."
    assert CALLS == [] and world.connector.of("update") == []


async def test_action_submit_from_older_clients_updates_the_card_in_place(world: World) -> None:
    execution_id, card = await ask(world)
    refused = await world.teams.post(world.teams.submit("approve", execution_id, card, user="U3"))
    assert refused.status == 201
    shown = shown_card(world, card[1])
    assert "Not permitted" in shown and "Carol Operator" in shown
    assert len(actions(card_of(world.connector.messages[card[1]]))) == 3  # buttons still there
    assert CALLS == []

    await world.teams.post(world.teams.submit("approve", execution_id, card))
    assert STAMP in shown_card(world, card[1]) and "changed" in shown_card(world, card[1])
    assert CALLS == [("write", "web-01")]
    assert {u.activity_id for u in world.connector.of("update")} == {card[1]}


@pytest.mark.parametrize("config_overrides", [{"invoke_wait_s": 0.2}])
async def test_a_run_outlasting_the_click_is_delivered_after_the_turn(world: World) -> None:
    execution_id, card = await ask(world, "hold web-01")
    answer = await click(world, world.teams.invoke("approve", execution_id, card), drain=False)
    assert STAMP in texts(answer["value"]) and "Running" in texts(answer["value"])
    await world.gate.started.wait()
    assert CALLS == []
    world.gate.open.set()
    await world.adapter.drain()
    assert CALLS == [("hold", "web-01")]
    assert {u.activity_id for u in world.connector.of("update")} == {card[1]}
    assert STAMP in shown_card(world, card[1]) and "released" in shown_card(world, card[1])


@pytest.mark.parametrize("config_overrides", [{"invoke_wait_s": 0.2}])
async def test_a_slow_decision_is_shown_as_pending_then_settled(world: World) -> None:
    execution_id, card = await ask(world)
    slow = world.identity.gates[PEOPLE["U2"][0]] = asyncio.Event()
    answer = await click(world, world.teams.invoke("approve", execution_id, card), drain=False)
    assert "Bob Approver chose Approve at 2027-01-15 08:00:00 UTC" in texts(answer["value"])
    slow.set()
    await world.adapter.drain()
    assert STAMP in shown_card(world, card[1]) and CALLS == [("write", "web-01")]


@pytest.mark.parametrize("config_overrides", [{"invoke_wait_s": 0.2}])
async def test_a_slow_refusal_puts_the_prompt_back_with_the_reason(world: World) -> None:
    execution_id, card = await ask(world)
    slow = world.identity.gates[PEOPLE["U3"][0]] = asyncio.Event()
    answer = await click(world, world.teams.invoke("approve", execution_id, card, user="U3"), drain=False)
    assert "Carol Operator chose Approve" in texts(answer["value"])
    slow.set()
    await world.adapter.drain()
    content = card_of(world.connector.messages[card[1]])
    assert "Carol Operator: Not permitted" in texts(content) and len(actions(content)) == 3
    assert CALLS == [] and world.store.approvals[execution_id].state == "pending"


@pytest.mark.parametrize("config_overrides", [{"invoke_wait_s": 1.0, "progress_interval_s": 0.5}])
async def test_progress_updates_the_card_in_place_a_few_times(world: World) -> None:
    execution_id, card = await ask(world, "hold *6")
    answer = await click(world, world.teams.invoke("approve", execution_id, card), drain=False)
    assert STAMP in texts(answer["value"])  # the run started: the decision took effect
    await world.connector.until(
        lambda: any("1/6 done" in texts(card_of(u.body)) for u in world.connector.of("update"))
    )
    world.gate.open.set()
    await world.adapter.drain()
    assert sorted(CALLS) == [("hold", f"host-{i:03d}") for i in range(6)]
    updates = world.connector.of("update")
    assert 2 <= len(updates) <= 4 and {u.activity_id for u in updates} == {card[1]}
    assert len(world.connector.posted()) == 1  # the prompt; everything else in place
    final = shown_card(world, card[1])
    assert STAMP in final and "6 ok" in final


async def test_check_first_posts_the_check_and_keeps_the_prompt(world: World) -> None:
    execution_id, card = await ask(world)
    answer = await click(world, world.teams.invoke("check", execution_id, card))
    assert answer["type"] == CARD_RESPONSE
    assert (
        "asked for a check" in texts(answer["value"]) and len(actions(answer["value"])) == 3
    )  # buttons kept
    checks = [c for c in world.connector.posted() if "Check of execution" in texts(card_of(c.body))]
    assert len(checks) == 1 and "would change web-01" in texts(card_of(checks[0].body))
    assert CALLS == [("check", "web-01")] and world.store.approvals[execution_id].state == "pending"


async def test_undo_posts_an_approval_prompt_for_the_inverse(world: World) -> None:
    execution_id, card = await ask(world, "toggle on web-01")
    result = await click(world, world.teams.invoke("approve", execution_id, card))
    [undo_button] = actions(result["value"])
    assert undo_button["verb"] == "undo" and undo_button["data"] == {"execution_id": execution_id}
    assert "Undo possible until" in texts(result["value"])
    answer = await click(world, world.teams.invoke("undo", execution_id, card, user="U1"))
    assert answer["type"] == MESSAGE_RESPONSE and "asked to undo it" in answer["value"]
    prompts = [
        c for c in world.connector.posted() if f"Undo of execution {execution_id}" in texts(card_of(c.body))
    ]
    assert len(prompts) == 1 and "Approval needed" in texts(card_of(prompts[0].body))
    assert CALLS == [("toggle on", "web-01")]  # the undo waits for its approval
