"""`opsconductor eval FILE --inventory INV --out PRED`: plan (never execute) labelled requests.

Builds an in-memory inventory from the inventory file (the same loader and selection
rule as an import into the real directory), the real registry and default
policy, plans every case as its role, writes one JSON line per case (the
contract in ARCHITECTURE.md) and prints accuracy, LLM use, planning latency,
failing cases with a short diff, and the closing `N passed, M failed` line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from adapters.cache.inprocess import InProcessCache
from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import load_inventory
from domains.catalog import build_registry
from pipeline.contracts import Principal
from pipeline.conversation import Conversations
from pipeline.evaluation import Case, Prediction, is_safety_failure, load_cases, percentile, predict, score
from pipeline.planner import HybridPlanner, LanguageModel
from pipeline.policy import Policy
from pipeline.ports import AssetDirectory

if TYPE_CHECKING:
    from bot.settings import Settings


def load_directory(path: Path) -> InMemoryAssetDirectory:
    """The inventory file (.yaml/.yml/.csv) as an in-memory directory, validated like an import."""
    return InMemoryAssetDirectory(load_inventory(path))


@dataclass
class Tally:
    predictions: list[Prediction] = field(default_factory=list)
    failures: list[tuple[str, list[str]]] = field(default_factory=list)
    safety: list[str] = field(default_factory=list)


async def evaluate(
    cases: Sequence[Case],
    directory: AssetDirectory,
    *,
    llm: LanguageModel | None = None,
    catalog: Sequence[Path] = (),
) -> Tally:
    """Plan every case as its role (policy applied, nothing executed) and score it, with the
    built-in tools and the tools defined under `catalog` (the bot's `catalog.paths`)."""
    registry = build_registry(catalog)
    policy = Policy.default(registry)
    conversations = Conversations(InProcessCache())
    planner = HybridPlanner(
        registry,
        directory,
        fallback=llm,
        confirmer=llm,
        permitted_tools=policy.permitted_tools,
        conversations=conversations,
    )
    tally = Tally()
    await planner.plan("help", Principal(subject="eval-warmup"))  # build indexes before timing
    for case in cases:
        principal = Principal(subject=f"eval-{case.role}", roles=frozenset({case.role}))
        conversation = f"eval:{case.id}"  # one conversation per case: its thread, then its text
        for earlier in case.thread:
            await planner.plan(earlier, principal, conversation)  # planned in order, never executed
        started = time.perf_counter()
        plan = policy.apply(await planner.plan(case.text, principal, conversation), principal)
        prediction = predict(case.id, plan, (time.perf_counter() - started) * 1000)
        tally.predictions.append(prediction)
        problems = score(case, prediction)
        if problems:
            tally.failures.append((case.id, problems))
        if is_safety_failure(case, prediction):
            tally.safety.append(case.id)
    return tally


def report(tally: Tally, out: TextIO) -> None:
    total = len(tally.predictions)
    passed = total - len(tally.failures)
    latencies = [p.latency_ms for p in tally.predictions]
    calls = sum(p.llm_calls for p in tally.predictions)
    tokens = sum(p.llm_tokens for p in tally.predictions)
    per = max(total, 1)
    print(f"accuracy: {passed / per:.1%} ({passed}/{total})", file=out)
    print(f"llm: {calls / per:.2f} calls and {tokens / per:.0f} tokens per request", file=out)
    p50, p95 = percentile(latencies, 0.5), percentile(latencies, 0.95)
    print(f"planning latency: p50 {p50:.1f} ms, p95 {p95:.1f} ms", file=out)
    if tally.safety:
        print(f"SAFETY FAILURES: {', '.join(tally.safety)}", file=out)
    for case_id, problems in tally.failures:
        print(f"FAIL {case_id}: {'; '.join(problems)}", file=out)
    print(f"{passed} passed, {total - passed} failed", file=out)


def write_predictions(predictions: Sequence[Prediction], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for prediction in predictions:
            handle.write(json.dumps(prediction.model_dump(mode="json"), ensure_ascii=False) + "\n")


async def run_eval(
    cases: Path, inventory: Path, out: Path, *, llm: LanguageModel | None = None, catalog: Sequence[Path] = ()
) -> int:
    """Run the evaluation; returns the exit code (0 when every case passed, 1 otherwise)."""
    tally = await evaluate(load_cases(cases), load_directory(inventory), llm=llm, catalog=catalog)
    write_predictions(tally.predictions, out)
    report(tally, sys.stdout)
    return 0 if not tally.failures else 1


async def run_eval_with_settings(settings: Settings, cases: Path, inventory: Path, out: Path) -> int:
    """The CLI entry: uses the configured LLM as fallback when one is configured."""
    from adapters.cache import build_cache
    from bot import wiring

    closers: list[Any] = []
    cache = build_cache(settings.redis.url, settings.redis.key_prefix)
    llm = wiring.llm_understander(settings, cache, closers)
    try:
        return await run_eval(cases, inventory, out, llm=llm, catalog=settings.catalog.paths)
    finally:
        for close in closers:
            await close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation", description=__doc__)
    parser.add_argument("cases", type=Path)
    parser.add_argument("--inventory", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    return asyncio.run(run_eval(args.cases, args.inventory, args.out))


if __name__ == "__main__":
    sys.exit(main())
