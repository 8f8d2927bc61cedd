"""A plan requested in a Slack thread and decided through another door (the command line, the web
console or the API): the sweeper tells the thread as a click would, through the Slack stand-in's
real Web API methods: chat.update of the approval prompt (buttons gone) with who decided, when and
where, then the outcome; posted in the thread when the prompt is not known. Told once."""

from __future__ import annotations

from bot.sweeper import sweep_once
from pipeline.contracts import ChatIdentity, Decision, Reply
from pipeline.elsewhere import Teller
from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_approvals import ask
from tests.adapters.slack.test_requests import texts


def from_console(execution_id: str, approve: bool = True) -> Decision:
    """What `opsconductor approve ID` hands the kernel (bot.console.decide_once)."""
    identity = ChatIdentity(platform="console", user_id="U2", display_name="U2")
    return Decision(
        execution_id=execution_id, approve=approve, identity=identity, channel="console", any_workspace=True
    )


async def sweep(world: World) -> int:
    return await sweep_once(Teller(world.kernel.store, ["slack"]).due, {"slack": world.adapter.deliver})


async def test_an_approval_on_the_command_line_updates_the_prompt_in_the_thread(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    [prompt] = world.api.of("chat.postMessage")
    done = await world.kernel.decide(from_console(execution_id))
    assert isinstance(done, Reply) and done.outcome == "answer" and CALLS == [("write", "web-01")]
    assert await sweep(world) == 1
    assert await sweep(world) == 0  # told once
    [update] = world.api.of("chat.update")
    assert update.args["channel"] == prompt.args["channel"] and update.args["ts"] == ts
    shown = texts(update.args["blocks"])
    assert "✅ Approved by U2 on the command line at " in shown
    assert "probe.write" in shown and "web-01" in shown  # the outcome, as a click shows it
    assert "actions" not in [b["type"] for b in update.args["blocks"]]  # buttons gone
    assert world.api.of("chat.postMessage") == [prompt]


async def test_a_rejection_through_the_api_is_told_once_and_runs_nothing(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    identity = ChatIdentity(platform="api", user_id="U2", display_name="U2")
    decision = Decision(execution_id=execution_id, approve=False, identity=identity, any_workspace=True)
    await world.kernel.decide(decision)
    assert await sweep(world) == 1 and await sweep(world) == 0
    [update] = world.api.of("chat.update")
    shown = texts(update.args["blocks"])
    assert update.args["ts"] == ts and "🚫 Rejected by U2 through the API at " in shown
    assert "nothing was run" in shown and CALLS == []


async def test_without_the_prompt_the_decision_is_posted_in_the_thread(world: World) -> None:
    mention = {"type": "app_mention", "user": "U1", "text": "<@UBOT> write web-01", "channel": "C1"}
    await world.slack.event({**mention, "ts": "1.000001", "thread_ts": "1.000000"})
    [prompt] = world.api.of("chat.postMessage")
    execution_id = next(b for b in prompt.args["blocks"] if b["type"] == "actions")["elements"][0]["value"]
    await world.adapter.cache.delete(f"slack:prompt:{execution_id.partition(':')[0]}")  # expired
    await world.kernel.decide(from_console(execution_id.partition(":")[0]))
    assert await sweep(world) == 1
    _, told = world.api.of("chat.postMessage")
    assert told.args["channel"] == "C1" and told.args["thread_ts"] == "1.000000"
    assert "✅ Approved by U2 on the command line" in texts(told.args["blocks"])


async def test_a_click_in_the_thread_is_not_told_again(world: World) -> None:
    execution_id, ts, _ = await ask(world)
    await world.slack.action(world.slack.action_payload("opsconductor_approve", execution_id, message_ts=ts))
    assert CALLS == [("write", "web-01")]
    assert await sweep(world) == 0
    assert len(world.api.of("chat.update")) == 1  # the click's own update
