"""The catalog kept current: edited files are loaded by the next request, whole or not at all.

`LiveCatalog.refresh()` compares the definition files' names and modification times (and the
stamp `opsconductor tools reload` writes) with the last load and reloads when they differ;
`reload()` loads unconditionally (SIGHUP). A catalog that no longer validates is not loaded:
the tools stay as they were, and `problems` says why (also logged).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from domains.packs.loader import CatalogInvalid, load_catalog, snapshot
from pipeline.registry import ToolRegistry

log = logging.getLogger(__name__)
Snapshot = tuple[tuple[Path, int, int], ...]


class LiveCatalog:
    """Loads the definitions under `paths` into `registry` and keeps them current."""

    def __init__(self, registry: ToolRegistry, paths: Sequence[Path], stamp: Path | None = None) -> None:
        self.registry = registry
        self.paths = [Path(p).expanduser() for p in paths]
        self.stamp = stamp  # touched by `opsconductor tools reload`
        self.problems: tuple[str, ...] = ()
        self._seen: Snapshot | None = None
        self._lock = threading.Lock()
        registry.refresher = self.refresh

    def _snapshot(self) -> Snapshot:
        files = snapshot(self.paths)
        if self.stamp is not None and self.stamp.exists():
            stat = self.stamp.stat()
            files += ((self.stamp, stat.st_mtime_ns, stat.st_size),)
        return files

    def refresh(self, force: bool = False) -> bool:
        """Reload when a file changed since the last look (or `force`); True when new definitions
        are in use."""
        if not force and self._snapshot() == self._seen:
            return False
        return self.reload()

    def reload(self) -> bool:
        """Load every definition now; on any invalid file keep the current tools (see `problems`)."""
        with self._lock:
            seen = self._snapshot()
            try:
                loaded = load_catalog(self.paths, builtin=self.registry.builtin)
            except CatalogInvalid as err:
                self._seen, self.problems = seen, err.problems
                log.warning("catalog not reloaded, the tools stay as they were: %s", "; ".join(err.problems))
                return False
            self.registry.define(loaded.specs)
            self._seen, self.problems = seen, ()
            log.info("catalog loaded: %d definitions from %s", len(loaded.entries), self.paths)
            return True
