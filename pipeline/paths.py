"""The path policy's matching: remote paths normalised, then matched against named glob rules.

Normalisation (`normalise`) happens before any match, so `/etc/./shadow`, `//etc//shadow`,
`/var/log/../../etc/shadow` and `C:\\Users\\Bob\\.ssh\\id_rsa` are seen as the files they
name. Only absolute paths are accepted: a relative or `~` path depends on the login's home
directory, which policy cannot see. Symbolic links are resolved on the target by the tool
that reads the file, which asks policy again with the real path (`ToolContext.check_path`).

Glob dialect (`compile_glob`): `*` and `?` stay within one path segment, `**` spans
segments, `[...]` is a character class; a glob that does not start with `/` matches at any
depth (`*.pem` is any .pem file, `~/.ssh/id_*` is an id_* key under any home directory).
Deny rules ignore case (a `.PEM` key is still a key); allow rules follow the target's case
rules (case-sensitive on Linux, case-insensitive on Windows paths).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

_WINDOWS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PathProblem(ValueError):
    """A path policy cannot judge (relative, control characters): the step is refused."""


@dataclass(frozen=True)
class RemotePath:
    """A normalised absolute path; `windows` paths are lower-cased with `/` separators."""

    text: str
    windows: bool


def normalise(path: str) -> RemotePath:
    """The absolute path `path` names, without `.`, `..`, repeated or trailing separators."""
    if _CONTROL.search(path):
        raise PathProblem("the path contains control characters")
    raw = path.strip()
    if _WINDOWS.match(raw):
        text = re.sub(r"/+", "/", raw.replace("\\", "/")).lower()
        head, rest = (text[:3], text[3:]) if text[1] == ":" else ("//", text.lstrip("/"))
        return RemotePath(head + posixpath.normpath("/" + rest).lstrip("/"), windows=True)
    if not raw.startswith("/"):
        raise PathProblem("the path is not absolute (relative and ~ paths depend on the login's home)")
    return RemotePath(posixpath.normpath(re.sub(r"/+", "/", raw)), windows=False)


@lru_cache(maxsize=1024)
def compile_glob(glob: str, ignore_case: bool) -> re.Pattern[str]:
    """A regular expression matching the whole normalised path (see the module docstring)."""
    pattern = glob.strip().replace("\\", "/")
    if pattern.startswith("~/"):
        pattern = "**/" + pattern[2:]
    elif not pattern.startswith("/") and not pattern.startswith("**") and not _WINDOWS.match(pattern):
        pattern = "**/" + pattern
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body[:1] == "!" else "[" + body + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out), re.IGNORECASE if ignore_case else 0)


def matches(path: RemotePath, globs: Iterable[str], *, deny: bool) -> str | None:
    """The first glob of `globs` that matches `path`, or None."""
    ignore_case = deny or path.windows
    for glob in globs:
        if compile_glob(glob, ignore_case).fullmatch(path.text):
            return glob
    return None
