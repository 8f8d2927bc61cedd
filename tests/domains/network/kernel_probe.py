"""Runs one chat request through the whole kernel inside a test's network namespace; prints JSON.

Invoked as `python kernel_probe.py '<json>'` under `ip netns exec` (outside the in-process
network guard, with the namespace's /etc/netns/NAME/hosts as /etc/hosts). The JSON gives
`text`, `role` and `inventory` (name -> address); the real catalog, deterministic planner,
shipped default policy, executor and network tools answer it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from domains.assets.directory import InMemoryAssetDirectory
from domains.catalog import build_registry
from domains.network.config import NetworkConfig
from pipeline.contracts import AssetRef, ChatIdentity, InboundMessage, Reply
from pipeline.kernel import Kernel
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity


async def main(command: dict[str, Any]) -> dict[str, Any]:
    registry = build_registry()
    policy = Policy.default(registry)
    store = MemoryExecutionStore()
    assets = [AssetRef(name=n, address=a) for n, a in command.get("inventory", {}).items()]
    config = NetworkConfig(port_timeout_s=0.5, ping_timeout_s=0.5)
    kernel = Kernel(
        planner=HybridPlanner(
            registry, InMemoryAssetDirectory(assets), permitted_tools=policy.permitted_tools
        ),
        policy=policy,
        identity=StaticIdentity({"someone": {command["role"]}}),
        store=store,
        audit=MemoryAuditLog(),
        executor=Executor(registry, policy, store, services={NetworkConfig: config}),
    )
    message = InboundMessage(
        identity=ChatIdentity(platform="console", user_id="someone"), text=command["text"]
    )
    reply = await kernel.submit(message)
    answer: dict[str, Any] = {"outcome": reply.outcome, "summary": reply.summary, "results": []}
    if isinstance(reply, Reply) and reply.result is not None:
        answer["results"] = [
            {"target": r.target, "status": r.status.value, "error": r.error, "data": r.output.data}
            for step in reply.result.steps
            for r in step.results
        ]
    return answer


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
