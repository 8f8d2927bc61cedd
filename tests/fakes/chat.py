"""FakeChat: the whole pipeline in memory, driven like a chat platform would (errbot's TestBot).

Real catalog, real deterministic planner, real policy, real executor and tools; only the
stores (memory), the identity source (a dict) and the chat platform are stand-ins. Targets
are the shipped localhost-only demo inventory, so executed tools touch loopback only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domains.assets.directory import InMemoryAssetDirectory
from domains.assets.importer import demo_inventory
from domains.catalog import build_registry
from pipeline.contracts import (
    ApprovalPrompt,
    ChatIdentity,
    Decision,
    DecisionAction,
    InboundMessage,
    Progress,
    Response,
)
from pipeline.conversation import Conversations
from pipeline.dispatch import TargetLocks
from pipeline.kernel import Kernel
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.ports import AssetDirectory, AuditLog, ExecutionStore, ImpactFacts
from pipeline.registry import ToolSet
from pipeline.stages.execute import Executor
from tests.fakes.memory import MemoryAuditLog, MemoryExecutionStore, StaticIdentity

PEOPLE = {"olga": {"operator"}, "alan": {"approver"}, "vic": {"viewer"}, "root": {"admin"}}


@dataclass
class FakeChat:
    """One chat room with a few people in it; every exchange is kept for assertions."""

    store: ExecutionStore = field(default_factory=MemoryExecutionStore)
    audit: AuditLog = field(default_factory=MemoryAuditLog)
    transcript: list[tuple[str, str, Response]] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)
    directory: AssetDirectory | None = None  # None: the demo inventory in memory
    impact: ImpactFacts | None = None  # dependants, locks, recent changes (db.impact on SQL)
    policy: Policy | None = None  # None: the shipped default
    catalog_paths: Sequence[Path] = ()  # folders of tool definitions, as settings catalog.paths
    services: dict[type[Any], Any] = field(default_factory=dict)  # e.g. {RemoteShell: a real SSH shell}
    conversations: Conversations | None = None  # follow-ups ('2', 'do it'); None: each message alone
    toolsets: tuple[ToolSet, ...] = ()  # tools of a test's own, beside the catalog
    locks: TargetLocks | None = None  # the execution locks (db.locks on SQL); None: no locking
    lock_wait_s: float = 30.0  # how long a change waits for a lock another run holds

    def __post_init__(self) -> None:
        registry = build_registry(self.catalog_paths)
        for toolset in self.toolsets:
            registry.add(toolset)
        self.registry = registry
        policy = self.policy or Policy.default(registry)
        directory = self.directory or InMemoryAssetDirectory(demo_inventory())
        self.kernel = Kernel(
            planner=HybridPlanner(
                registry, directory, permitted_tools=policy.permitted_tools, conversations=self.conversations
            ),
            policy=policy,
            identity=StaticIdentity({k: set(v) for k, v in PEOPLE.items()}),
            store=self.store,
            audit=self.audit,
            executor=Executor(
                registry,
                policy,
                self.store,
                services={AssetDirectory: directory, **self.services},
                locks=self.locks,
                lock_wait_s=self.lock_wait_s,
            ),
            impact=self.impact,
        )

    @property
    def memory_store(self) -> MemoryExecutionStore:
        assert isinstance(self.store, MemoryExecutionStore), "this FakeChat runs on a SQL store"
        return self.store

    @property
    def memory_audit(self) -> MemoryAuditLog:
        assert isinstance(self.audit, MemoryAuditLog), "this FakeChat audits to SQL"
        return self.audit

    async def say(self, text: str, user: str = "olga", *, check: bool = False) -> Response:
        message = InboundMessage(identity=self._identity(user), text=text, channel="C-test", check=check)
        response = await self.kernel.submit(message, self._progress)
        self.transcript.append((user, text, response))
        return response

    async def click(
        self, prompt: ApprovalPrompt, user: str, approve: bool = True, action: DecisionAction = "decide"
    ) -> Response:
        decision = Decision(
            execution_id=prompt.execution_id, approve=approve, identity=self._identity(user), action=action
        )
        response = await self.kernel.decide(decision, self._progress)
        said = action if action != "decide" else ("approve" if approve else "reject")
        self.transcript.append((user, said, response))
        return response

    async def _progress(self, event: Progress) -> None:
        self.progress.append(event)

    @staticmethod
    def _identity(user: str) -> ChatIdentity:
        return ChatIdentity(platform="fakechat", tenant="T-test", user_id=user)
