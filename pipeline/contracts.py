"""The neutral language of the kernel: what comes in from chat, what a plan is, what goes out.

Adapters translate platform payloads into `InboundMessage` and render `Reply` /
`ApprovalPrompt`; nothing Slack- or Teams-specific appears here.
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline import addresses


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Risk(enum.StrEnum):
    """How much a tool can change; drives approval (read < write < critical)."""

    READ = "read"
    WRITE = "write"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return {"read": 0, "write": 1, "critical": 2}[self.value]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- inbound


class ChatIdentity(Frozen):
    """Who typed the message, as the platform knows them."""

    platform: str  # "console", "slack", "teams"
    tenant: str = ""  # Slack team id, Teams tenant id
    user_id: str
    display_name: str = ""
    email: str | None = None
    upn: str | None = None  # Teams: the user principal name, when it differs from the e-mail


class InboundMessage(Frozen):
    """One request from any chat platform, normalised."""

    identity: ChatIdentity
    text: str
    channel: str = ""
    thread: str = ""
    message_id: str = Field(default_factory=new_id)  # platform id used for dedupe
    received_at: datetime = Field(default_factory=utcnow)
    check: bool = False  # run the request in check mode: read-only probes, nothing changes


class Principal(Frozen):
    """A resolved person with roles; the only thing policy looks at."""

    subject: str  # stable id (Keycloak user id, static-file name)
    display_name: str = ""
    roles: frozenset[str] = frozenset()
    identity: ChatIdentity | None = None

    def has(self, role: str) -> bool:
        return role in self.roles


# --------------------------------------------------------------------------- assets


class AssetRef(Frozen):
    """An inventory entry as the kernel sees it (no credentials)."""

    name: str
    address: str
    type: str = "server"
    os: str = "linux"
    environment: str = ""
    location: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    services: tuple[str, ...] = ()

    @classmethod
    def raw(cls, address: str) -> AssetRef:
        """A target given as an address that is not in the inventory: named as written, with the
        address it denotes (`2852039166` -> 169.254.169.254; a host name stays as it is)."""
        ip = addresses.canonical(address)
        return cls(name=address, address=str(ip) if ip else address, type="unknown", os="unknown")

    @property
    def in_inventory(self) -> bool:
        return self.type != "unknown"


class AssetFilter(Frozen):
    """Selector over the inventory; empty fields match everything."""

    names: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)
    services: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (
            self.names
            or self.types
            or self.os
            or self.environments
            or self.locations
            or self.tags
            or self.services
        )


# --------------------------------------------------------------------------- understanding


class Intent(enum.StrEnum):
    QUERY = "query"
    ACTION = "action"
    ANALYSIS = "analysis"
    CHAT = "chat"  # help, greetings, out of scope


class Interpretation(Frozen):
    """Stage A output: what the request is about."""

    intent: Intent
    category: str = ""  # e.g. "network", "automation", "assets", "communication", "help"
    confidence: float = 1.0
    urgency: Literal["low", "normal", "high"] = "normal"
    entities: dict[str, Any] = Field(default_factory=dict)
    source: Literal["grammar", "lexicon", "llm", "cache"] = "grammar"
    # a change read from free text and shown to the LLM (`pipeline.planner`): "confirmed" (it read
    # the request the same way), "disputed" (it did not: the person chooses), "unconfirmed" (it could
    # not answer; the approval gate decides); "" when not asked (exact command, a read, no LLM)
    confirmation: Literal["", "confirmed", "disputed", "unconfirmed"] = ""


class ToolCall(Frozen):
    """Stage B output: one call of a catalog tool (targets still unresolved)."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    targets: tuple[str, ...] = ()  # names or addresses, as written
    selector: AssetFilter | None = None  # or a filter over the inventory
    check: bool = False  # run the tool's declared read-only check instead of the change


class Understanding(Frozen):
    """Stages A+B output, from the grammar, the lexicon or the LLM: before resolution.

    `outcome` is "plan" when `calls` should be planned, otherwise "no_action"
    (help, chit-chat, out of scope) or "clarify" (with `message` saying what is unclear).
    """

    interpretation: Interpretation
    calls: tuple[ToolCall, ...] = ()
    outcome: Literal["plan", "no_action", "clarify"] = "plan"
    message: str = ""
    suggestions: tuple[str, ...] = ()  # requests the person can send as they are (buttons, numbers)
    llm_calls: int = 0
    llm_tokens: int = 0


