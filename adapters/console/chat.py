"""The console chat adapter: a REPL with history, coloured output and y/N approval questions.

It receives `submit` and `decide` callables from the composition root and the local
user's chat identity; it knows nothing else of the app.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import BinaryIO

from rich.console import Console

from adapters.console.live import LiveLines
from adapters.console.render import print_response
from pipeline.contracts import ApprovalPrompt, ChatIdentity, Decision, InboundMessage, Response
from pipeline.ports import Decide, Submit

Ask = Callable[[str], Awaitable[str]]
EXIT_WORDS = {"exit", "quit", "bye", ":q"}
BANNER = "OpsConductor console. Type `help` for what I can do, `exit` to leave."


class ConsoleChat:
    """One local user talking to the bot."""

    def __init__(
        self,
        submit: Submit,
        decide: Decide,
        identity: ChatIdentity,
        console: Console,
        ask: Ask | None = None,
    ) -> None:
        self.submit = submit
        self.decide = decide
        self.identity = identity
        self.console = console
        self.ask = ask

    async def handle(self, text: str) -> Response:
        """Send one line; answer approval questions when interactive. Returns the last response."""
        message = InboundMessage(identity=self.identity, text=text, channel="console")
        response = await self.submit(message, LiveLines(self.console))
        print_response(self.console, response)
        if isinstance(response, ApprovalPrompt) and self.ask is not None:
            return await self._approve(response)
        if isinstance(response, ApprovalPrompt):
            self.console.print(
                f"To decide, run: opsconductor approve {response.execution_id} (or --reject)",
                style="dim",
            )
        return response

    async def _approve(self, prompt: ApprovalPrompt) -> Response:
        assert self.ask is not None
        if prompt.four_eyes:  # the console user is the requester: a second person must decide
            self.console.print(
                "A second person must approve this: they run "
                f"`opsconductor approve {prompt.execution_id}` within the expiry time.",
                style="yellow",
            )
            return prompt
        while True:
            answer = (await self.ask("Approve and run it now? [y/N] (c: check first) ")).strip().lower()
            if answer not in {"c", "check"}:
                break
            check = Decision(
                execution_id=prompt.execution_id, approve=False, identity=self.identity, action="check"
            )
            print_response(self.console, await self.decide(check, None))
        decision = Decision(
            execution_id=prompt.execution_id,
            approve=answer in {"y", "yes"},
            identity=self.identity,
            channel="console",
        )
        response = await self.decide(decision, LiveLines(self.console))
        print_response(self.console, response)
        return response

    async def run(self, lines: AsyncIterator[str]) -> None:
        self.console.print(BANNER, style="dim")
        async for line in lines:
            if line.strip().lower() in EXIT_WORDS:
                break
            if line.strip():
                await self.handle(line)


async def prompt_lines(history: Path, redact: Callable[[str], str] = str) -> AsyncIterator[str]:
    """Interactive lines with history (prompt_toolkit); ends on Ctrl-D.

    The history file keeps each line as `redact` leaves it (a typed `mysql -pS3cret` is
    recalled within the session, never written to disk).
    """
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory

    class RedactedFileHistory(FileHistory):
        def store_string(self, string: str) -> None:
            super().store_string(redact(string))

    history.parent.mkdir(parents=True, exist_ok=True)
    session: PromptSession[str] = PromptSession(history=RedactedFileHistory(str(history)))
    while True:
        try:
            yield await session.prompt_async("ops> ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            return


async def prompt_ask(question: str) -> str:
    from prompt_toolkit import PromptSession

    session: PromptSession[str] = PromptSession()
    try:
        return await session.prompt_async(question)
    except (EOFError, KeyboardInterrupt):
        return "n"


class PipedLines:
    """Lines from a non-interactive stdin; invalid UTF-8 is reported per line, never fatal."""

    def __init__(self, stream: BinaryIO, errors: Console) -> None:
        self.stream = stream
        self.errors = errors
        self.bad_lines = 0

    async def __aiter__(self) -> AsyncIterator[str]:
        for number, raw in enumerate(self.stream, 1):
            try:
                yield raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                self.bad_lines += 1
                self.errors.print(f"stdin line {number}: not valid UTF-8; line ignored", style="red")
            await asyncio.sleep(0)


def stdin_is_interactive() -> bool:
    return sys.stdin.isatty()
