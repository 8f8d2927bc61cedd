"""Console entry points: wire the console adapter to a running app."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from adapters.console.chat import ConsoleChat, PipedLines, prompt_ask, prompt_lines
from adapters.console.output import stdout_console
from adapters.console.render import as_json, print_response
from bot import preflight
from bot.app import App, console_identity, roles_file, running_app
from bot.outcomes import tell_outcomes
from bot.settings import Settings
from pipeline.contracts import ChatIdentity, Decision, InboundMessage, Reply, Response
from pipeline.errors import OpsError

UNKNOWN_IN_KEYCLOAK = (
    "you are the OS account '{user}' (uid {uid}); Keycloak at {url} (realm {realm}) has no enabled "
    "user whose attribute '{attribute}' is '{user}': an administrator adds that value to your "
    "Keycloak user (OPSCONDUCTOR_KEYCLOAK__CONSOLE_ATTRIBUTE names the attribute)"
)
UNKNOWN_IN_ROLES_FILE = (
    "you are the OS account '{user}' (uid {uid}), which the roles file {path} does not list: add "
    "`console: {user}` to your person there (OPSCONDUCTOR_SECURITY__ROLES_FILE names the file)"
)


async def chat_session(settings: Settings) -> int:
    """Interactive chat (or line-by-line from a pipe); returns the exit code."""
    console = stdout_console()
    async with running_app(settings) as app:
        interactive = sys.stdin.isatty()
        await explain_if_unknown(app, console_identity())
        await tell_outcomes(app, console_identity(), console)
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
            await chat.run(prompt_lines(history, app.redactor.redact_text))
            return 0
        lines = PipedLines(sys.stdin.buffer, Console(stderr=True))
        await chat.run(lines.__aiter__())
        return 1 if lines.bad_lines else 0


async def ask_once(settings: Settings, text: str, *, as_json: bool, check: bool = False) -> Response:
    async with running_app(settings) as app:
        await tell_outcomes(app, console_identity(), Console(stderr=True, highlight=False))
        message = InboundMessage(identity=console_identity(), text=text, channel="console", check=check)
        response = await app.kernel.submit(message, None)
        if _refused(response):
            await explain_if_unknown(app, message.identity)
    _emit(response, as_json)
    return response


async def decide_once(settings: Settings, decision: dict[str, Any], *, as_json: bool) -> Response:
    async with running_app(settings) as app:
        identity = console_identity()
        await tell_outcomes(app, identity, Console(stderr=True, highlight=False))
        # the OS account was mapped through the identity source: it decides on requests from any chat
        decided = Decision(identity=identity, channel="console", any_workspace=True, **decision)
        response = await app.kernel.decide(decided, None)
        if _refused(response):
            await explain_if_unknown(app, identity)
    _emit(response, as_json)
    return response


async def import_assets(settings: Settings, file: Path) -> int:
    from domains.assets.importer import import_file

    async with running_app(settings) as app:
        return await import_file(app.assets, file)


async def explain_if_unknown(app: App, identity: ChatIdentity) -> None:
    """When the identity source does not know this OS account, say on stderr why and how to map it."""
    try:
        if await app.kernel.identity.resolve(identity) is not None:
            return
    except OpsError:  # the identity source is down: the reply already says so
        return
    Console(stderr=True, highlight=False).print(
        f"note: {unknown_console_hint(app.settings, identity.user_id)}",
        style="yellow",
        markup=False,
        soft_wrap=True,
    )


def unknown_console_hint(settings: Settings, user: str) -> str:
    import os

    kc = settings.keycloak
    if kc.server_url:
        return UNKNOWN_IN_KEYCLOAK.format(
            user=user, uid=os.getuid(), url=kc.server_url, realm=kc.realm, attribute=kc.console_attribute
        )
    return UNKNOWN_IN_ROLES_FILE.format(user=user, uid=os.getuid(), path=roles_file(settings))


def _refused(response: Response) -> bool:
    return isinstance(response, Reply) and response.outcome == "refused"


def _emit(response: Response, json_output: bool) -> None:
    if json_output:
        import json

        print(json.dumps(as_json(response), indent=2, ensure_ascii=False, default=str))
    else:
        print_response(stdout_console(), response)
