"""Parts the settings enable that need a Python extra, checked before anything starts: a missing
one is one line naming the setting that enabled it and the extra that installs it."""

from __future__ import annotations

import importlib

from bot.settings import Settings
from pipeline.errors import SetupIncomplete


def check_extras(settings: Settings, *, serving: bool = False) -> None:
    """SetupIncomplete when an enabled part cannot be imported; `serving`: the chat platforms
    too (only `serve` runs them; the console works without them)."""
    parts = [("keycloak.server_url", "adapters.keycloak", bool(settings.keycloak.server_url))]
    if serving:
        parts += [
            ("slack.enabled", "adapters.slack", settings.slack.enabled),
            ("teams.enabled", "adapters.teams", settings.teams.enabled),
        ]
    for setting, module, enabled in parts:
        if enabled:
            _importable(setting, module)


def _importable(setting: str, module: str, extra: str = "chat") -> None:
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise SetupIncomplete(
            f"{setting} needs the `{extra}` extra, which is not installed (no module {err.name!r}): "
            f"pip install 'opsconductor[{extra}]'"
        ) from None
