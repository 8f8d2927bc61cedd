"""The WS-Management stand-in (wsman_standin.py) and a PywinrmRemote pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from pydantic import SecretStr

from adapters.winrm import PywinrmRemote, WinrmConfig
from tests.adapters.winrm.wsman_standin import Canned, WsmanStandIn

Responder = Callable[[str], Canned]


def bodies(wsman: WsmanStandIn) -> list[str]:
    """The scripts received, each without the adapter's opening run mark (``# opsconductor-run``)."""
    return [s.split("\n", 1)[1] if s.startswith("# opsconductor-run ") else s for s in wsman.seen.scripts]


class Script:
    """The test's responder: canned answers by a fragment of the PowerShell received."""

    def __init__(self) -> None:
        self.answers: list[tuple[str, Canned | Responder]] = []

    def on(self, fragment: str, answer: Canned | Responder) -> None:
        """Answer scripts containing `fragment` (the latest matching rule wins)."""
        self.answers.insert(0, (fragment, answer))

    def __call__(self, script: str) -> Canned:
        for fragment, answer in self.answers:
            if fragment in script:
                return answer if isinstance(answer, Canned) else answer(script)
        return Canned(stderr="no canned answer in the test for this script", exit_code=1)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
async def wsman(script: Script) -> AsyncIterator[WsmanStandIn]:
    server = WsmanStandIn(script)
    await server.start()
    yield server
    await server.close()
    assert server.seen.unexpected == []


@pytest.fixture
def winrm_config(wsman: WsmanStandIn) -> WinrmConfig:
    return WinrmConfig(
        username="ops",
        password=SecretStr("s3cret!"),
        transport="basic",
        port=wsman.port,
        operation_timeout_s=1,
        connect_timeout_s=2.0,
    )


@pytest.fixture
async def windows(winrm_config: WinrmConfig) -> AsyncIterator[PywinrmRemote]:
    remote = PywinrmRemote(winrm_config)
    yield remote
    await remote.close()
