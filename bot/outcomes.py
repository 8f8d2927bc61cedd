"""Telling a console requester what became of the requests another person decided.

A plan asked for on the console and approved (or rejected) by someone else, from another
terminal, Slack, Teams or the web console, runs in the approver's process, so the requester's
terminal never saw it end. Their next `opsconductor ask`, `approve` or `chat` opens with one line
per such request since they were last told (a marker file per person in their home), on stderr
so that `--json` output stays clean.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bot import preflight
from bot.app import App
from db.execution_history import DecidedOutcome, decided_by_others
from pipeline.contracts import ChatIdentity
from pipeline.errors import OpsError


def _marker(app: App, subject: str) -> Path:
    return app.settings.home / f"told-{hashlib.sha256(subject.encode()).hexdigest()[:12]}"


def _since(marker: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(marker.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _said(tool: str, found: dict[str, Any]) -> str:
    summary = (found.get("output") or {}).get("summary") or found.get("error", "")
    return f"{found.get('target') or tool}: {summary}"


def outcome_line(outcome: DecidedOutcome) -> str:
    run = outcome.execution
    verb = "approved" if outcome.approved else "rejected"
    when = outcome.decided_at.astimezone(UTC).strftime("%H:%M UTC")
    head = f'📣 {outcome.decided_by} {verb} your request "{run.request}" ({run.id}) at {when}'
    if not outcome.approved:
        return head
    said = [_said(step.tool, found) for step in run.steps for found in (step.result or {}).get("results", [])]
    return f"{head}: {run.status}" + (f" ({'; '.join(said)})" if said else "")


async def tell_outcomes(app: App, identity: ChatIdentity, out: Console) -> int:
    """Print what others decided on this person's requests since they were last told; how many."""
    try:
        person = await app.kernel.identity.resolve(identity)
    except OpsError:  # the identity source is down: the request's own reply says so
        return 0
    if person is None or app.sessions is None:
        return 0
    marker, now = _marker(app, person.subject), datetime.now(UTC)
    since = _since(marker)
    try:
        preflight.secure_home(app.settings.home)
        preflight.private_file(marker)
        marker.write_text(now.isoformat(), encoding="ascii")
    except (OpsError, OSError):  # a home that cannot be written: the request itself still runs
        return 0
    if since is None:  # the first run: nothing older is news
        return 0
    outcomes = await decided_by_others(app.sessions, person.subject, since)
    for outcome in outcomes:
        out.print(outcome_line(outcome), markup=False, highlight=False, soft_wrap=True)
    return len(outcomes)
