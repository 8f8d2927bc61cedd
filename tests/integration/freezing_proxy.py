"""A TCP relay in front of a real sshd that can "go away": a host lost in the middle of a run.

`FreezingProxy(listen, upstream)` relays bytes both ways. `freeze()` makes it behave like a
host that vanished from the network: established connections stay open but nothing passes
any more, and new connections are accepted and never answered. Loopback only (the test's
own namespace).
"""

from __future__ import annotations

import asyncio
import contextlib


class FreezingProxy:
    def __init__(self, listen: tuple[str, int], upstream: tuple[str, int]) -> None:
        self.listen = listen
        self.upstream = upstream
        self.frozen = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, *self.listen)

    def freeze(self) -> None:
        self.frozen.set()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        if self.frozen.is_set():
            return  # accepted, never answered
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self._writers.append(up_writer)
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                if self.frozen.is_set():
                    continue  # swallowed: the host is gone
                sink.write(data)
                await sink.drain()
