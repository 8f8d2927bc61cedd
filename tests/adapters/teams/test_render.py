"""Adaptive Card rendering limits: huge output and many targets stay within Teams' message size,
with markers saying what was cut; foreign text cannot forge markdown; the plan is spelled out."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from botbuilder.core import serializer_helper

from adapters.teams.outbox import card_activity
from adapters.teams.render import (
    CARD_BUDGET,
    card_size,
    decision_stamp,
    inert,
    render_progress,
    render_prompt,
    render_reply,
)
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    Plan,
    PlanStep,
    Progress,
    Reply,
    ReplySection,
    Risk,
    TargetResult,
    TargetStatus,
)
from tests.adapters.teams.cards import texts

TEAMS_LIMIT = 28 * 1024


def activity_size(content: dict[str, object]) -> int:
    """The whole message as it travels to the Bot Connector (card plus activity framing)."""
    return len(json.dumps(serializer_helper(card_activity(content, "summary"))).encode())


def section(i: int, status: TargetStatus = TargetStatus.OK, text: str = "") -> ReplySection:
    return ReplySection(
        title=f"host-{i:03d}", status=status, facts=(("status", status.value), ("time", "3 ms")), text=text
    )


def test_huge_output_is_shortened_with_a_marker_and_fits() -> None:
    reply = Reply(
        outcome="answer",
        summary="3 targets",
        sections=tuple(section(i, text=f"line {i}\n" * 100_000) for i in range(3)),
        execution_id="e1",
    )
    content = render_reply(reply)
    shown = texts(content)
    assert card_size(content) <= CARD_BUDGET and activity_size(content) < TEAMS_LIMIT
    assert shown.count("(truncated,") == 3 and "more characters)" in shown
    assert "host-000" in shown and "host-002" in shown and "execution e1" in shown


def test_hundreds_of_targets_become_compact_rows_with_problems_first() -> None:
    sections = tuple(
        section(i, TargetStatus.UNREACHABLE if i % 50 == 7 else TargetStatus.OK, text="x" * 500)
        for i in range(400)
    )
    content = render_reply(Reply(outcome="answer", summary="400 targets", sections=sections))
    shown = texts(content)
    assert card_size(content) <= CARD_BUDGET and activity_size(content) < TEAMS_LIMIT
    rows = [line for line in shown.splitlines() if line.startswith(("✅", "🔌"))]
    assert rows[:8] == [f"🔌 host-{i:03d}: status: unreachable · time: 3 ms" for i in range(7, 400, 50)]
    omitted = next(line for line in shown.splitlines() if "not shown" in line)
    assert int(omitted.split()[2]) == 400 - len(rows)


def test_a_handful_of_targets_get_facts_and_output_each() -> None:
    content = render_reply(
        Reply(
            outcome="answer",
            summary="two",
            sections=(section(1, text="uptime 3 days"), section(2, TargetStatus.FAILED, text="boom")),
            recommendations=("Check host-002's disk.",),
        )
    )
    shown = texts(content)
    assert "✅ host-001" in shown and "❌ host-002" in shown and "uptime 3 days" in shown
    assert "**Recommendations**" in shown and "• Check host-002's disk." in shown
    outputs = [
        b
        for c in content["body"]
        if c["type"] == "Container"
        for b in c["items"]
        if b["type"] == "RichTextBlock"
    ]
    assert any(b["inlines"][0].get("fontType") == "Monospace" for b in outputs)


def test_foreign_text_in_facts_cannot_form_links_or_emphasis() -> None:
    assert "](" not in inert("[click](https://evil.example)") and "*" not in inert("**bold**")
    content = render_reply(
        Reply(outcome="answer", summary="s", sections=(ReplySection(title="t", facts=(("a", "[x](y)"),)),))
    )
    assert "[x](y)" not in texts(content)


def prompt(steps: int, risk: Risk = Risk.WRITE, four_eyes: bool = False) -> ApprovalPrompt:
    plan = Plan(
        steps=tuple(
            PlanStep(
                id=f"s{i}",
                tool="automation.restart_service",
                args={"service": "nginx"},
                targets=(AssetRef(name=f"web-{i:02d}", address="127.0.0.1"),),
                risk=risk,
            )
            for i in range(steps)
        ),
        requires_approval=True,
        four_eyes=four_eyes,
    )
    return ApprovalPrompt(
        execution_id="exec42",
        plan=plan,
        requester="aad-1",
        requester_name="Alice",
        risk=risk,
        four_eyes=four_eyes,
        expires_at=datetime(2027, 1, 15, 8, 15, tzinfo=UTC),
        summary="This plan needs approval before it runs (a second person must approve).",
    )


def test_the_prompt_spells_out_tools_targets_arguments_risk_expiry_and_four_eyes() -> None:
    content = render_prompt(prompt(25, Risk.CRITICAL, four_eyes=True))
    shown = texts(content)
    assert "1. automation.restart_service · 🔴 critical" in shown
    assert "Targets (1): web-00" in shown and "service (5 characters):\nnginx" in shown
    assert "Expires: 2027-01-15 08:15:00 UTC" in shown and "Requested by: Alice" in shown
    assert "25. automation.restart_service" in shown and "Four eyes" in shown  # no step left out
    assert card_size(content) <= CARD_BUDGET


def test_progress_and_the_decision_stamp() -> None:
    when = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    last = TargetResult(target="web-07", status=TargetStatus.TIMEOUT)
    event = Progress(execution_id="e", step_id="s1", tool="network.ping", done=7, total=200, last=last)
    shown = texts(render_progress(event, [decision_stamp("Bob", True, when)]))
    assert shown.splitlines() == [
        "✅ Approved by Bob at 2027-01-15 08:00:00 UTC",
        "⏳ network.ping: 7/200 done — last: ⏱️ web-07",
    ]
