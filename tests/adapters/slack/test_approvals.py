"""Approval round trips through real button payloads: who decided and when, exactly-once runs,
refusals to the clicker only, forged and unknown buttons."""

from __future__ import annotations

from typing import Any

from pipeline.contracts import TargetStatus
from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_requests import texts


async def ask(world: World, text: str = "write web-01", user: str = "U1") -> tuple[str, str, list[Any]]:
    """Post a write request; return (execution id, prompt ts, prompt blocks)."""
    await world.slack.mention(text, user=user)
    [post] = world.api.of("chat.postMessage")
    actions = next(b for b in post.args["blocks"] if b["type"] == "actions")
    approve, reject, check = actions["elements"]
    assert approve["action_id"] == "opsconductor_approve" and reject["action_id"] == "opsconductor_reject"
    assert check["action_id"] == "opsconductor_check" and check["text"]["text"] == "Check first"
    assert approve["value"] == reject["value"] == check["value"]
    [(_channel, ts)] = world.api.messages
    execution_id, _, digest = approve["value"].partition(":")  # the button carries the plan digest
    assert len(digest) == 64
    return execution_id, ts, post.args["blocks"]


async def test_prompt_shows_the_typed_plan(world: World) -> None:
    execution_id, _, blocks = await ask(world)
    shown = texts(blocks)
    assert "Approval needed" in shown
    assert "`probe.write`" in shown and "*Targets (1):* web-01 (127.0.0.1)" in shown
    assert "🟠 write" in shown and "expires" in shown
    assert execution_id in shown
    assert CALLS == []


