"""An alert resolved while its diagnosis is still opening its thread is released like any other:
the next firing of it starts a new diagnosis instead of counting as a repeat for a week."""

from __future__ import annotations

import asyncio

from adapters.alerts import AlertDiagnosis
from adapters.alerts.payloads import Alert
from adapters.cache.inprocess import InProcessCache
from domains.catalog import build_registry
from pipeline.contracts import AssetFilter, AssetRef, InboundMessage, Reply, Response

WEB = AssetRef(name="web-01", address="127.0.0.11", type="web_server")


class Inventory:
    async def snapshot(self) -> list[AssetRef]:
        return [WEB]

    async def query(self, selector: AssetFilter) -> list[AssetRef]:
        return [WEB]


class SlowPoster:
    """Opens threads only when the test lets it."""

    name, channel = "slack", "CALERTS"

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.notes: list[str] = []

    async def open(self, text: str) -> str:
        await self.go.wait()
        return "1700000000.000001"

    async def note(self, thread: str, text: str) -> None:
        self.notes.append(text)

    async def findings(self, message: InboundMessage, response: Response) -> None:
        pass


async def answered(message: InboundMessage) -> Response:
    return Reply(outcome="answer", summary="fine")


def alert(status: str) -> Alert:
    return Alert(name="HighLoad", status=status, labels={"host": "web-01"}, fingerprint="fp1")  # type: ignore[arg-type]


async def test_a_resolution_during_the_claim_releases_it() -> None:
    poster = SlowPoster()
    diagnosis = AlertDiagnosis(answered, Inventory(), build_registry(), InProcessCache(), [poster])  # type: ignore[arg-type]
    first = asyncio.create_task(diagnosis.receive([alert("firing")]))
    await asyncio.sleep(0.05)  # claimed, opening its thread
    resolved = await diagnosis.receive([alert("resolved")])
    assert resolved.resolved == ["fp1"]
    poster.go.set()
    assert (await first).diagnosing == ["fp1"]
    await diagnosis.drain()
    again = await diagnosis.receive([alert("firing")])
    assert again.diagnosing == ["fp1"] and again.duplicates == []
    repeat = await diagnosis.receive([alert("firing")])
    assert repeat.duplicates == ["fp1"]  # while this one is open, a repeat starts nothing
    await diagnosis.drain()
