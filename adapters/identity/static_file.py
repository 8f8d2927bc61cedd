"""IdentityResolver over a static roles file: the embedded default, no server needed.

Lookup, most specific first:

- console: the OS user name, else the `console: "*"` wildcard person. A wildcard match
  gets the subject `console:<user>` so that two OS users stay two people (four eyes).
- slack: team id + user id, then the user id in any team, then the e-mail address
  (restricted to a team when the file says so).
- teams: AAD object id in the tenant, then in any tenant, then the e-mail address, then
  the UPN (Teams knows both; the roles file may list either) likewise.

Unknown people resolve to None. The file is re-read when it changes (checked at most every
`check_interval_s`); a broken edit is logged and the last good table stays in force.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

from adapters.identity.roles_file import IdentityKey, Person, RolesFileError, RolesTable, parse_roles_file
from pipeline.contracts import ChatIdentity, Principal

log = logging.getLogger(__name__)


class StaticRolesResolver:
    """Resolves chat identities to Principals from a roles file."""

    def __init__(
        self,
        table: RolesTable,
        *,
        path: Path | None = None,
        check_interval_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table
        self._path = path
        self._check_interval_s = check_interval_s
        self._clock = clock
        self._checked_at = clock()
        self._stamp = _stamp(path) if path is not None else None

    @classmethod
    def from_file(cls, path: str | Path, *, check_interval_s: float = 2.0) -> StaticRolesResolver:
        """Load `path`; raise RolesFileError (`path:line: problem`) when it is malformed."""
        path = Path(path)
        return cls(_load(path), path=path, check_interval_s=check_interval_s)

    @classmethod
    def from_text(cls, text: str, source: str = "<roles>") -> StaticRolesResolver:
        return cls(parse_roles_file(text, source))

    @property
    def table(self) -> RolesTable:
        return self._table

    async def resolve(self, identity: ChatIdentity, *, fresh: bool = False) -> Principal | None:
        """The person behind `identity` with their roles, or None when the file does not list them."""
        self._reload_if_changed()
        person, subject = _find(self._table, identity)
        if person is None:
            return None
        return Principal(
            subject=subject or person.name,
            display_name=person.display_name if not subject else identity.display_name or identity.user_id,
            roles=person.roles,
            identity=identity,
        )

    def reload(self) -> None:
        """Re-read the file now; raise RolesFileError and keep the old table when it is malformed."""
        if self._path is None:
            return
        stamp = _stamp(self._path)
        self._stamp = stamp
        self._table = _load(self._path)
        log.info("roles file %s reloaded: %d people", self._path, len(self._table.people))

    def _reload_if_changed(self) -> None:
        if self._path is None or self._clock() - self._checked_at < self._check_interval_s:
            return
        self._checked_at = self._clock()
        if _stamp(self._path) == self._stamp:
            return
        try:
            self.reload()
        except (RolesFileError, OSError) as err:
            log.error("roles file not reloaded, the previous version stays in force: %s", err)


def _load(path: Path) -> RolesTable:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise RolesFileError(f"{path}:1: cannot read the roles file: {err.strerror}") from err
    return parse_roles_file(text, str(path))


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _find(table: RolesTable, identity: ChatIdentity) -> tuple[Person | None, str]:
    """The matching person, and a subject override for wildcard matches ("" otherwise)."""
    platform = identity.platform
    if platform == "console":
        person = table.by_key.get(("console", "", "user", identity.user_id))
        if person is not None:
            return person, ""
        if table.console_wildcard is not None and identity.user_id:
            return table.console_wildcard, f"console:{identity.user_id}"
        return None, ""
    for key in _candidate_keys(identity):
        person = table.by_key.get(key)
        if person is not None:
            return person, ""
    return None, ""


def _candidate_keys(identity: ChatIdentity) -> list[IdentityKey]:
    platform = identity.platform
    fold = platform == "teams"  # AAD ids and tenant ids are case-insensitive GUIDs
    tenant = identity.tenant.lower() if fold else identity.tenant
    user = identity.user_id.lower() if fold else identity.user_id
    keys: list[IdentityKey] = []
    if user:
        if tenant:
            keys.append((platform, tenant, "user", user))
        keys.append((platform, "", "user", user))
    # the roles file keeps e-mail addresses and UPNs alike ("email" keys): try both
    for address in dict.fromkeys(a.strip().lower() for a in (identity.email, identity.upn) if a):
        if tenant:
            keys.append((platform, tenant, "email", address))
        keys.append((platform, "", "email", address))
    return keys