class Confirmation(Frozen):
    """The LLM's check of a change the grammar read from free text: it agrees, or it gives its
    own reading of the request (a plan, a question back, or nothing to run)."""

    agrees: bool
    reading: Understanding | None = None
    llm_calls: int = 0
    llm_tokens: int = 0


class PlanStep(Frozen):
    """Stage C output: a validated, resolved step."""

    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    targets: tuple[AssetRef, ...] = ()
    depends_on: tuple[str, ...] = ()
    timeout_s: float = 30.0
    risk: Risk = Risk.READ
    definition: str = ""  # digest of the catalog file version planned ("" for a built-in tool)
    outline: tuple[str, ...] = ()  # what a tool that runs other tools will do (a runbook's steps)
    check: bool = False  # the tool's read-only check (what the change would do), risk read
    # inventory assets the step writes on besides its targets (copy_file's destination), from the
    # arguments its tool declares as `destinations`: locked, assessed and checked like targets
    destinations: tuple[AssetRef, ...] = ()

    @property
    def target_names(self) -> list[str]:
        return [t.name for t in self.targets]

    @property
    def affected(self) -> tuple[AssetRef, ...]:
        """The targets, then the destinations that are not targets too: every asset it touches."""
        names = {t.name for t in self.targets}
        return (*self.targets, *(d for d in self.destinations if d.name not in names))


PlanOutcome = Literal["plan", "no_action", "clarify", "refused"]


class FreezeOverride(Frozen):
    """A change allowed inside open freeze windows: who overrode them, why, and which."""

    by: str
    reason: str
    windows: tuple[str, ...]  # window names
    described: str = ""  # the windows as the refusal would have named them


class Dependant(Frozen):
    """An asset that depends on a target of a change (from the inventory's relationships)."""

    name: str
    environment: str = ""
    via: str = ""  # the target (or dependant) it depends on, and how: "depends_on db-01"
    production: bool = False
    outside_scope: bool = False  # the requester could not run this step on it


class RecentChange(Frozen):
    """A change that touched a target shortly before this plan (from the execution history)."""

    execution_id: str
    tool: str
    by: str
    at: datetime


class Preview(Frozen):
    """What a change would do on one target, from its tool's check run before the prompt
    (write_file's diff): shown with the impact, so the approver decides on the actual change."""

    step: str
    tool: str
    target: str
    summary: str
    text: str = ""  # the diff (cut to fit a prompt)


class Impact(Frozen):
    """What a change reaches, stated in the approval prompt before the buttons.

    Host count, environments and locations come from the plan's targets; dependants from the
    inventory's relationships (transitively, up to a cap); locks and recent changes from the
    execution history. `four_eyes` lists why policy asks for a second person because of it.
    """

    hosts: int = 0
    environments: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    production: tuple[str, ...] = ()  # targets in a production environment
    dependants: tuple[Dependant, ...] = ()
    dependants_capped: bool = False  # more dependants exist than are listed
    locked: dict[str, str] = Field(default_factory=dict)  # target -> execution holding its lock
    recent: dict[str, RecentChange] = Field(default_factory=dict)  # target -> latest change
    level: Literal["low", "medium", "high"] = "low"
    risk: str = ""  # the plain-words risk line
    four_eyes: tuple[str, ...] = ()  # policy reasons this plan needs a second person
    previews: tuple[Preview, ...] = ()  # per target, what the change would do (tools that preview)


