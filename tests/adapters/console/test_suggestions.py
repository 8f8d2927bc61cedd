"""The console offers suggested requests as numbered choices; sending the number sends that
request as the person's own (the whole pipeline in memory, the conversation kept in a cache)."""

from __future__ import annotations

import io

from rich.console import Console

from adapters.cache.inprocess import InProcessCache
from adapters.console.chat import ConsoleChat
from pipeline.contracts import ApprovalPrompt
from pipeline.conversation import Conversations
from tests.fakes.chat import FakeChat


async def test_a_number_sends_the_numbered_reading_with_the_usual_approval() -> None:
    fake = FakeChat(conversations=Conversations(InProcessCache()))
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    chat = ConsoleChat(fake.kernel.submit, fake.kernel.decide, fake._identity("olga"), console)

    unsure = await chat.handle("restart something on loopback-2 or whatever it needs")
    assert not isinstance(unsure, ApprovalPrompt) and unsure.suggestions
    shown = out.getvalue()
    assert "Send a number or the request:" in shown
    assert f"  1. {unsure.suggestions[0]}" in shown

    chosen = await chat.handle("1")
    assert isinstance(chosen, ApprovalPrompt)  # a change: approval, as if it had been typed
    assert chosen.requester == fake.memory_store.executions[chosen.execution_id].principal.subject
    assert [s.target_names for s in chosen.plan.steps] == [["loopback-2"]]
    assert fake.memory_store.executions[chosen.execution_id].message.text == "1"
