"""The HTTP API's bodies: what it accepts and what it answers (the OpenAPI document's schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --------------------------------------------------------------------------- who


class Me(Out):
    """The caller as the API sees them."""

    subject: str
    display_name: str
    roles: list[str]
    via: Literal["token", "oidc"]


# --------------------------------------------------------------------------- requests


class TypedStep(Body):
    """One call of a catalog tool, as the structured chat form would write it."""

    tool: str = Field(min_length=1, max_length=128, examples=["network.ping"])
    targets: list[str] = Field(default_factory=list, max_length=500, examples=[["web-01"]])
    args: dict[str, str | int | float | bool | list[str] | list[int]] = Field(default_factory=dict)


class SubmitRequest(Body):
    """A request in plain text, or a typed plan of catalog tools (exactly one of them)."""

    text: str | None = Field(None, min_length=1, max_length=10_000, examples=["ping web-01"])
    steps: list[TypedStep] | None = Field(None, min_length=1, max_length=20)
    wait_s: float = Field(
        10.0, ge=0, le=60, description="How long to wait for the outcome before answering 202 with the id."
    )

    @model_validator(mode="after")
    def one_of_text_or_steps(self) -> SubmitRequest:
        if (self.text is None) == (self.steps is None):
            raise ValueError("give either text or steps")
        return self


class Section(Out):
    title: str
    status: str | None = None
    facts: list[tuple[str, str]] = Field(default_factory=list)
    text: str = ""


class Submitted(Out):
    """What became of a request: an answer, a plan awaiting approval, or still running."""

    outcome: Literal[
        "answer", "no_action", "clarify", "error", "approval_result", "awaiting_approval", "running"
    ]
    summary: str
    execution_id: str | None = None
    digest: str | None = Field(None, description="The plan's digest: an approval must name it.")
    four_eyes: bool | None = None
    expires_at: datetime | None = None
    sections: list[Section] = Field(default_factory=list)
    recommendations: list[str] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- executions


class ExecutionSummary(Out):
    id: str
    request: str
    person: str
    platform: str
    status: str
    outcome: str
    risk: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    tools: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list)


class ExecutionPage(Out):
    items: list[ExecutionSummary]
    limit: int
    offset: int


class ExecutionQuery(Body):
    """Filters over executions; every one given narrows the list."""

    person: str = Field("", max_length=255)
    tool: str = Field("", max_length=128)
    target: str = Field("", max_length=255)
    state: str = Field("", max_length=32)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


class TargetOutcome(Out):
    target: str
    status: str
    duration_ms: float = 0.0
    summary: str = ""
    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    error: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class StepDetail(Out):
    step_id: str
    tool: str
    args: dict[str, Any]
    targets: list[str]
    risk: str
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    results: list[TargetOutcome] = Field(default_factory=list)


class ApprovalState(Out):
    state: str
    requester: str
    four_eyes: bool
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    digest: str


class AuditRecordOut(Out):
    seq: int
    at: datetime
    actor: str
    event: str
    execution_id: str | None = None
    chat: str
    detail: dict[str, Any]
    hash: str


class ExecutionDetail(ExecutionSummary):
    message: str = Field("", description="What the bot said about the plan (refusals, questions).")
    steps: list[StepDetail] = Field(default_factory=list)
    approval: ApprovalState | None = None
    audit: list[AuditRecordOut] = Field(default_factory=list)


class DecisionRequest(Body):
    """Approve or reject; an approval names the digest of the plan it approves (as shown)."""

    digest: str = Field("", max_length=64, description="Required to approve: the plan digest shown.")


class Decided(Out):
    outcome: str
    summary: str
    execution_id: str
    state: str


# --------------------------------------------------------------------------- inventory


class AssetIn(Body):
    name: str = Field(min_length=1, max_length=255)
    address: str = Field(min_length=1, max_length=255)
    type: str = "server"
    os: str = "linux"
    environment: str = ""
    location: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    services: list[str] = Field(default_factory=list)


class AssetPatch(Body):
    address: str | None = None
    type: str | None = None
    os: str | None = None
    environment: str | None = None
    location: str | None = None
    tags: dict[str, str] | None = None
    services: list[str] | None = None


class AssetOut(Out):
    name: str
    address: str
    type: str
    os: str
    environment: str
    location: str
    tags: dict[str, str]
    services: list[str]


class AssetList(Out):
    items: list[AssetOut]


class AssetQuery(Body):
    name: str = ""
    type: str = ""
    environment: str = ""
    location: str = ""
    os: str = ""
    service: str = ""


class AssetImport(Body):
    assets: list[AssetIn] = Field(min_length=1, max_length=10_000)
    replace: bool = Field(False, description="Update assets that exist (else an existing name fails it all).")


class Imported(Out):
    imported: int


class CredentialIn(Body):
    username: str = Field("", max_length=255)
    secret: str = Field(min_length=1, max_length=65_536, json_schema_extra={"writeOnly": True})


class CredentialOut(Out):
    """A stored credential's description: the secret never leaves the server."""

    asset: str
    kind: str
    username: str
    key_id: str


class CredentialList(Out):
    items: list[CredentialOut]


# --------------------------------------------------------------------------- catalog, audit


class ToolOut(Out):
    name: str
    risk: str
    description: str
    takes_targets: bool
    timeout_s: float
    args_schema: dict[str, Any]


class ToolList(Out):
    items: list[ToolOut]


class TemplateOut(Out):
    name: str
    channel: str
    subject: str
    body: str


class TemplateList(Out):
    items: list[TemplateOut]


class AuditQuery(Body):
    execution_id: str | None = Field(None, max_length=32)
    limit: int = Field(100, ge=1, le=1000)


class AuditList(Out):
    items: list[AuditRecordOut]


class AuditHead(Out):
    seq: int
    hash: str


class AuditVerify(Out):
    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""