class Plan(Frozen):
    """A typed plan: what will run, where, and whether someone must approve it first."""

    request_id: str = Field(default_factory=new_id)
    outcome: PlanOutcome = "plan"
    steps: tuple[PlanStep, ...] = ()
    message: str = ""  # for no_action / clarify / refused: what to tell the user
    suggestions: tuple[str, ...] = ()  # requests the person can send as they are (buttons, numbers)
    requires_approval: bool = False
    four_eyes: bool = False  # approver must not be the requester
    interpretation: Interpretation | None = None
    llm_calls: int = 0
    llm_tokens: int = 0
    impact: Impact | None = None  # assessed for plans that need approval (not part of the digest)
    freeze_override: FreezeOverride | None = None  # set when an admin overrode a change freeze
    undo_of: str = ""  # the execution this plan undoes ('' for an ordinary plan)

    @property
    def risk(self) -> Risk:
        return max((s.risk for s in self.steps), key=lambda r: r.rank, default=Risk.READ)

    def digest(self) -> str:
        """The plan's fingerprint: see `plan_digest`."""
        return plan_digest(self)


DIGEST_SHORT = 12  # hex characters of a digest shown to people (48 bits)


def plan_digest(plan: Plan) -> str:
    """SHA-256 (hex) of exactly what a plan will run: each step's id, tool, risk, arguments,
    resolved targets (every field, addresses included), dependencies, timeout and check mode, in order,
    and, for a catalog-defined tool, the digest of its definition (an edited file is a new plan)
    and its outline (a runbook's steps and rollout, as the prompt shows them).

    An approval is bound to this value: the prompt shows it (`short_digest`), the approval
    record stores it, and the kernel and the executor refuse a plan whose digest differs,
    e.g. one edited in the database after the prompt. Stable across a JSON round trip
    through SQLite or PostgreSQL (keys sorted, integral floats written as integers).
    """
    steps = [
        {
            "id": step.id,
            "tool": step.tool,
            "risk": step.risk.value,
            "args": step.args,
            "targets": [t.model_dump(mode="json") for t in step.targets],
            "depends_on": list(step.depends_on),
            "timeout_s": step.timeout_s,
            **({"definition": step.definition} if step.definition else {}),
            **({"outline": list(step.outline)} if step.outline else {}),
            **({"check": True} if step.check else {}),  # absent when false: older digests hold
        }
        for step in plan.steps
    ]
    text = json.dumps(_canonical(steps), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def short_digest(digest: str) -> str:
    """The part of a digest people compare by eye (prompts, replies, audit summaries)."""
    return digest[:DIGEST_SHORT]


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


# --------------------------------------------------------------------------- results


class TargetStatus(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    UNCERTAIN = "uncertain"  # stopped, but the target never confirmed it: may still be running
    SKIPPED = "skipped"  # a step it depends on failed, or the run was cancelled


class ToolOutput(Frozen):
    """What a tool returns for one target (or once, for tools without targets)."""

    summary: str = ""  # one line, e.g. "3/3 replies, 0.05 ms avg"
    data: dict[str, Any] = Field(default_factory=dict)  # structured values
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    ok: bool = True
    files: tuple[str, ...] = ()  # local files the tool produced (a fetched file): attached to the reply


class TargetResult(Frozen):
    target: str  # asset name or raw address; "" for tools without targets
    status: TargetStatus
    duration_ms: float = 0.0
    output: ToolOutput = Field(default_factory=ToolOutput)
    error: str = ""


class StepResult(Frozen):
    step_id: str
    tool: str
    results: tuple[TargetResult, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.status is TargetStatus.OK for r in self.results)


ExecutionStatus = Literal[
    "planned",
    "awaiting_approval",
    "approved",
    "rejected",
    "expired",
    "running",
    "succeeded",
    "failed",
    "refused",
    "answered",  # no_action / clarify: nothing to run, the request is still recorded
]
# an undo in one of these counts: a second undo of the same change is refused (a conflict)
UNDOING: tuple[ExecutionStatus, ...] = ("planned", "awaiting_approval", "approved", "running", "succeeded")


class ExecutionResult(Frozen):
    execution_id: str
    status: ExecutionStatus
    steps: tuple[StepResult, ...] = ()
    started_at: datetime | None = None
    finished_at: datetime | None = None
    timed_out: bool = False  # the run reached its time limit (execution.max_duration_s)
    cancelled_by: str = ""  # who cancelled the run while it ran ('' when nobody did)


class Progress(Frozen):
    """Streaming progress of a running execution (adapters throttle updates)."""

    execution_id: str
    step_id: str
    tool: str
    done: int
    total: int
    last: TargetResult | None = None
    # a command's output as it arrives: the newest lines of one target (redacted, whole lines)
    # and how many characters that target has written so far (the console prints what is new)
    output_target: str = ""
    output: str = ""
    output_chars: int = 0


# --------------------------------------------------------------------------- outbound


class ReplyTable(Frozen):
    """Rows of one structured result (processes, disks, hops, ports...), each cell as text:
    every platform renders it as a real table, cutting rows to its limits and saying so."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...] = ()
    total: int = 0  # rows the tool found; more than len(rows) when it kept only the first ones


class ReplySection(Frozen):
    """A compact block about one target (or one step without targets)."""

    title: str
    status: TargetStatus | None = None
    facts: tuple[tuple[str, str], ...] = ()  # (label, value)
    text: str = ""  # preformatted output, may be long: renderers shorten it
    tables: tuple[ReplyTable, ...] = ()


class UndoOffer(Frozen):
    """What undoing a finished change would run, until when, and which changes have no inverse."""

    until: datetime | None = None  # None: nothing of it can be undone
    steps: tuple[str, ...] = ()  # the inverse steps, in words ("automation.service_control start ...")
    none: tuple[str, ...] = ()  # changes without an inverse, each with why


ClosedApproval = Literal["approved", "rejected", "expired"]


class DecidedBy(Frozen):
    """A decision on an approval made through another door than the request's own thread (the
    command line, the web console, the API): the thread shows it like a click's stamp."""

    who: str
    approve: bool
    at: datetime
    via: str = ""  # the platform of that door: console, api, oidc...


class Reply(Frozen):
    """What the bot says back: a one-line summary first, details, recommendations last."""

    outcome: Literal["answer", "no_action", "clarify", "refused", "error", "approval_result"]
    summary: str
    sections: tuple[ReplySection, ...] = ()
    recommendations: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()  # requests the person can send with one click (or by number)
    execution_id: str | None = None
    plan: Plan | None = None
    result: ExecutionResult | None = None
    files: tuple[str, ...] = ()  # local files to attach (charts, fetched files): uploaded by chat
    # adapters, listed in the console
    undo: UndoOffer | None = None  # for a finished change: its Undo button and what it would do
    # a decision on an approval that was already closed: the state it had (nothing was applied)
    closed: ClosedApproval | None = None
    # told in the request's thread of a decision made elsewhere: who decided, when, through what
    decided: DecidedBy | None = None
    # refused because of the state of what it acts on, not because of who asks (an undo of a
    # change not finished, already undone, changed since, or past its window): a conflict (HTTP
    # 409, exit code 5), never a permission refusal (403, exit code 4)
    conflict: bool = False
    # who wrote what the person reads first: the templates alone, or the LLM over them (its summary
    # is the first section, titled so; the templated summary line and sections stay)
    answer_by: Literal["template", "llm"] = "template"


class ApprovalPrompt(Frozen):
    """A plan waiting for a decision; adapters render it as buttons or a y/N question."""

    execution_id: str
    plan: Plan
    requester: str  # principal subject
    requester_name: str = ""
    risk: Risk
    four_eyes: bool
    expires_at: datetime
    summary: str
    digest: str = ""  # plan_digest(plan): what the decision is bound to


Response = Reply | ApprovalPrompt


DecisionAction = Literal["decide", "check", "undo", "cancel"]


class Decision(Frozen):
    """A click on a prompt, from any platform: approve/reject (`decide`), `check` (run the
    pending plan as a check first; the approval stays open), `undo` (on a finished change's
    result: plan its inverse, which then needs its own approval), or `cancel` (on a running
    execution's progress: stop it, by its requester or an approver)."""

    execution_id: str
    approve: bool
    action: DecisionAction = "decide"
    identity: ChatIdentity
    idempotency_key: str = Field(default_factory=new_id)  # platform action id, for dedupe
    digest: str = ""  # the plan digest shown with the buttons clicked ('' when the door has none)
    # the door authenticated the person itself (HTTP API, web console): a plan asked for in any
    # chat workspace may be decided there; chat clicks stay within their own workspace
    any_workspace: bool = False
    channel: str = ""  # the conversation the click came from (rate limits); '' -> the person's DM
