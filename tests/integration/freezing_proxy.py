"""A TCP relay in front of a real sshd that can "go away": a host lost in the middle of a run.

`FreezingProxy(listen, upstream)` relays bytes both ways. `freeze()` makes it behave like a
host that vanished from the network: established connections stay open but nothing passes
any more, and new connections are accepted and never answered. Loopback only.

With `upstream_ns` (e.g. ``testbed.inside``) the upstream sockets are made in that network
namespace while the relay listens where the test runs: the sshd testbed reachable from the
test's own namespace, where its PostgreSQL is.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager


class FreezingProxy:
    def __init__(
        self,
        listen: tuple[str, int],
        upstream: tuple[str, int],
        upstream_ns: Callable[[], AbstractContextManager[None]] = contextlib.nullcontext,
    ) -> None:
        self.listen = listen
        self.upstream = upstream
        self.upstream_ns = upstream_ns
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
        with self.upstream_ns():
            upstream = socket.socket()
        upstream.setblocking(False)
        await asyncio.get_running_loop().sock_connect(upstream, self.upstream)
        up_reader, up_writer = await asyncio.open_connection(sock=upstream)
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
