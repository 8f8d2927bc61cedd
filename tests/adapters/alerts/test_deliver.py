"""Findings of a resumed diagnosis find their threads, or open new ones when the cache forgot them
(the embedded default's in-process cache does not survive a restart); one platform failing does
not keep them from the other."""

from __future__ import annotations

from adapters.alerts import AlertDiagnosis
from adapters.alerts.diagnosis import ALERTS_CHANNEL, ALERTS_IDENTITY, RESUMED_HEADLINE
from adapters.cache.inprocess import InProcessCache
from domains.catalog import build_registry
from pipeline.contracts import InboundMessage, Reply, Response


class Poster:
    def __init__(self, name: str, fail: bool = False) -> None:
        self.name, self.channel, self.fail = name, f"{name}-channel", fail
        self.opened: list[str] = []
        self.found: list[tuple[str, str, str]] = []

    async def open(self, text: str) -> str:
        self.opened.append(text)
        return f"{self.name}-thread-{len(self.opened)}"

    async def note(self, thread: str, text: str) -> None:
        raise AssertionError("no notes here")

    async def findings(self, message: InboundMessage, response: Response) -> None:
        if self.fail:
            raise ConnectionError("platform down")
        self.found.append((message.channel, message.thread, response.summary))


async def unused_submit(message: InboundMessage) -> Response:
    raise AssertionError("deliver submits nothing")


async def test_forgotten_threads_are_opened_again_and_a_failing_platform_is_skipped() -> None:
    slack, teams = Poster("slack"), Poster("teams", fail=True)
    cache = InProcessCache()
    diagnosis = AlertDiagnosis(unused_submit, None, build_registry(), cache, [teams, slack])  # type: ignore[arg-type]
    message = InboundMessage(identity=ALERTS_IDENTITY, text="diag", channel=ALERTS_CHANNEL, thread="g1")
    await diagnosis.deliver(message, Reply(outcome="answer", summary="web-01: fine"))
    assert slack.opened == [RESUMED_HEADLINE] and teams.opened == [RESUMED_HEADLINE]
    assert slack.found == [("slack-channel", "slack-thread-1", "web-01: fine")]
    await diagnosis.deliver(message, Reply(outcome="answer", summary="again"))  # now remembered
    assert slack.opened == [RESUMED_HEADLINE] and slack.found[-1] == (
        "slack-channel",
        "slack-thread-1",
        "again",
    )
