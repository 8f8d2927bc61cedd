"""Stage C: Understanding -> Plan. Validates everything; trusts nothing it is given.

The same function checks grammar output and model output: unknown tools, unknown
or ambiguous targets and out-of-range arguments turn the plan into a question
("clarify") instead of being guessed. Policy is applied afterwards, elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pipeline import addresses
from pipeline.contracts import AssetFilter, AssetRef, Plan, PlanStep, Risk, ToolCall, Understanding
from pipeline.errors import InvalidRequest
from pipeline.registry import ToolRegistry, ToolSpec
from pipeline.selection import AssetIndex

MAX_STEPS = 20
MAX_TARGETS = 500
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")


class PlanProblem(Exception):
    """Why a plan cannot be made as asked; becomes a clarify answer."""


def build_plan(understanding: Understanding, registry: ToolRegistry, assets: Sequence[AssetRef]) -> Plan:
    """Resolve targets, validate args and order steps; clarify on anything unknown."""
    base = Plan(
        interpretation=understanding.interpretation,
        suggestions=understanding.suggestions,
        llm_calls=understanding.llm_calls,
        llm_tokens=understanding.llm_tokens,
    )
    if understanding.outcome != "plan":
        return base.model_copy(update={"outcome": understanding.outcome, "message": understanding.message})
    if not understanding.calls:
        return base.model_copy(update={"outcome": "no_action", "message": understanding.message})
    try:
        steps = _steps(understanding.calls, registry, assets)
    except PlanProblem as problem:
        return base.model_copy(update={"outcome": "clarify", "message": str(problem)})
    return base.model_copy(update={"steps": steps, "message": understanding.message})


def _steps(
    calls: Sequence[ToolCall], registry: ToolRegistry, assets: Sequence[AssetRef]
) -> tuple[PlanStep, ...]:
    if len(calls) > MAX_STEPS:
        raise PlanProblem(f"That is {len(calls)} steps; I plan at most {MAX_STEPS} at once.")
    steps: list[PlanStep] = []
    for number, call in enumerate(calls, 1):
        spec = _spec(call.tool, registry)
        if call.check and not spec.checks:
            raise PlanProblem(f"{spec.name} has no check mode: it declares no read-only check.")
        targets = resolve_targets(call, spec, assets) if spec.takes_targets else ()
        args = _args(spec, call.args)
        destinations = resolve_destinations(spec, args, assets)
        args |= {name: asset.name for name, asset in destinations.items()}  # as the inventory spells it
        steps.append(
            PlanStep(
                id=f"s{number}",
                tool=spec.name,
                args=args,
                targets=targets,
                depends_on=(f"s{number - 1}",) if number > 1 and not call.check else (),  # checks only read
                timeout_s=_timeout(spec, call.args),
                risk=Risk.READ if call.check else spec.risk,
                check=call.check,
                definition=spec.digest,
                outline=spec.outline(args, targets) if spec.outline is not None else (),
                destinations=tuple({a.name: a for a in destinations.values()}.values()),
            )
        )
    return tuple(steps)


def _spec(name: object, registry: ToolRegistry) -> ToolSpec:
    if not isinstance(name, str) or name not in registry:
        raise PlanProblem(f"I do not have a tool called {name!r}.")
    return registry.get(name)


def _args(spec: ToolSpec, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise PlanProblem(f"{spec.name}: arguments must be an object.")
    try:
        model = spec.parse_args(raw)
    except InvalidRequest as err:
        raise PlanProblem(f"I cannot do that as asked: {err}") from None
    dumped: dict[str, Any] = model.model_dump(mode="json")
    return dumped


def _timeout(spec: ToolSpec, args: dict[str, Any]) -> float:
    requested = args.get("timeout_s") if isinstance(args, dict) else None
    if isinstance(requested, int | float) and 0 < requested < spec.timeout_s:
        return float(requested) + 5.0
    return spec.timeout_s


# --------------------------------------------------------------------------- targets


def resolve_targets(call: ToolCall, spec: ToolSpec, assets: Sequence[AssetRef]) -> tuple[AssetRef, ...]:
    """Names, addresses and a selector -> inventory assets (raw addresses only for tools declaring them)."""
    if not call.targets and call.selector is None and spec.phrasing.untargeted == "none":
        return ()  # it runs once without a target
    index = AssetIndex.of(assets)
    found: dict[str, AssetRef] = {}
    unknown: list[str] = []
    for written in call.targets:
        asset = _lookup(written, spec, index)
        if asset is None:
            unknown.append(str(written))
        else:
            found.setdefault(asset.name, asset)
    if unknown:
        raise PlanProblem(f"I could not find {', '.join(unknown)} in the inventory.")
    selector = call.selector
    excluded = {e.lower() for e in (selector.exclude if selector else ())}
    named = [a for a in found.values() if not excluded & {a.name.lower(), a.address.lower()}]
    matched = index.select(selector) if selector is not None else []
    lists = spec.phrasing.untargeted == "all"  # a tool answering about all assets may match none
    if selector is not None and not matched and not lists:
        raise PlanProblem(f"No asset in the inventory matches {describe(selector)}.")
    targets = matched  # thousands: refused below without merging
    if len(matched) <= MAX_TARGETS:
        targets = [*named, *(a for a in matched if a.name not in found)]
    if not targets and not lists:
        raise PlanProblem(f"Which hosts should {spec.name} run on?")
    if len(targets) > MAX_TARGETS:
        raise PlanProblem(f"That is {len(targets)} hosts; narrow it down to at most {MAX_TARGETS}.")
    return tuple(targets)


def resolve_destinations(
    spec: ToolSpec, args: dict[str, Any], assets: Sequence[AssetRef]
) -> dict[str, AssetRef]:
    """The inventory assets the arguments the tool declares as `destinations` name (argument ->
    asset); never guessed, never a raw address: an unknown one is asked back."""
    index = AssetIndex.of(assets) if spec.destinations else None
    found: dict[str, AssetRef] = {}
    for name in spec.destinations:
        written = args.get(name)
        if written in (None, "") or index is None:
            continue
        asset = index.get(str(written))
        if asset is None:
            raise PlanProblem(f"I could not find {written} in the inventory ({spec.name} {name}).")
        found[name] = asset
    return found


def _lookup(written: object, spec: ToolSpec, index: AssetIndex) -> AssetRef | None:
    if not isinstance(written, str) or not written.strip():
        return None
    found = index.get(written)
    if found is not None:
        return found
    if spec.addresses and _is_raw_address(written.strip().lower()):
        return AssetRef.raw(written.strip())
    return None


def _is_raw_address(text: str) -> bool:
    """An address in any spelling a resolver reads (pipeline.addresses.canonical), or a host name."""
    return addresses.canonical(text) is not None or bool(_HOSTNAME.match(text))


def describe(selector: AssetFilter) -> str:
    parts = [
        f"{label} {'/'.join(values)}"
        for label, values in (
            ("name", selector.names),
            ("environment", selector.environments),
            ("location", selector.locations),
            ("os", selector.os),
            ("type", selector.types),
            ("service", selector.services),
        )
        if values
    ]
    parts += [f"{k}={v}" for k, v in selector.tags.items()]
    return " and ".join(parts) or "that selection"
