"""Block Kit rendering and Slack text parsing, without a server: limits, escaping, order."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.rendering import shorten
from adapters.slack.parse import plain_text
from adapters.slack.render import SECTION_LIMIT, render_progress, render_prompt, render_reply
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


def test_shorten_keeps_short_text_and_bounds_long_text() -> None:
    assert shorten("abc", 10) == "abc"
    for size in (3001, 10_000, 1_000_000):
        out = shorten("y" * size, 3000)
        assert len(out) <= 3000
        cut = size - out.count("y")
        assert out.endswith(f"… (truncated, {cut:,} more characters)")


def test_reply_order_summary_sections_recommendations_and_escaping() -> None:
    reply = Reply(
        outcome="answer",
        summary="⚠️ probe on 2 target(s): 1 ok, 1 unreachable",
        sections=(
            ReplySection(title="web-01", status=TargetStatus.OK, facts=(("load", "0.5"),), text="<b>&"),
            ReplySection(title="db-01", status=TargetStatus.UNREACHABLE, facts=(("error", "refused"),)),
        ),
        recommendations=("db-01: check the route",),
        execution_id="abc",
    )
    message = render_reply(reply)
    texts = [b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in message.blocks]
    assert texts[0] == "*⚠️ probe on 2 target(s): 1 ok, 1 unreachable*"
    assert texts[1] == "✅ *web-01*\nload: 0.5\n```&lt;b&gt;&amp;```"
    assert texts[2].startswith("🔌 *db-01*")
    assert texts[3].startswith("*Recommendations*") and texts[4] == "execution `abc`"
    assert message.full_text is None  # nothing was cut


def test_many_long_sections_stay_within_slack_limits_problems_first() -> None:
    sections = tuple(
        ReplySection(
            title=f"host-{i:03d}",
            status=TargetStatus.FAILED if i % 50 == 49 else TargetStatus.OK,
            text="z" * 5000,
        )
        for i in range(300)
    )
    message = render_reply(Reply(outcome="answer", summary="big", sections=sections))
    assert len(message.blocks) <= 50
    sizes = [len(b["text"]["text"]) for b in message.blocks if b["type"] == "section"]
    assert max(sizes) <= SECTION_LIMIT and sum(sizes) <= 40_000
    shown = " ".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    assert all(f"host-{i:03d}" in shown for i in (49, 99, 149, 199, 249, 299))  # the failures
    assert message.full_text is not None and message.full_text.count("z" * 5000) == 300


def test_prompt_is_a_typed_plan_with_buttons_and_a_confirm_for_critical() -> None:
    step = PlanStep(
        id="s1",
        tool="automation.run_command",
        args={"command": "rm -rf <tmp>"},
        targets=(AssetRef(name="web-01", address="127.0.0.1"),),
        risk=Risk.CRITICAL,
    )
    prompt = ApprovalPrompt(
        execution_id="e1",
        plan=Plan(steps=(step,), requires_approval=True, four_eyes=True),
        requester="alice",
        requester_name="Alice",
        risk=Risk.CRITICAL,
        four_eyes=True,
        expires_at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC),
        summary="This plan needs approval before it runs (a second person must approve).",
    )
    blocks = render_prompt(prompt).blocks
    text = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "`automation.run_command`" in text and "🔴 critical" in text
    assert "`command` = `rm -rf &lt;tmp&gt;`" in text and "web-01" in text
    assert "expires* 2026-01-01 12:00:00 UTC" in text and "Alice" in text
    assert any("Four eyes" in b["elements"][0]["text"] for b in blocks if b["type"] == "context")
    [actions] = [b for b in blocks if b["type"] == "actions"]
    approve, reject, check = actions["elements"]
    assert approve["value"] == reject["value"] == check["value"] == "e1"
    assert "confirm" in approve and "confirm" not in reject


def test_progress_line() -> None:
    last = TargetResult(target="web-07", status=TargetStatus.TIMEOUT)
    event = Progress(execution_id="e", step_id="s1", tool="network.ping", done=7, total=200, last=last)
    assert (
        render_progress(event).blocks[0]["text"]["text"] == "⏳ `network.ping`: 7/200 done — last: ⏱️ web-07"
    )


def test_plain_text_undoes_slack_markup() -> None:
    raw = (
        "<@UBOT> email <mailto:ops@example.com|ops@example.com> about <https://x.org|x> "
        "in <#C1|ops> &amp; a&lt;b"
    )
    assert plain_text(raw, "UBOT") == "email ops@example.com about x in #ops & a<b"
    assert plain_text("<@UBOT|ops>   ping   web-01", "UBOT") == "ping web-01"
    assert plain_text("ask <@U123>", "UBOT") == "ask <@U123>"  # other people stay mentioned


def test_multi_line_answers_keep_their_layout_in_a_code_block() -> None:
    reply = Reply(
        outcome="no_action", summary="I run operations requests.\n\n  ping web-01      reachability"
    )
    first, second = render_reply(reply).blocks
    assert first["text"]["text"] == "*I run operations requests.*"
    assert second["text"]["text"] == "```\n  ping web-01      reachability```"