async def test_approve_runs_once_and_the_message_says_who_and_when(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    click = world.slack.action_payload(
        "opsconductor_approve", execution_id, message_ts=ts, action_ts="1800000000.5"
    )
    response = await world.slack.action(click)
    assert response.status == 200
    [update] = world.api.of("chat.update")
    assert update.args["ts"] == ts and update.args["channel"] == "C1"
    shown = texts(update.args["blocks"])
    assert "✅ Approved by <@U2> at 2027-01-15 08:00:00 UTC" in shown
    assert "probe.write" in shown
    assert "actions" not in [b["type"] for b in update.args["blocks"]]  # buttons gone
    assert CALLS == [("write", "web-01")]
    assert world.store.executions[execution_id].status == "succeeded"

    # the same click delivered again, and a second click by the same person: nothing runs twice
    await world.slack.action(click)
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    assert CALLS == [("write", "web-01")]
    assert len(world.api.of("chat.update")) == 1
    [late] = world.api.responses
    assert late["response_type"] == "ephemeral" and "already approved by U2" in late["text"]


async def test_reject_runs_nothing_and_says_who(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    await world.slack.action(world.slack.action_payload("opsconductor_reject", execution_id, message_ts=ts))
    [update] = world.api.of("chat.update")
    shown = texts(update.args["blocks"])
    assert "🚫 Rejected by <@U2>" in shown and "nothing was run" in shown
    assert CALLS == []
    assert world.store.executions[execution_id].status == "rejected"


async def test_a_clicker_without_rights_is_told_privately_and_the_prompt_stays(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    await world.slack.action(
        world.slack.action_payload("opsconductor_approve", execution_id, user="U3", message_ts=ts)
    )
    await world.slack.action(
        world.slack.action_payload("opsconductor_approve", execution_id, user="U9", message_ts=ts)
    )
    assert world.api.of("chat.update") == []
    refused, unknown = world.api.responses
    assert refused["response_type"] == "ephemeral" and refused["text"].startswith("Not permitted")
    assert "don't know who you are" in unknown["text"]
    assert CALLS == []
    assert world.store.approvals[execution_id].state == "pending"


async def test_buttons_naming_no_execution_or_another_workspace_run_nothing(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    await world.slack.action(world.slack.action_payload("opsconductor_approve", "0" * 32, message_ts=ts))
    await world.slack.action(
        world.slack.action_payload("opsconductor_approve", execution_id, team="T2", message_ts=ts)
    )
    assert [r["text"] for r in world.api.responses] == ["I can't find a pending approval with that id."] * 2
    assert world.api.of("chat.update") == [] and CALLS == []
    assert world.store.approvals[execution_id].state == "pending"


async def test_unknown_action_ids_and_malformed_buttons_are_acked_and_run_nothing(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    response = await world.slack.action(
        world.slack.action_payload("launch_missiles", execution_id, message_ts=ts)
    )
    assert response.status == 200
    empty = world.slack.action_payload("opsconductor_approve", "", message_ts=ts)
    assert (await world.slack.action(empty)).status == 200
    huge = world.slack.action_payload("opsconductor_approve", "x" * 5000, message_ts=ts)
    assert (await world.slack.action(huge)).status == 200
    assert [r["text"] for r in world.api.responses] == ["That button is not one I know; nothing was run."] * 3
    assert CALLS == [] and world.store.approvals[execution_id].state == "pending"


async def test_an_approved_run_of_many_targets_updates_the_prompt_in_place(world: World) -> None:
    execution_id, ts, _ = await ask(world, "write *120")
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    assert len(CALLS) == 120
    assert all(u.args["ts"] == ts for u in world.api.of("chat.update"))
    final = world.api.messages[("C1", ts)]
    assert "Approved by <@U2>" in texts(final["blocks"])
    assert len(final["blocks"]) <= 50
    result = world.store.executions[execution_id].steps["s1"].results
    assert {r.status for r in result} == {TargetStatus.OK}


async def test_check_first_answers_in_the_thread_and_the_prompt_keeps_its_buttons(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    click = world.slack.action_payload("opsconductor_check", execution_id, message_ts=ts)
    response = await world.slack.action(click)
    assert response.status == 200
    assert world.api.of("chat.update") == []  # the prompt stays as it was, buttons and all
    posts = world.api.of("chat.postMessage")
    assert len(posts) == 2 and posts[1].args["thread_ts"] == ts
    shown = texts(posts[1].args["blocks"])
    assert "🔎 Check requested by <@U2>" in shown
    assert f"Check of execution {execution_id} (nothing was changed, the approval is still open)" in shown
    assert "would change web-01" in shown
    assert CALLS == [("check", "web-01")]  # the check ran; the change did not
    assert world.store.approvals[execution_id].state == "pending"
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    assert CALLS == [("check", "web-01"), ("write", "web-01")]  # still approvable afterwards


async def test_undo_button_plans_the_inverse_for_approval_in_the_thread(world: World) -> None:
    execution_id, ts, _ = await ask(world, "toggle on web-01")
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    [update] = world.api.of("chat.update")
    undo_actions = [b for b in update.args["blocks"] if b["type"] == "actions"]
    [[button]] = [a["elements"] for a in undo_actions]
    assert button["action_id"] == "opsconductor_undo" and button["value"] == execution_id
    assert "Undo possible until" in texts(
        update.args["blocks"]
    ) and "probe.toggle state=off on web-01" in texts(update.args["blocks"])
    assert CALLS == [("toggle on", "web-01")]

    await world.slack.action(
        world.slack.action_payload("opsconductor_undo", execution_id, user="U1", message_ts=ts)
    )
    assert len(world.api.of("chat.update")) == 1  # the result keeps its message
    posts = world.api.of("chat.postMessage")
    assert len(posts) == 2 and posts[1].args["thread_ts"] == ts
    prompt = texts(posts[1].args["blocks"])
    assert "↩️ Undo requested by <@U1>" in prompt and f"Undo of execution {execution_id}" in prompt
    assert "Approval needed" in prompt and CALLS == [("toggle on", "web-01")]  # nothing runs unapproved
    undo_id = next(b for b in posts[1].args["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    undo_id = undo_id.partition(":")[0]
    assert undo_id != execution_id and world.store.executions[undo_id].plan.undo_of == execution_id

    [(_, undo_ts), *_] = [m for m in world.api.messages if m[1] != ts]
    await world.slack.action(world.slack.action_payload("opsconductor_approve", undo_id, message_ts=undo_ts))
    assert CALLS == [("toggle on", "web-01"), ("toggle off", "web-01")]
    assert world.store.executions[undo_id].status == "succeeded"
