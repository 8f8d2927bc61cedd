"""`DirectoryFetchedFiles` (automation's `FetchedFiles`) and `DirectoryTemplates` (`FileTemplates`).

Fetched files go to ``<root>/<execution id>/<target>/<file name>`` (created 0700/0600: they may
hold configuration the requester was allowed to see, nobody else); chat adapters upload them and
the console shows the path. Templates are looked up by name in each folder in order (``name``,
then ``name.j2``); names are single path segments. Disk work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TEMPLATE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def _segment(text: str) -> str:
    cleaned = _SAFE.sub("_", text).strip("._") or "file"
    return cleaned[:120]


class DirectoryFetchedFiles:
    """Keeps fetched files under `root`, one folder per execution and target."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def keep(self, execution_id: str, target: str, path: str, data: bytes) -> str:
        folder = self.root / _segment(execution_id) / _segment(target)
        destination = folder / _segment(Path(path).name)
        return await asyncio.to_thread(_write_private, destination, data)


def _write_private(destination: Path, data: bytes) -> str:
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    return str(destination)


class DirectoryTemplates:
    """File templates by name from `folders` (the first that has it wins)."""

    def __init__(self, folders: Sequence[Path]) -> None:
        self.folders = tuple(folders)

    async def get(self, name: str) -> str | None:
        if not _TEMPLATE_NAME.match(name) or ".." in name:
            return None
        return await asyncio.to_thread(self._find, name)

    def _find(self, name: str) -> str | None:
        for folder in self.folders:
            for candidate in (folder / name, folder / f"{name}.j2"):
                if candidate.is_file():
                    return candidate.read_text(encoding="utf-8")
        return None
