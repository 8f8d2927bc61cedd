"""Answers after the request's turn, through stored conversation references: an expired approval
replaces its card in place (the server's expiry sweeper calling `TeamsAdapter.deliver`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.sweeper import sweep_once
from pipeline.contracts import Reply
from tests.adapters.teams.cards import actions, card_of, texts
from tests.adapters.teams.conftest import CALLS, World


async def test_an_expired_approval_replaces_its_card_in_place(world: World) -> None:
    await world.teams.post(world.teams.channel_message("write web-01"))
    [prompt] = world.connector.posted()
    card_id = next(i for i, body in world.connector.messages.items() if body is prompt.body)
    world.clock.offset = timedelta(hours=1)
    assert await sweep_once(world.kernel.expire_due, {"teams": world.adapter.deliver}) == 1
    [update] = world.connector.of("update")
    assert update.activity_id == card_id and update.conversation == prompt.conversation
    content = card_of(world.connector.messages[card_id])
    assert "expired" in texts(content) and actions(content) == []
    assert CALLS == [] and len(world.connector.posted()) == 1


async def test_a_later_answer_without_a_card_is_posted_in_the_requests_thread(world: World) -> None:
    activity = world.teams.channel_message("read web-01")
    await world.teams.post(activity)
    [execution] = world.store.executions.values()
    await world.adapter.deliver(execution.message, Reply(outcome="answer", summary="finished elsewhere"))
    later = world.connector.posted()[-1]
    assert later.kind == "reply" and later.activity_id == activity["id"]
    assert "finished elsewhere" in texts(card_of(later.body))


async def test_delivery_for_an_unknown_request_says_so(world: World) -> None:
    await world.teams.post(world.teams.personal_message("read web-01"))
    [execution] = world.store.executions.values()
    stranger = execution.message.model_copy(update={"message_id": "teams:never-seen"})
    with pytest.raises(LookupError):
        await world.adapter.deliver(stranger, Reply(outcome="answer", summary="x"))
