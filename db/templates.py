"""Notification templates and the delivery log: implements the ports of `domains.communication.ports`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import store_errors
from db.models import DeliveryLog as DeliveryLogRow
from db.models import Execution
from db.models import MessageTemplate as MessageTemplateRow
from domains.communication.ports import DeliveryAttempt, MessageTemplate
from domains.communication.templates import DEFAULT_TEMPLATES, check


def _template(row: MessageTemplateRow) -> MessageTemplate:
    return MessageTemplate(name=row.name, body=row.body, subject=row.subject, channel=row.channel)


class SqlTemplateStore:
    """Templates in `message_templates`; `save` validates the Jinja2 syntax before storing."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def list_templates(self) -> Sequence[MessageTemplate]:
        async with store_errors(), self._sessions() as session:
            rows = await session.scalars(select(MessageTemplateRow).order_by(MessageTemplateRow.name))
            return [_template(r) for r in rows]

    async def get_template(self, name: str) -> MessageTemplate | None:
        async with store_errors(), self._sessions() as session:
            row = await session.scalar(select(MessageTemplateRow).where(MessageTemplateRow.name == name))
            return _template(row) if row is not None else None

    async def save(self, template: MessageTemplate) -> None:
        """Create or replace the template of that name (ToolFailed for invalid Jinja2)."""
        check(template.body)
        check(template.subject)
        async with store_errors(), self._sessions.begin() as session:
            row = await session.scalar(
                select(MessageTemplateRow).where(MessageTemplateRow.name == template.name)
            )
            if row is None:
                row = MessageTemplateRow(name=template.name, body="")
                session.add(row)
            row.body, row.subject, row.channel = template.body, template.subject, template.channel

    async def add_if_absent(self, template: MessageTemplate) -> bool:
        """Insert unless a template of that name exists; safe when processes start together."""
        check(template.body)
        check(template.subject)
        values = {
            "name": template.name,
            "body": template.body,
            "subject": template.subject,
            "channel": template.channel,
        }
        async with store_errors(), self._sessions.begin() as session:
            insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
            statement = insert(MessageTemplateRow).values(**values).on_conflict_do_nothing()
            result = await session.execute(statement)
            return bool(getattr(result, "rowcount", 0))

    async def delete(self, name: str) -> bool:
        async with store_errors(), self._sessions.begin() as session:
            row = await session.scalar(select(MessageTemplateRow).where(MessageTemplateRow.name == name))
            if row is None:
                return False
            await session.delete(row)
            return True


async def seed_default_templates(store: SqlTemplateStore) -> int:
    """Store the shipped templates that are not there yet (by name); returns how many were added."""
    present = {t.name for t in await store.list_templates()}
    added = 0
    for template in DEFAULT_TEMPLATES:
        if template.name not in present:
            added += await store.add_if_absent(template)
    return added


class SqlDeliveryLog:
    """One `delivery_logs` row per attempt; the recipient is stored masked, the route name as given."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, attempt: DeliveryAttempt) -> None:
        async with store_errors(), self._sessions.begin() as session:
            execution = None
            if attempt.execution_id:
                execution = await session.scalar(
                    select(Execution.id).where(Execution.id == attempt.execution_id)
                )
            session.add(
                DeliveryLogRow(
                    execution_id=execution,
                    channel=attempt.channel,
                    template=attempt.template,
                    to_redacted=_shown_to(attempt)[:255],
                    status=attempt.status,
                    attempts=attempt.attempts,
                    error=attempt.error,
                )
            )

    async def recent(self, limit: int = 50) -> Sequence[DeliveryAttempt]:
        """The latest attempts, newest first (route is folded into to_redacted when it differs)."""
        async with store_errors(), self._sessions() as session:
            rows = await session.scalars(
                select(DeliveryLogRow).order_by(DeliveryLogRow.id.desc()).limit(limit)
            )
            return [
                DeliveryAttempt(
                    channel=r.channel,
                    route="",
                    to_redacted=r.to_redacted,
                    status=r.status,  # type: ignore[arg-type]
                    attempts=r.attempts,
                    error=r.error,
                    template=r.template,
                    execution_id=r.execution_id,
                )
                for r in rows
            ]


def _shown_to(attempt: DeliveryAttempt) -> str:
    """ "o***@example.org" or "o***@example.org via email:oncall" when a named route was used."""
    plain = (attempt.channel, attempt.to_redacted, f"{attempt.channel}:{attempt.to_redacted}")
    if attempt.route and attempt.route not in plain:
        return f"{attempt.to_redacted} via {attempt.route}"
    return attempt.to_redacted
