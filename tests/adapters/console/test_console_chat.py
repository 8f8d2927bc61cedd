"""The console adapter: rendering, y/N approvals, four-eyes hand-off, piped input."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from rich.console import Console

from adapters.console.chat import ConsoleChat, PipedLines
from adapters.console.render import as_json
from pipeline.contracts import (
    ApprovalPrompt,
    AssetRef,
    ChatIdentity,
    Decision,
    InboundMessage,
    Plan,
    PlanStep,
    Reply,
    ReplySection,
    Risk,
    TargetStatus,
)
from pipeline.ports import ProgressCallback

ME = ChatIdentity(platform="console", user_id="alice")
STEP = PlanStep(
    id="s1",
    tool="automation.service_control",
    args={"service": "nginx", "action": "restart"},
    targets=(AssetRef(name="web-02", address="127.0.0.2"),),
    risk=Risk.WRITE,
)


def prompt(four_eyes: bool = False, requester: str = "alice") -> ApprovalPrompt:
    return ApprovalPrompt(
        execution_id="ex1",
        plan=Plan(steps=(STEP,), requires_approval=True, four_eyes=four_eyes),
        requester=requester,
        risk=Risk.CRITICAL if four_eyes else Risk.WRITE,
        four_eyes=four_eyes,
        expires_at=datetime(2026, 1, 1, 12, 15, tzinfo=UTC),
        summary="This plan needs approval before it runs.",
    )


class Bot:
    """Records what the adapter hands to the pipeline."""

    def __init__(self, first: ApprovalPrompt | Reply) -> None:
        self.first = first
        self.messages: list[InboundMessage] = []
        self.decisions: list[Decision] = []

    async def submit(
        self, message: InboundMessage, progress: ProgressCallback | None
    ) -> ApprovalPrompt | Reply:
        self.messages.append(message)
        return self.first

    async def decide(self, decision: Decision, progress: ProgressCallback | None) -> Reply:
        self.decisions.append(decision)
        return Reply(outcome="answer", summary="restarted nginx on web-02")


def chat(bot: Bot, answer: str | None) -> tuple[ConsoleChat, io.StringIO]:
    out = io.StringIO()
    answers = (answer or "").split(",")  # one answer per question asked

    async def ask(question: str) -> str:
        assert "[y/N]" in question and "c: check first" in question
        return answers.pop(0)

    console = Console(file=out, width=120, color_system=None)
    return ConsoleChat(bot.submit, bot.decide, ME, console, ask=ask if answer is not None else None), out


async def test_yes_approves_and_shows_the_result() -> None:
    bot = Bot(prompt())
    console_chat, out = chat(bot, "y")
    await console_chat.handle("restart nginx on web-02")
    assert bot.messages[0].text == "restart nginx on web-02"
    assert [d.approve for d in bot.decisions] == [True]
    shown = out.getvalue()
    assert "automation.service_control [write]" in shown and "targets (1): web-02" in shown
    assert "service: nginx" in shown and "action: restart" in shown
    assert "restarted nginx on web-02" in shown


async def test_c_checks_first_then_asks_again() -> None:
    bot = Bot(prompt())
    console_chat, out = chat(bot, "c,y")
    await console_chat.handle("restart nginx on web-02")
    assert [(d.action, d.approve) for d in bot.decisions] == [("check", False), ("decide", True)]
    assert out.getvalue().count("restarted nginx on web-02") == 2  # the check's answer, then the run's


async def test_anything_but_yes_rejects() -> None:
    bot = Bot(prompt())
    console_chat, _ = chat(bot, "")
    await console_chat.handle("restart nginx on web-02")
    assert [d.approve for d in bot.decisions] == [False]


async def test_own_critical_plan_is_handed_to_a_second_person() -> None:
    bot = Bot(prompt(four_eyes=True, requester="console:alice"))  # subject differs from the chat id
    console_chat, out = chat(bot, "y")
    await console_chat.handle("reboot web-02")
    assert bot.decisions == []
    assert "opsconductor approve ex1" in out.getvalue()


async def test_non_interactive_prints_how_to_approve() -> None:
    bot = Bot(prompt())
    console_chat, out = chat(bot, None)
    await console_chat.handle("restart nginx on web-02")
    assert bot.decisions == [] and "opsconductor approve ex1" in out.getvalue()


async def test_reply_sections_and_long_output_are_rendered() -> None:
    reply = Reply(
        outcome="answer",
        summary="automation.read_file on 1 target(s): 1 ok",
        sections=(
            ReplySection(
                title="web-01",
                status=TargetStatus.OK,
                facts=(("status", "ok"), ("time", "12 ms")),
                text="\n".join(f"line {i}" for i in range(100)),
            ),
        ),
        recommendations=("look at line 99",),
    )
    bot = Bot(reply)
    console_chat, out = chat(bot, None)
    await console_chat.handle("tail /var/log/syslog on web-01")
    shown = out.getvalue()
    assert "web-01" in shown and "line 99" in shown and "60 earlier lines not shown" in shown
    assert "line 5\n" not in shown
    assert shown.index("Recommendations") > shown.index("line 99")


def test_json_form_of_an_approval_prompt() -> None:
    data = as_json(prompt(four_eyes=True))
    assert data["outcome"] == "awaiting_approval" and data["needs_approval"] and data["four_eyes"]
    assert data["plan"]["steps"][0]["targets"][0]["name"] == "web-02"


async def test_piped_lines_skip_invalid_utf8() -> None:
    errors = io.StringIO()
    lines = PipedLines(io.BytesIO(b"ping a\n\xffbad\nhelp\n"), Console(file=errors, color_system=None))
    got = [line async for line in lines]
    assert got == ["ping a", "help"] and lines.bad_lines == 1
    assert "stdin line 2: not valid UTF-8" in errors.getvalue()
