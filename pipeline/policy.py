"""RBAC x tool x target scope, and the approval rule per risk: decided here, in one place.

Policy is data (`policy_default.yaml`, or a file named in settings). It is applied when tools
are offered (`permitted_tools`), when a plan is made (`apply`), again by the executor before
each step (`check_step`, which never trusts earlier stages), by the running tool about what
it is about to touch (`guard`: a path after resolving links, the address a host name
resolved to), and when someone clicks Approve (`approval_denial`).

Besides grants, a step must pass, for at least one of the person's roles that grants its tool:

- the path policy (`pipeline.paths`): every parameter declared as a remote path
  (`pipeline.params.RemotePath`), normalised, against the named deny rules every role gets
  (`paths.deny`, unless the role lists the rule under `paths.exempt`), the role's own `deny`
  globs, and its `allow` globs when it has any;
- address scopes (`pipeline.addresses`): raw targets (not in the inventory) only inside the
  role's `addresses`, restricted ranges (link-local, cloud metadata) only where listed
  explicitly;
- limits: at most `limits.targets` targets per step and `limits.probes` probes per step
  (targets x the items of its probe-list parameter, e.g. ports).

A file that leaves out `paths`, `addresses` or `limits` gets those of the shipped default.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline import addresses, paths, safe_yaml
from pipeline.contracts import AssetRef, Impact, Plan, PlanStep, Principal, Risk
from pipeline.errors import InvalidRequest, NotPermitted
from pipeline.freezes import FreezeHit, Freezes
from pipeline.guard import StepGuard
from pipeline.params import path_values, probes_per_target
from pipeline.registry import ToolRegistry, ToolSpec

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
        """A tool matching one of `tools` and none of its `!` exclusions, at most `max_risk`."""
        if risk.rank > self.max_risk.rank:
            return False
        if any(fnmatch.fnmatchcase(tool, p[1:]) for p in self.tools if p.startswith("!")):
            return False
        return any(fnmatch.fnmatchcase(tool, p) for p in self.tools if not p.startswith("!"))


class RolePaths(BaseModel):
    """A role's own path rules: extra `deny` globs, `allow` globs (when set, nothing else), and
    the names of default deny rules (`paths.deny`) that do not apply to it (`exempt`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    exempt: tuple[str, ...] = ()


class Limits(BaseModel):
    """Per step: targets it fans out to, probes it sends (targets x probe-list items)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    targets: int | None = Field(None, ge=1)
    probes: int | None = Field(None, ge=1)


class RolePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    grants: tuple[Grant, ...] = ()
    approves: tuple[Risk, ...] = ()
    paths: RolePaths = RolePaths()
    addresses: tuple[str, ...] = ()  # networks raw targets may be in; none: inventory only
    limits: Limits = Limits()

    @field_validator("addresses")
    @classmethod
    def networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for text in value:
            addresses.parse_network(text)  # ValueError names the bad network
        return value


class PathPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    deny: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # rule name -> globs


class AddressPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    restricted: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # range name -> networks

    @field_validator("restricted")
    @classmethod
    def networks(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        addresses.restricted_ranges(value)
        return value


class FourEyesRules(BaseModel):
    """When a change needs a second person because of what it reaches, whatever its risk."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    production: bool = False  # a target in a production environment
    hosts_over: int | None = Field(None, ge=1)  # more targets than this
    production_dependants: bool = False  # an asset depending on a target is in production
    dependants_outside_scope: bool = False  # the requester could not change a dependant


class ImpactPolicy(BaseModel):
    """How impact is assessed for the approval prompt, and which impact needs four eyes."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    production: tuple[str, ...] = ("production", "prod")  # environment names that are production
    max_dependants: int = Field(25, ge=1)  # dependants listed, transitively, before stopping
    recent_s: float = Field(3600.0, gt=0)  # a target changed this recently is flagged
    four_eyes: FourEyesRules = FourEyesRules()


class PolicyData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    roles: dict[str, RolePolicy]
    approval: dict[Risk, ApprovalRule] = Field(default_factory=lambda: dict(DEFAULT_APPROVAL))
    paths: PathPolicy = PathPolicy()
    addresses: AddressPolicy = AddressPolicy()
    limits: Limits = Limits(targets=500, probes=65536)  # for roles without limits of their own
    impact: ImpactPolicy = ImpactPolicy()
    schedulable: tuple[str, ...] = ()  # tool globs whose changes may run on a schedule
    freezes: Freezes = Freezes()

    @model_validator(mode="after")
    def known_exemptions(self) -> PolicyData:
        for name, role in self.roles.items():
            unknown = set(role.paths.exempt) - set(self.paths.deny)
            if unknown:
                raise ValueError(
                    f"roles.{name}.paths.exempt names unknown rules: {', '.join(sorted(unknown))}"
                )
        return self


class Policy:
    """Decides what a principal may do; the only place RBAC lives."""

    def __init__(self, data: PolicyData, tools: Iterable[ToolSpec] = ()) -> None:
        self.data = data
        # a registry stays live: catalog tools reloaded later get the same checks
        self._registry = tools if isinstance(tools, ToolRegistry) else None
        self._tools: dict[str, ToolSpec] = {t.name: t for t in tools}
        self._version = self._registry.version if self._registry is not None else 0
        self._networks = {
            name: tuple(addresses.parse_network(n) for n in role.addresses)
            for name, role in data.roles.items()
        }
        self._restricted = addresses.restricted_ranges(data.addresses.restricted)

    @property
    def tools(self) -> dict[str, ToolSpec]:
        """The tools policy judges, by name (the registry's current ones when built from one)."""
        if self._registry is not None and self._registry.version != self._version:
            self._tools = {t.name: t for t in self._registry}
            self._version = self._registry.version
        return self._tools

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_mapping(cls, raw: Any, tools: Iterable[ToolSpec] = (), source: str = "policy") -> Policy:
        if isinstance(raw, dict):  # sections a file leaves out come from the shipped default
            raw = {**{k: v for k, v in _default_raw().items() if k in INHERITED}, **raw}
        try:
            return cls(PolicyData.model_validate(raw), tools)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidRequest(f"{source}: {where}: {first['msg']}") from err

    @classmethod
    def from_file(cls, path: Path, tools: Iterable[ToolSpec] = ()) -> Policy:
        try:  # with limits: a policy file is handed in like any other (safe_yaml)
            raw = safe_yaml.load(safe_yaml.read_text(path), str(path))
        except OSError as err:
            raise InvalidRequest(f"{path}: cannot read policy: {err.strerror}") from err
        except UnicodeDecodeError:
            raise InvalidRequest(f"{path}: cannot read policy: not UTF-8 text") from None
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise InvalidRequest(f"{path}{line}: invalid YAML") from err
        return cls.from_mapping(raw, tools, source=str(path))

    @classmethod
    def default(cls, tools: Iterable[ToolSpec] = ()) -> Policy:
        return cls.from_mapping(_default_raw(), tools, source="policy_default.yaml")

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
        """Why this principal may not run this step, or None when permitted (a tool that runs
        other tools, a runbook, needs the grants for each of them on the same targets too)."""
        spec = self.tools.get(step.tool)
        for called in spec.calls if spec is not None else ():
            inner = self.tools.get(called)
            risk = inner.risk if inner is not None else Risk.CRITICAL
            denial = self._own_denial(
                step.model_copy(update={"tool": called, "risk": risk, "args": {}}), principal
            )
            if denial:
                return f"{step.tool} runs {called}: {denial}"
        return self._own_denial(step, principal)

    def _own_denial(self, step: PlanStep, principal: Principal) -> str | None:
        grants = [g for g in self._grants(principal) if g.allows_tool(step.tool, step.risk)]
        if not grants:
            roles = ", ".join(sorted(principal.roles)) or "none"
            return f"your roles ({roles}) do not allow {step.tool} ({step.risk.value})"
        if not any(g.scope is None for g in grants):
            denial = self._scope_denial(step, grants)
            if denial:
                return denial
        return self._first_pass(
            self._granting_roles(step, principal), lambda role: self._role_denial(step, role)
        )

    def _granting_roles(self, step: PlanStep, principal: Principal) -> list[str]:
        return [
            name
            for name in sorted(principal.roles)
            if name in self.data.roles
            and any(g.allows_tool(step.tool, step.risk) for g in self.data.roles[name].grants)
        ]

    @staticmethod
    def _first_pass(roles: Sequence[str], denial: Callable[[str], str | None]) -> str | None:
        """None when one of `roles` passes; else the first role's reason."""
        reasons = []
        for role in roles:
            reason = denial(role)
            if reason is None:
                return None
            reasons.append(reason)
        return reasons[0] if reasons else "no role allows this"

    def _role_denial(self, step: PlanStep, role: str) -> str | None:
        spec = self.tools.get(step.tool)
        return (
            self._limit_denial(step, spec, role)
            or next((d for t in step.affected if (d := self.target_denial(role, t, t.address))), None)
            or next((f"{step.tool} {param}: {d}" for param, d in self._path_denials(step, spec, role)), None)
        )

    def _limit_denial(self, step: PlanStep, spec: ToolSpec | None, role: str) -> str | None:
        own, default = self.data.roles[role].limits, self.data.limits
        max_targets, max_probes = own.targets or default.targets, own.probes or default.probes
        count = len(step.targets)
        if max_targets is not None and count > max_targets:
            return (
                f"{step.tool} on {count} targets exceeds the {role} role's limit of {max_targets} "
                f"targets per step (policy limits.targets)"
            )
        per_target = probes_per_target(spec.args_model, step.args) if spec is not None else 1
        probes = max(count, 1) * per_target
        if max_probes is not None and per_target > 1 and probes > max_probes:
            return (
                f"{step.tool} would send {probes} probes ({max(count, 1)} targets x {per_target}), over the "
                f"{role} role's limit of {max_probes} probes per step (policy limits.probes)"
            )
        return None

    def target_denial(self, role: str, target: AssetRef, address: str) -> str | None:
        """Why `role` may not reach `address` of a raw target (inventory targets pass)."""
        if target.in_inventory:
            return None
        if not self._networks[role]:
            return (
                f"{address} is not in the inventory, and the {role} role may target inventory hosts "
                f"only (policy roles.{role}.addresses)"
            )
        ip = addresses.canonical(address)
        if ip is None:  # a host name: judged on the address it resolves to, before connecting
            return None
        return addresses.address_denial(ip, self._networks[role], self._restricted, role)

    def destination_denial(self, role: str, address: str) -> str | None:
        """Why `role` may not have the bot connect to `address` on its behalf (a notification
        channel's host): only the restricted ranges apply, unless the role lists them itself."""
        ip = addresses.canonical(address)
        if ip is None:
            return None
        return addresses.restricted_denial(ip, self._networks[role], self._restricted)

    def _path_denials(self, step: PlanStep, spec: ToolSpec | None, role: str) -> Iterator[tuple[str, str]]:
        if spec is None:
            return
        for param, value in path_values(spec.args_model, step.args):
            denial = self.path_denial(role, value)
            if denial:
                yield param, denial

    def path_denial(self, role: str, path: str) -> str | None:
        """Why `role` may not touch the remote `path` (naming the rule), or None."""
        try:
            normal = paths.normalise(path)
        except paths.PathProblem as err:
            return f"{path!r}: {err}"
        shown = path if normal.text == path else f"{path} (= {normal.text})"
        own = self.data.roles[role].paths
        for name, globs in self.data.paths.deny.items():
            glob = None if name in own.exempt else paths.matches(normal, globs, deny=True)
            if glob:
                return f"{shown} is denied by path rule {name} ({glob}; policy paths.deny.{name})"
        glob = paths.matches(normal, own.deny, deny=True)
        if glob:
            return f"{shown} is denied by path rule roles.{role}.paths.deny ({glob})"
        if own.allow and paths.matches(normal, own.allow, deny=False) is None:
            return f"{shown} is outside the paths the {role} role may use (policy roles.{role}.paths.allow)"
        return None

    def guard(self, step: PlanStep, principal: Principal) -> StepGuard:
        """What a running tool asks before it touches a path or connects (see `StepGuard`)."""
        return StepGuard(self, step, principal, self._granting_roles(step, principal))

    def _scope_denial(self, step: PlanStep, grants: Sequence[Grant]) -> str | None:
        scopes = [g.scope for g in grants if g.scope is not None]
        if not step.targets:
            return f"{step.tool} is allowed to you only on targets in {scopes[0].describe()}"
        outside = [t for t in step.affected if not any(s.covers(t) for s in scopes)]
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

    def schedule_denial(self, plan: Plan) -> str | None:
        """Why this plan may not run on a schedule: a change by a tool not marked `schedulable`."""
        for step in plan.steps:
            if step.risk is Risk.READ:
                continue
            if not any(fnmatch.fnmatchcase(step.tool, p) for p in self.data.schedulable):
                return f"{step.tool} changes things and the policy does not mark it schedulable"
        return None

    def rule_for(self, risk: Risk) -> ApprovalRule:
        return self.data.approval.get(risk, "four_eyes")

    def cancel_denial(self, plan: Plan, clicker: Principal, requester: str) -> str | None:
        """Why this person may not cancel this running plan, or None: its requester may, and
        anyone whose roles approve plans of its risk."""
        if clicker.subject == requester:
            return None
        risk = plan.risk
        if any(risk in self.data.roles[r].approves for r in clicker.roles if r in self.data.roles):
            return None
        return "only the requester or an approver may cancel a run"

    def approval_denial(self, plan: Plan, approver: Principal, requester: str) -> str | None:
        """Why this person may not approve this plan now, or None when they may."""
        risk = plan.risk
        may = any(risk in self.data.roles[r].approves for r in approver.roles if r in self.data.roles)
        if not may:
            return f"approving a {risk.value} plan needs the approver role"
        if approver.subject != requester:
            return None
        if self.rule_for(risk) == "four_eyes":
            return "a critical plan needs a second person: you cannot approve your own request"
        if plan.four_eyes:
            why = "; ".join(plan.impact.four_eyes) if plan.impact and plan.impact.four_eyes else "by policy"
            return f"this plan needs a second person ({why}): you cannot approve your own request"
        return None

    # ------------------------------------------------------------------ impact

    def is_production(self, asset: AssetRef) -> bool:
        return asset.environment.lower() in {e.lower() for e in self.data.impact.production}

    def outside_scope(self, step: PlanStep, principal: Principal, asset: AssetRef) -> bool:
        """True when `principal` could not run `step` on `asset` (a dependant of its targets)."""
        return self.step_denial(step.model_copy(update={"targets": (asset,)}), principal) is not None

    def impact_four_eyes(self, impact: Impact) -> tuple[str, ...]:
        """Why the impact of a change needs a second person under `impact.four_eyes`, or ()."""
        rules = self.data.impact.four_eyes
        reasons = []
        if rules.production and impact.production:
            reasons.append(f"production target(s): {', '.join(impact.production)}")
        if rules.hosts_over is not None and impact.hosts > rules.hosts_over:
            reasons.append(f"{impact.hosts} hosts, over the policy's {rules.hosts_over}")
        prod = [d.name for d in impact.dependants if d.production]
        if rules.production_dependants and prod:
            reasons.append(f"production dependant(s): {', '.join(prod)}")
        outside = [d.name for d in impact.dependants if d.outside_scope]
        if rules.dependants_outside_scope and outside:
            reasons.append(f"dependant(s) outside your scope: {', '.join(outside)}")
        return tuple(reasons)

    # ------------------------------------------------------------------ freezes

    def freeze_hits(self, plan: Plan, now: datetime) -> list[FreezeHit]:
        """The freeze windows open at `now` that cover a target of one of the plan's change steps."""
        targets = {t.name: t for s in plan.steps if s.risk is not Risk.READ for t in s.affected}
        hits = []
        for window in self.data.freezes.windows:
            span = window.open_at(now)
            covered = tuple(sorted(name for name, t in targets.items() if window.covers(t)))
            if span is not None and covered:
                hits.append(FreezeHit(window=window, start=span[0], end=span[1], targets=covered))
        return hits

    def may_override_freeze(self, principal: Principal) -> bool:
        return bool(set(self.data.freezes.override) & principal.roles)


INHERITED = ("paths", "addresses", "limits", "impact")


@cache
def _default_raw() -> dict[str, Any]:
    text = resources.files("pipeline").joinpath("policy_default.yaml").read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw
