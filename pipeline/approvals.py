"""An approval holds only for the plan its prompt showed: the checks behind that binding.

The digest itself is `pipeline.contracts.plan_digest` (`Plan.digest()`); every door that shows
a prompt (Slack, Teams, console, HTTP API, web console) shows `short_digest` of it and, where
it can, sends the digest back with the decision (`Decision.digest`). The kernel calls
`binding_problem` when someone approves and again before the run.
"""

from __future__ import annotations

from pipeline import messages
from pipeline.contracts import Plan, short_digest
from pipeline.ports import ApprovalRecord


def binding_problem(plan: Plan, approved: str, clicked: str = "") -> str | None:
    """Why a decision (or a run) must not proceed on `plan`, or None when it is the plan shown.

    `approved` is the digest stored with the approval (the plan its prompt showed); `clicked`
    is the digest the decider's prompt carried back ('' when their door carries none; a prefix
    of at least `DIGEST_SHORT` characters, as typed from a prompt, is accepted).
    """
    if not approved:
        return messages.APPROVAL_UNBOUND
    now = plan.digest()
    if now != approved:
        return messages.PLAN_CHANGED.format(shown=short_digest(approved), now=short_digest(now))
    shown = short_digest(approved)
    if clicked and not (len(clicked) >= len(shown) and approved.startswith(clicked.lower())):
        return messages.PROMPT_OUTDATED.format(clicked=short_digest(clicked), shown=shown)
    return None


def digests(plan: Plan, record: ApprovalRecord, clicked: str = "") -> dict[str, object]:
    """The digests involved in a refusal, for its audit record."""
    return {"approved_digest": record.digest, "plan_digest": plan.digest(), "clicked_digest": clicked}
