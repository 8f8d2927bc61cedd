"""RBAC x tool x target scope, and the approval rule per risk: decided here, in one place.

Policy is data (`policy_default.yaml`, or a file named in settings). It is applied when tools
are offered (`permitted_tools`), when a plan is made (`apply`), again by the executor before
each step (`check_step`, which never trusts earlier stages), and when someone clicks
Approve (`approval_denial`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.contracts import AssetRef, Plan, PlanStep, Principal, Risk
from pipeline.errors import InvalidRequest, NotPermitted
from pipeline.registry import ToolSpec

ApprovalRule = Literal["none", "approver", "four_eyes"]
DEFAULT_APPROVAL: dict[Risk, ApprovalRule] = {
    Risk.READ: "none",
    Risk.WRITE: "approver",
    Risk.CRITICAL: "four_eyes",
}


class Scope(BaseModel):
    """Targets a grant covers; empty fields cover everything."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    environments: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    os: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    tags: dict[str, str] = Field(default_factory=dict)

    def covers(self, asset: AssetRef) -> bool:
        checks = (
            (self.environments, asset.environment),
            (self.locations, asset.location),
            (self.types, asset.type),
            (self.os, asset.os),
            (self.names, asset.name),
        )
        if any(allowed and value.lower() not in {a.lower() for a in allowed} for allowed, value in checks):
            return False
        return all(asset.tags.get(k) == v for k, v in self.tags.items())

    def describe(self) -> str:
        parts = [
            f"{label} {', '.join(values)}"
            for label, values in (
                ("environment", self.environments),
                ("location", self.locations),
                ("type", self.types),
                ("os", self.os),
                ("host", self.names),
            )
            if values
        ]
        parts += [f"tag {k}={v}" for k, v in self.tags.items()]
        return " and ".join(parts) or "everywhere"


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tools: tuple[str, ...]
    max_risk: Risk = Risk.READ
    scope: Scope | None = None

    def allows_tool(self, tool: str, risk: Risk) -> bool:
        return risk.rank <= self.max_risk.rank and any(fnmatch.fnmatchcase(tool, p) for p in self.tools)


class RolePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    grants: tuple[Grant, ...] = ()
    approves: tuple[Risk, ...] = ()


class PolicyData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    roles: dict[str, RolePolicy]
    approval: dict[Risk, ApprovalRule] = Field(default_factory=lambda: dict(DEFAULT_APPROVAL))


class Policy:
    """Decides what a principal may do; the only place RBAC lives."""

    def __init__(self, data: PolicyData, tools: Iterable[ToolSpec] = ()) -> None:
        self.data = data
        self.tools: dict[str, ToolSpec] = {t.name: t for t in tools}

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_mapping(cls, raw: Any, tools: Iterable[ToolSpec] = (), source: str = "policy") -> Policy:
        try:
            return cls(PolicyData.model_validate(raw), tools)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidRequest(f"{source}: {where}: {first['msg']}") from err

    @classmethod
    def from_file(cls, path: Path, tools: Iterable[ToolSpec] = ()) -> Policy:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as err:
            raise InvalidRequest(f"{path}: cannot read policy: {err.strerror}") from err
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise InvalidRequest(f"{path}{line}: invalid YAML") from err
        return cls.from_mapping(raw, tools, source=str(path))

    @classmethod
    def default(cls, tools: Iterable[ToolSpec] = ()) -> Policy:
        text = resources.files("pipeline").joinpath("policy_default.yaml").read_text(encoding="utf-8")
        return cls.from_mapping(yaml.safe_load(text), tools, source="policy_default.yaml")

    # ------------------------------------------------------------------ decisions

    def _grants(self, principal: Principal) -> list[Grant]:
        return [
            g
            for role in sorted(principal.roles)
            if role in self.data.roles
            for g in self.data.roles[role].grants
        ]

    def permitted_tools(self, principal: Principal, tools: Iterable[ToolSpec] | None = None) -> set[str]:
        """Names of the tools this principal may use somewhere (offered to the LLM)."""
        specs = list(tools) if tools is not None else list(self.tools.values())
        grants = self._grants(principal)
        return {s.name for s in specs if any(g.allows_tool(s.name, s.risk) for g in grants)}

    def step_denial(self, step: PlanStep, principal: Principal) -> str | None:
        """Why this principal may not run this step, or None when permitted."""
        grants = [g for g in self._grants(principal) if g.allows_tool(step.tool, step.risk)]
        if not grants:
            roles = ", ".join(sorted(principal.roles)) or "none"
            return f"your roles ({roles}) do not allow {step.tool} ({step.risk.value})"
        if any(g.scope is None for g in grants):
            return None
        return self._scope_denial(step, grants)

    def _scope_denial(self, step: PlanStep, grants: Sequence[Grant]) -> str | None:
        scopes = [g.scope for g in grants if g.scope is not None]
        if not step.targets:
            return f"{step.tool} is allowed to you only on targets in {scopes[0].describe()}"
        outside = [t for t in step.targets if not any(s.covers(t) for s in scopes)]
        if not outside:
            return None
        allowed = "; or ".join(s.describe() for s in scopes)
        return f"{step.tool} is allowed to you only on targets in {allowed}"

    def check_step(self, step: PlanStep, principal: Principal) -> None:
        """Executor-time re-check; raises NotPermitted."""
        denial = self.step_denial(step, principal)
        if denial:
            raise NotPermitted(denial)

    def apply(self, plan: Plan, principal: Principal) -> Plan:
        """Refuse the plan, or mark which approval it needs."""
        if plan.outcome != "plan" or not plan.steps:
            return plan
        for step in plan.steps:
            denial = self.step_denial(step, principal)
            if denial:
                return plan.model_copy(update={"outcome": "refused", "message": f"Not permitted: {denial}."})
        rule = self.rule_for(plan.risk)
        return plan.model_copy(update={"requires_approval": rule != "none", "four_eyes": rule == "four_eyes"})

    def rule_for(self, risk: Risk) -> ApprovalRule:
        return self.data.approval.get(risk, "four_eyes")

    def approval_denial(self, plan: Plan, approver: Principal, requester: str) -> str | None:
        """Why this person may not approve this plan now, or None when they may."""
        risk = plan.risk
        may = any(risk in self.data.roles[r].approves for r in approver.roles if r in self.data.roles)
        if not may:
            return f"approving a {risk.value} plan needs the approver role"
        if self.rule_for(risk) == "four_eyes" and approver.subject == requester:
            return "a critical plan needs a second person: you cannot approve your own request"
        return None
