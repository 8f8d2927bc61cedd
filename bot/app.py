"""Composition root: build every port's implementation from settings and wire the kernel.

The embedded default (no settings) is SQLite under ~/.opsconductor, an in-process cache,
the shipped static roles file and policy, and the deterministic planner (no LLM).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.api.auth import ApiIdentities
from adapters.cache import build_cache
from adapters.charts import MatplotlibCharts
from adapters.identity.static_file import StaticRolesResolver
from adapters.jobs.recovery import SqlStepRecovery
from bot import catalog, preflight, scaleout, wiring
from bot.extras import check_extras
from bot.logging_setup import use_redactor
from bot.settings import Settings
from bot.telemetry import TelemetryDispatcher
from db.api_tokens import SqlApiTokens
from db.assets import SqlAssetRepository
from db.audit import SqlAuditLog
from db.audit_anchor import HEAD_FILE, HeadFile
from db.catalog import SqlToolCatalog
from db.credentials import SqlCredentialStore
from db.engine import create_engine, session_factory, sqlite_path
from db.executions import SqlExecutionStore
from db.history import SqlHistory
from db.impact import SqlImpactFacts
from db.locks import SqlTargetLocks
from db.migrate import require_head, upgrade_engine
from db.schedules import SqlScheduleStore
from db.sealing import PlanSeal
from domains.assets.credentials import CredentialCipher
from domains.assets.importer import seed_if_empty
from domains.automation.ports import FetchedFiles
from pipeline.contracts import ChatIdentity
from pipeline.conversation import Conversations
from pipeline.dispatch import StepDispatcher
from pipeline.errors import OpsError, StoreCorrupt
from pipeline.historian import Historian
from pipeline.kernel import Kernel, KernelConfig
from pipeline.planner import HybridPlanner
from pipeline.policy import Policy
from pipeline.ports import Cache
from pipeline.redaction import Redactor
from pipeline.registry import ToolRegistry
from pipeline.scheduler import Scheduler
from pipeline.stages.execute import Executor


@dataclass
class App:
    """Everything a running bot holds; closed as one."""

    settings: Settings
    kernel: Kernel
    engine: AsyncEngine
    cache: Cache
    registry: ToolRegistry
    policy: Policy
    assets: SqlAssetRepository
    audit: SqlAuditLog
    redactor: Redactor
    closers: list[Any] = field(default_factory=list)
    dispatcher: StepDispatcher | None = None  # None: steps run in this process
    sessions: async_sessionmaker[AsyncSession] | None = None  # for the HTTP API's reads
    api_tokens: SqlApiTokens | None = None

    async def close(self) -> None:
        for closer in reversed(self.closers):
            await closer()
        await self.engine.dispose()


def console_user() -> str:
    """The OS account running this process, from its uid: never LOGNAME/USER, which anyone can set."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return f"uid{uid}"


def console_identity() -> ChatIdentity:
    user = console_user()
    return ChatIdentity(platform="console", user_id=user, display_name=user)


def default_file(name: str) -> Path:
    return Path(str(resources.files("bot").joinpath("defaults", name)))


def known_secrets(settings: Settings) -> list[str]:
    """Secret values to redact wherever they might appear."""
    values = [
        settings.llm.api_key,
        settings.slack.bot_token,
        settings.slack.signing_secret,
        settings.slack.app_token,
        settings.teams.app_password,
        settings.keycloak.client_secret,
        settings.security.credential_key,
        settings.alerts.token,
        settings.security.audit_key,
        settings.winrm.password,
        *settings.notify.channels.values(),
    ]
    return [v.get_secret_value() for v in values if len(v.get_secret_value()) >= 6]


CORRUPT_SQLITE = (
    "{why} ({path}). Stop every opsconductor process using it, then either restore the file from "
    "a backup, or move {path} and its -wal/-shm files aside and run the command again: a new, "
    "empty database is created (import the inventory again with `opsconductor assets import`; "
    "the old history and audit trail stay in the moved file, readable with `sqlite3 FILE .recover`)"
)


