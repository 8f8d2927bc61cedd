"""`SqlFileStore`: files tools produced (a fetched file), kept in the database for every process.

A step may run on an `opsconductor worker` while another replica answers in the thread, so a
fetched file cannot stay on the disk of the process that fetched it. `keep` (automation's
`FetchedFiles`) stores the content, already capped by the tool, and returns a reference,
``stored-file:<id>/<name>``, which travels in the step's result; `local` (the kernel's
`AttachedFiles`) gives the answering process a path to upload: the content copied to its own
disk by `copy` (private files under the home folder). Rows go with their
execution (ON DELETE CASCADE), so retention of executions removes them too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import store_errors
from db.models import Execution, StoredFile
from db.types import new_id

PREFIX = "stored-file:"
# where a local copy is written: (execution id, target, file name, content) -> its path
LocalCopy = Callable[[str, str, str, bytes], Awaitable[str]]


class SqlFileStore:
    """Stores fetched files in SQL; copies them to this process's disk when a reply attaches them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], copy: LocalCopy) -> None:
        self._sessions = sessions
        self._copy = copy

    async def keep(self, execution_id: str, target: str, path: str, data: bytes) -> str:
        """Store `data` (fetched from `path` on `target`); its reference for `local`."""
        name = PurePosixPath(path).name or "file"
        file_id = new_id()
        async with store_errors(), self._sessions.begin() as session:
            known = await session.scalar(select(Execution.id).where(Execution.id == execution_id))
            session.add(
                StoredFile(
                    id=file_id,
                    execution_id=known,
                    target=target,
                    name=name[:255],
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    content=data,
                )
            )
        return f"{PREFIX}{file_id}/{name}"

    async def local(self, ref: str) -> str | None:
        """A path on this machine with `ref`'s content; a path that is no reference comes back as
        it is (a chart drawn here); None when the stored file is gone (retention)."""
        if not ref.startswith(PREFIX):
            return ref
        file_id = ref.removeprefix(PREFIX).split("/", 1)[0]
        async with store_errors(), self._sessions() as session:
            row = await session.get(StoredFile, file_id)
        if row is None:
            return None
        return await self._copy(row.execution_id or "files", row.target, row.name, row.content)
