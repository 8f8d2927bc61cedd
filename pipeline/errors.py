"""The error tree. SDK exceptions are translated at the boundary (`raise X from err`).

    OpsError
    ├── UserError                  the request cannot be carried out as asked
    │   ├── NotPermitted           policy denies (tool, target scope, self-approval)
    │   ├── InvalidRequest         empty, too long, malformed arguments
    │   ├── UnknownTarget          a target the inventory does not know
    │   ├── ApprovalClosed         approval expired, already decided, or unknown
    │   └── RateLimited            a person, channel or token sent more than its limit
    ├── ToolError                  a tool ran but did not succeed on a target
    │   ├── TargetUnreachable      could not connect
    │   ├── ToolFailed             ran and failed (non-zero exit, protocol error)
    │   │   ├── Cancelled          stopped because someone cancelled the run
    │   │   ├── TargetChanged      the target is no longer as the step expects: changed since
    │   │   └── AccessDenied       the host refused the login a file (permission denied)
    │   ├── ToolTimeout            exceeded its own timeout (and was stopped on the target)
    │   └── OutcomeUncertain       stopping it on the target could not be confirmed: may still run
    └── DependencyError            something the bot relies on is down
        ├── LLMUnavailable         unreachable, 5xx/429 after retries, refused the request
        │   ├── InvalidModelOutput the model answered, but not with JSON fitting the schema
        │   └── LLMContextOverflow the prompt does not fit the model's context window
        ├── IdentityUnavailable
        ├── StoreUnavailable       database unreachable, read-only or corrupt
        │   └── StoreCorrupt       the database file is damaged (the message names it and the way back)
        ├── StageTimeout           a pipeline stage (understanding, ...) overran its time limit
        └── SetupIncomplete        an enabled part lacks what it needs (an extra, a migration)

"Needs approval" is a result (`ApprovalPrompt`), never an exception.
Each class maps to one user-facing reply in `pipeline.messages.ERROR_REPLIES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.contracts import ToolOutput


class OpsError(Exception):
    """Base of every error the bot raises on purpose."""


class UserError(OpsError):
    pass


class NotPermitted(UserError):
    pass


class InvalidRequest(UserError):
    pass


class UnknownTarget(UserError):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        super().__init__(", ".join(names))


class ApprovalClosed(UserError):
    pass


class RateLimited(UserError):
    """Over a rate limit; the message describes the limit ("at most 30 requests per person ...")."""

    def __init__(self, limit: str, *, scope: str = "") -> None:
        self.scope = scope
        super().__init__(limit)


class ToolError(OpsError):
    """`output`, when given, is what the tool measured before it failed (e.g. ping loss data)."""

    def __init__(self, *args: object, output: ToolOutput | None = None) -> None:
        super().__init__(*args)
        self.output = output


class TargetUnreachable(ToolError):
    pass


class ToolFailed(ToolError):
    pass


class Cancelled(ToolFailed):
    """Someone cancelled the run while the tool ran on this target; its command was stopped."""


class TargetChanged(ToolFailed):
    """The target is no longer in the state the step expects: a file written by a change was
    changed again since, so the change's undo would overwrite the later one (it refuses)."""


class AccessDenied(ToolFailed):
    """The host refused the login access to a file; the file tools then go through `sudo -n`."""


class ToolTimeout(ToolError):
    pass


class OutcomeUncertain(ToolError):
    """A command was to be stopped (timeout, cancel, lost connection) but the target never
    confirmed it was gone: it may still be running there. The executor keeps the target's
    lock until the lock expires on its own."""


class DependencyError(OpsError):
    pass


class LLMUnavailable(DependencyError):
    pass


class InvalidModelOutput(LLMUnavailable):
    """The model answered, but the output is not JSON or does not fit the contract.

    A subclass of LLMUnavailable so callers that only know that class degrade safely;
    the planner catches it first and asks the user back instead of guessing.
    """


class LLMContextOverflow(LLMUnavailable):
    """The server refused the prompt as longer than the model's context (vLLM: HTTP 400, "This
    model's maximum context length is N tokens. However, ..."). The model is up; this request
    (or the context sent with it) is too long, so it is reported as such, never as "unreachable".
    """


class IdentityUnavailable(DependencyError):
    pass


class StoreUnavailable(DependencyError):
    pass


class StoreCorrupt(StoreUnavailable):
    """The SQLite file is not a database or is malformed; nothing can be read from it."""


class StageTimeout(DependencyError):
    """A stage did not finish within its time limit; the message names the stage and the limit."""


class SetupIncomplete(DependencyError):
    """Something the settings enable cannot start: its Python extra is not installed, or the
    database was never migrated. The message names what to install, run or set."""
