"""Item 8: a console requester is told what another person decided on their request, once, at
the start of their next command (the app on the embedded default; two console accounts)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bot.app import running_app
from bot.outcomes import outcome_line, tell_outcomes
from bot.settings import Settings
from db.execution_history import DecidedOutcome, ExecutionRow, StepRow
from pipeline.contracts import ApprovalPrompt, ChatIdentity, Decision, InboundMessage

ALICE = ChatIdentity(platform="console", user_id="alice")
BOB = ChatIdentity(platform="console", user_id="bob")
REQUEST = "restart nginx on localhost"


async def test_the_requester_hears_of_a_rejection_by_someone_else_once(tmp_path: Path) -> None:
    out = io.StringIO()
    terminal = Console(file=out, width=300)
    async with running_app(Settings(home=tmp_path / "home")) as app:
        assert await tell_outcomes(app, ALICE, terminal) == 0  # the first run only sets the marker
        prompt = await app.kernel.submit(
            InboundMessage(identity=ALICE, text=REQUEST, channel="console"), None
        )
        assert isinstance(prompt, ApprovalPrompt) and prompt.execution_id
        decision = Decision(identity=BOB, channel="console", execution_id=prompt.execution_id, approve=False)
        await app.kernel.decide(decision, None)

        assert await tell_outcomes(app, ALICE, terminal) == 1
        assert await tell_outcomes(app, ALICE, terminal) == 0  # told once
        assert await tell_outcomes(app, BOB, terminal) == 0  # bob decided it: no news for him
    told = out.getvalue().strip()
    assert told.startswith(f'📣 console:bob rejected your request "{REQUEST}" ({prompt.execution_id}) at ')
    assert len(told.splitlines()) == 1


def test_an_approved_request_is_told_with_how_it_ended() -> None:
    at = datetime(2026, 12, 4, 21, 5, tzinfo=UTC)
    result = {
        "results": [{"target": "web-01", "status": "ok", "output": {"summary": "restart nginx: now running"}}]
    }
    step = StepRow("s1", "automation.service_control", {}, ["web-01"], "write", "succeeded", at, at, result)
    run = ExecutionRow(
        "e1", REQUEST, "console:alice", "console", "succeeded", "plan", "write", at, at, at, steps=[step]
    )
    assert outcome_line(DecidedOutcome(run, "console:bob", True, at)) == (
        f'📣 console:bob approved your request "{REQUEST}" (e1) at 21:05 UTC: succeeded '
        "(web-01: restart nginx: now running)"
    )
