"""Expired approvals are told to the requester in the request's thread, once, by the sweeper."""

from __future__ import annotations

from datetime import timedelta

from bot.sweeper import sweep_once
from pipeline.contracts import utcnow
from tests.adapters.slack.conftest import CALLS, World
from tests.adapters.slack.test_approvals import ask
from tests.adapters.slack.test_requests import texts


async def test_expiry_is_posted_in_the_request_thread_once(world: World) -> None:
    execution_id, _ts, _ = await ask(world)
    [prompt] = world.api.of("chat.postMessage")
    deliverers = {"slack": world.adapter.deliver}
    assert await sweep_once(world.kernel.expire_due, deliverers) == 0  # not due yet
    later = utcnow() + timedelta(hours=1)
    world.kernel.clock = lambda: later
    assert await sweep_once(world.kernel.expire_due, deliverers) == 1
    assert await sweep_once(world.kernel.expire_due, deliverers) == 0  # told once
    _, notice = world.api.of("chat.postMessage")
    assert notice.args["channel"] == prompt.args["channel"]
    assert notice.args.get("thread_ts") == prompt.args.get("thread_ts")
    assert "expired" in texts(notice.args["blocks"]) and "nothing was run" in texts(notice.args["blocks"])
    assert world.store.executions[execution_id].status == "expired"
    assert CALLS == []