async def prepare_database(settings: Settings, *, migrate: bool = False) -> AsyncEngine:
    """Engine for the configured database. The embedded SQLite file is created and migrated; a
    configured database is migrated when `migrate` (`db upgrade`) or db.migrate_on_start says so,
    else it must be at the code's revision already (SetupIncomplete names the fix)."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        if path.parent == settings.home:
            preflight.secure_home(settings.home)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        preflight.secure_sqlite(path)
    engine = create_engine(settings.database_url, echo=settings.db.echo, pool_size=settings.db.pool_size)
    try:
        if path is not None or migrate or settings.db.migrate_on_start:
            await upgrade_engine(engine)
        else:
            await require_head(engine)
    except StoreCorrupt as err:
        await engine.dispose()
        if path is None:
            raise
        raise StoreCorrupt(CORRUPT_SQLITE.format(path=path, why=err)) from None
    except BaseException:
        await engine.dispose()
        raise
    if path is not None:
        preflight.secure_sqlite(path)
    return engine


async def credential_cipher(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> CredentialCipher:
    """The credential key, checked against the stored credentials (bot.preflight)."""
    if not settings.security.credential_key.get_secret_value().strip():
        preflight.secure_home(settings.home)  # the key file lives there
    sealed_with = await SqlCredentialStore(sessions, None).key_ids()
    return preflight.credential_cipher(settings, sealed_with)


def audit_head_file(settings: Settings) -> Path:
    """Where every new audit chain head is appended (security.audit_head_file, else under home)."""
    configured = settings.security.audit_head_file
    return Path(configured).expanduser() if configured else settings.home / HEAD_FILE


async def audit_log(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], redactor: Redactor
) -> SqlAuditLog:
    """The audit log with its HMAC key (checked against the chain: bot.preflight) and head file."""
    s = settings.security
    if not s.audit_key.get_secret_value().strip() or not s.audit_head_file:
        preflight.secure_home(settings.home)  # the key file or the head file lives there
    key = preflight.audit_key(settings, await SqlAuditLog(sessions).chain_end())
    anchor = HeadFile(audit_head_file(settings))
    return SqlAuditLog(sessions, redact=redactor.redact, key=key, anchor=anchor)


async def build_app(settings: Settings) -> App:
    check_extras(settings)
    engine = await prepare_database(settings)
    sessions = session_factory(engine)
    redactor = Redactor(known_secrets(settings))
    use_redactor(redactor)  # every log record from here on, third-party loggers included
    registry = catalog.registry(settings)  # built-in tools + catalog.paths, kept current
    policy = (
        Policy.from_file(Path(settings.security.policy_file), registry)
        if settings.security.policy_file
        else Policy.default(registry)
    )
    cache = build_cache(settings.redis.url, settings.redis.key_prefix)
    cipher = await credential_cipher(settings, sessions)
    assets = SqlAssetRepository(sessions, cipher)
    if settings.embedded_default:  # never production, never a configured database
        await seed_demo_inventory(assets)
    store = SqlExecutionStore(sessions, seal=PlanSeal(redactor, cipher))
    audit = await audit_log(settings, sessions, redactor)
    services, closers = await wiring.tool_services(settings, sessions, assets)
    api_tokens = SqlApiTokens(sessions)
    identity = ApiIdentities(await wiring.identity_resolver(settings, cache, closers), api_tokens, cache)
    dispatcher = await scaleout.step_dispatcher(settings, store, closers)
    executor = Executor(
        registry,
        policy,
        store,
        services=services,
        max_concurrency=settings.execution.max_concurrency,
        redact=redactor.redact_text,
        dispatcher=dispatcher,
        locks=SqlTargetLocks(sessions),
        lock_wait_s=settings.jobs.lock_wait_s,
        # steps run here die with this replica: on resume, settle them as the arq worker would
        recovery=SqlStepRecovery(sessions) if dispatcher is None else None,
        retry_changes=settings.jobs.retry_changes,
        max_duration_s=settings.execution.max_duration_s,
    )
    telemetry = TelemetryDispatcher(executor.dispatcher, SqlToolCatalog(sessions), registry)
    await telemetry.sync()  # the tools table lists the catalog as loaded
    executor.dispatcher = telemetry
    fallback, summarizer = wiring.llm(settings, cache, closers)
    planner = HybridPlanner(
        registry,
        assets,
        fallback=fallback,
        confirmer=fallback,  # changes read from free text are checked by the same LLM
        threshold=settings.llm.confidence_threshold,
        permitted_tools=policy.permitted_tools,
        conversations=Conversations(cache),  # Redis across replicas, in-process on one
        fallback_timeout_s=settings.stages.llm_call_s,
    )
    kernel = Kernel(
        planner=planner,
        policy=policy,
        identity=identity,
        store=store,
        audit=audit,
        executor=executor,
        config=KernelConfig(
            settings.security.approval_ttl_s,
            settings.security.max_message_chars,
            driver_lease_s=settings.execution.driver_lease_s,
            identity_timeout_s=settings.stages.identity_s,
            plan_timeout_s=settings.stages.understand_s,
            undo_ttl_s=settings.security.undo_ttl_s,
            summary_timeout_s=settings.stages.llm_call_s,
        ),
        admission=wiring.admission(settings, closers),
        impact=SqlImpactFacts(sessions, assets),
        redactor=redactor,
        files=services[FetchedFiles],  # fetched on a worker, attached here (db.files)
        summarizer=summarizer,
    )
    history = SqlHistory(sessions)
    kernel.schedules = Scheduler(kernel, SqlScheduleStore(sessions), by=kernel.driver, history=history)
    kernel.history = Historian(history, planner, MatplotlibCharts(settings.home / "charts"))
    return App(
        settings,
        kernel,
        engine,
        cache,
        registry,
        policy,
        assets,
        audit,
        redactor,
        closers,
        dispatcher,
        sessions=sessions,
        api_tokens=api_tokens,
    )


async def seed_demo_inventory(assets: SqlAssetRepository) -> None:
    """Seed an empty inventory; replicas starting together may race, and one seed is enough."""
    try:
        await seed_if_empty(assets)
    except OpsError:
        if not await assets.snapshot():
            raise


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[App]:
    app = await build_app(settings)
    try:
        yield app
    finally:
        await app.close()


def roles_file(settings: Settings) -> Path:
    return Path(settings.security.roles_file) if settings.security.roles_file else default_file("roles.yaml")


def static_resolver(settings: Settings) -> StaticRolesResolver:
    return StaticRolesResolver.from_file(roles_file(settings))


__all__: Sequence[str] = ("App", "build_app", "console_identity", "running_app")
