"""Console entry points: wire the console adapter to a running app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from adapters.console.chat import ConsoleChat, PipedLines, prompt_ask, prompt_lines
from adapters.console.render import as_json, print_response
from bot import preflight
from bot.app import console_identity, running_app
from bot.settings import Settings
from pipeline.contracts import Decision, InboundMessage, Response


async def chat_session(settings: Settings) -> int:
    """Interactive chat (or line-by-line from a pipe); returns the exit code."""
    console = Console(highlight=False)
    async with running_app(settings) as app:
        interactive = sys.stdin.isatty()
        chat = ConsoleChat(
            app.kernel.submit,
            app.kernel.decide,
            console_identity(),
            console,
            ask=prompt_ask if interactive else None,
        )
        if interactive:
            history = settings.home / "history"
            preflight.secure_home(settings.home)
            preflight.private_file(history)
            await chat.run(prompt_lines(history))
            return 0
        lines = PipedLines(sys.stdin.buffer, Console(stderr=True))
        await chat.run(lines.__aiter__())
        return 1 if lines.bad_lines else 0


async def ask_once(settings: Settings, text: str, *, as_json: bool) -> Response:
    async with running_app(settings) as app:
        message = InboundMessage(identity=console_identity(), text=text, channel="console")
        response = await app.kernel.submit(message, None)
    _emit(response, as_json)
    return response


async def decide_once(settings: Settings, decision: dict[str, Any], *, as_json: bool) -> Response:
    async with running_app(settings) as app:
        response = await app.kernel.decide(Decision(identity=console_identity(), **decision), None)
    _emit(response, as_json)
    return response


async def import_assets(settings: Settings, file: Path) -> int:
    from domains.assets.importer import import_file

    async with running_app(settings) as app:
        return await import_file(app.assets, file)


async def verify_audit(settings: Settings) -> tuple[bool, str]:
    async with running_app(settings) as app:
        report = await app.audit.verify()
    if report.ok:
        return True, f"audit chain intact: {report.records} records"
    return False, f"audit chain BROKEN at record {report.first_bad_seq}: {report.reason}"


def _emit(response: Response, json_output: bool) -> None:
    if json_output:
        import json

        print(json.dumps(as_json(response), indent=2, ensure_ascii=False, default=str))
    else:
        print_response(Console(highlight=False), response)
