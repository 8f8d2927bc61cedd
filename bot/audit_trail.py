"""The `opsconductor audit` commands: verify the chain, export its head, key an old chain.

They open the database and the audit log only (no chat, no inventory seeding), with the
same key and head file as the running bot (bot.app.audit_log).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot import preflight
from bot.app import audit_head_file, audit_log, known_secrets, prepare_database
from bot.settings import Settings
from db.audit import SqlAuditLog, VerifyReport
from db.audit_anchor import AUDIT_KEY_FILE, AuditKey, HeadFile, create_key_file, load_heads
from db.engine import session_factory
from db.types import utcnow
from pipeline.redaction import Redactor


@asynccontextmanager
async def opened_audit(settings: Settings) -> AsyncIterator[SqlAuditLog]:
    engine = await prepare_database(settings)
    try:
        yield await audit_log(settings, session_factory(engine), Redactor(known_secrets(settings)))
    finally:
        await engine.dispose()


async def verify_audit(settings: Settings, exported: Sequence[str] = ()) -> tuple[bool, str]:
    """Check the chain (keyed hashes, links, head row) against the head file and every `exported`
    head (``SEQ:HASH`` or a file of them); (ok, the one line to print)."""
    heads = [head for value in exported for head in load_heads(value)]
    async with opened_audit(settings) as audit:
        report = await audit.verify([*heads, *(audit.anchor.heads() if audit.anchor else [])])
    return report.ok, verdict(report)


def verdict(report: VerifyReport) -> str:
    if not report.ok:
        return f"audit chain BROKEN at record {report.first_bad_seq}: {report.reason}"
    anchored = (
        f", matches the anchored head at record {report.anchored}"
        if report.anchored
        else ", not checked against an anchored head (none given)"
    )
    return f"audit chain intact: {report.records} records{anchored if report.records else ''}"


async def export_head(settings: Settings) -> str:
    """``SEQ:HASH`` of the chain's last record, after the chain verified (never anchor a forgery)."""
    async with opened_audit(settings) as audit:
        report = await audit.verify(audit.anchor.heads() if audit.anchor else [])
        seq, digest = await audit.head()
    if not report.ok:
        raise ValueError(f"{verdict(report)}; its head is not exported")
    return f"{seq}:{digest}"


async def init_audit_key(settings: Settings) -> str:
    """Key a chain written before keyed hashes (production refuses to guess): the records so far
    stay plain sha256 and verifiable, every later one is an HMAC. Returns what was done."""
    engine = await prepare_database(settings)
    try:
        audit = SqlAuditLog(session_factory(engine))
        last, unkeyed = await audit.chain_end()
        report = await audit.verify()
        _, last_hash = await audit.head()
    finally:
        await engine.dispose()
    if not unkeyed:
        raise ValueError(f"audit record {last} is already keyed; restore the audit key file from a backup")
    if not report.ok:
        raise ValueError(f"{verdict(report)}; not keying a broken chain")
    if settings.security.audit_key.get_secret_value().strip():
        return f"security.audit_key is set: set security.audit_unkeyed_through={last} beside it"
    path = settings.home / AUDIT_KEY_FILE
    if path.exists():
        raise ValueError(f"the audit key file {path} already exists")
    preflight.secure_home(settings.home)
    create_key_file(path, AuditKey.generate(unkeyed_through=last))
    if last:  # anchor the unkeyed chain's end: its records are covered by the first keyed one
        HeadFile(audit_head_file(settings)).append(last, last_hash, utcnow())
    return f"created {path}: records 1..{last} stay unkeyed (plain sha256), every later one is keyed"
