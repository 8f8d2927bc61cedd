"""Impact of a change, for the approval prompt: what it reaches, what else depends on that, and
what else is going on there.

    assess(plan, principal, policy, facts, now) -> Impact
        targets of the change steps    -> hosts, environments, locations, production targets
        facts.dependants (transitive)  -> dependants, flagged production / outside scope
        facts.locked, recent_changes   -> targets busy with, or just changed by, another run
        -> level + plain-words risk line; policy.impact_four_eyes -> reasons for a second person

Without `facts` (no inventory relationships or history to ask) the targets alone are assessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from pipeline import messages
from pipeline.contracts import AssetRef, Dependant, Impact, Plan, PlanStep, Principal, Risk
from pipeline.policy import Policy
from pipeline.ports import ImpactFacts


async def assess(
    plan: Plan, principal: Principal, policy: Policy, facts: ImpactFacts | None, now: datetime
) -> Impact:
    """The impact of `plan`'s change steps (read steps reach nothing)."""
    changes = [s for s in plan.steps if s.risk is not Risk.READ]
    targets = _unique(t for s in changes for t in s.affected)  # a copy's destination too
    impact = Impact(
        hosts=len(targets),
        environments=_distinct(t.environment for t in targets),
        locations=_distinct(t.location for t in targets),
        production=tuple(t.name for t in targets if policy.is_production(t)),
    )
    if facts is not None and targets:
        impact = await _facts(impact, targets, changes, principal, policy, facts, now)
    level, risk = risk_line(impact, policy.data.impact.recent_s)
    impact = impact.model_copy(update={"level": level, "risk": risk})
    return impact.model_copy(update={"four_eyes": policy.impact_four_eyes(impact)})


async def _facts(
    impact: Impact,
    targets: Sequence[AssetRef],
    changes: Sequence[PlanStep],
    principal: Principal,
    policy: Policy,
    facts: ImpactFacts,
    now: datetime,
) -> Impact:
    rules = policy.data.impact
    names = [t.name for t in targets]
    found, capped = await facts.dependants([t.name for t in targets if t.in_inventory], rules.max_dependants)
    dependants = tuple(
        Dependant(
            name=asset.name,
            environment=asset.environment,
            via=via,
            production=policy.is_production(asset),
            outside_scope=any(policy.outside_scope(step, principal, asset) for step in changes),
        )
        for asset, via in found
    )
    return impact.model_copy(
        update={
            "dependants": dependants,
            "dependants_capped": capped,
            "locked": await facts.locked(names, now),
            "recent": await facts.recent_changes(names, now - timedelta(seconds=rules.recent_s)),
        }
    )


def risk_line(impact: Impact, recent_s: float) -> tuple[str, str]:
    """(level, sentence): high when production or a lock is involved, medium when other assets
    depend on the targets or a target just changed, low otherwise."""
    parts = [messages.IMPACT_HOSTS.format(hosts=messages.counted(impact.hosts, "host"))]
    if impact.production:
        parts[0] += ", " + messages.IMPACT_PRODUCTION.format(count=len(impact.production))
    prod_dependants = sum(d.production for d in impact.dependants)
    if impact.dependants:
        more = "+" if impact.dependants_capped else ""
        text = messages.IMPACT_DEPENDANTS.format(count=len(impact.dependants), more=more)
        if prod_dependants:
            text += f" ({messages.IMPACT_DEPENDANTS_PRODUCTION.format(count=prod_dependants)})"
        parts.append(text)
    if impact.locked:
        parts.append(messages.IMPACT_LOCKED.format(names=", ".join(sorted(impact.locked))))
    if impact.recent:
        minutes = round(recent_s / 60)
        names = ", ".join(sorted(impact.recent))
        parts.append(messages.IMPACT_RECENT.format(names=names, minutes=minutes))
    high = bool(impact.production or prod_dependants or impact.locked)
    level = "high" if high else "medium" if impact.dependants or impact.recent else "low"
    return level, f"{messages.IMPACT_LEVEL[level]}: {'; '.join(parts)}."


def _unique(targets: Iterable[AssetRef]) -> list[AssetRef]:
    seen: dict[str, AssetRef] = {}
    for target in targets:
        seen.setdefault(target.name, target)
    return list(seen.values())


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))
