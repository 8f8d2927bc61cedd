"""An undo the state no longer allows is refused as a conflict, with the reason, before anyone is
asked to approve it: a file changed again after the change (the undo would overwrite it), a
change already undone, a change that changed nothing. A refusal by rights stays a refusal by
policy. Real sshd (the testbed's loopback addresses share this file system), the whole pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.cli import EXIT_CLOSED, EXIT_REFUSED, exit_code_for
from pipeline.contracts import ApprovalPrompt, Reply, Response, TargetStatus
from tests.domains.automation.test_file_changes_sshd import approved, only_result, prepare, snapshot
from tests.fakes.chat import FakeChat
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

ORIGINAL = b"max_connections = 100\n"


async def undo(fake: FakeChat, execution_id: str | None, user: str = "olga") -> Response:
    assert execution_id is not None
    return await fake.click(ApprovalPrompt.model_construct(execution_id=execution_id), user, action="undo")


Changed = tuple[FakeChat, Path, Reply]


def write(path: Path, content: str) -> str:
    return f'automation.write_file loopback-2 path={path} content="{content}"'


@pytest.fixture
async def changed(services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path) -> Changed:
    """A chat, a file on loopback-2, and the finished change that wrote "max_connections = 200" there."""
    target = prepare(tmp_path / "etc" / "pg.conf", ORIGINAL, 0o644, (0, 0))
    fake = FakeChat(services=services)
    return fake, target, await approved(fake, write(target, "max_connections = 200"))


def refused(response: Response, *, conflict: bool) -> Reply:
    assert isinstance(response, Reply) and response.outcome == "refused", response
    assert response.conflict is conflict
    assert exit_code_for(response) == (EXIT_CLOSED if conflict else EXIT_REFUSED)
    return response


async def test_a_file_changed_after_the_change_is_not_overwritten_by_its_undo(
    changed: Changed,
) -> None:
    fake, target, wrote = changed
    target.write_bytes(b"max_connections = 300\n")  # someone else's change, after ours
    before = snapshot(target.parent)
    reply = refused(await undo(fake, wrote.execution_id), conflict=True)
    assert f"what execution {wrote.execution_id} changed has changed again since" in reply.summary
    assert f"loopback-2: {target} on loopback-2 was changed after the change being undone" in reply.summary
    assert snapshot(target.parent) == before
    assert fake.memory_store.executions and not any(
        ex.plan.undo_of for ex in fake.memory_store.executions.values()
    )  # nothing was planned, nobody is asked
    events = [r["event"] for r in fake.memory_audit.records]
    assert events[-1] == "undo.refused"


async def test_a_file_changed_while_its_undo_waits_is_left_as_it_is(
    changed: Changed,
) -> None:
    fake, target, wrote = changed
    prompt = await undo(fake, wrote.execution_id)
    assert isinstance(prompt, ApprovalPrompt), prompt  # the file is as the change left it
    target.write_bytes(b"max_connections = 300\n")  # changed before anyone approved the undo
    done = await fake.click(prompt, "alan")
    assert isinstance(done, Reply)
    result = only_result(done)
    assert result.status is TargetStatus.FAILED and "not overwritten" in result.error
    assert target.read_bytes() == b"max_connections = 300\n"


async def test_undo_of_an_undone_change_and_of_a_change_that_changed_nothing(
    changed: Changed,
) -> None:
    fake, target, wrote = changed
    prompt = await undo(fake, wrote.execution_id)
    assert isinstance(prompt, ApprovalPrompt), prompt
    back = await fake.click(prompt, "alan")
    assert isinstance(back, Reply) and target.read_bytes() == ORIGINAL
    again = refused(await undo(fake, wrote.execution_id), conflict=True)
    assert f"already undone by execution {prompt.execution_id} (succeeded)" in again.summary

    same = await approved(fake, write(target, "max_connections = 100"))
    nothing = refused(await undo(fake, same.execution_id), conflict=True)
    assert f"Nothing of execution {same.execution_id} can be undone: " in nothing.summary
    assert "nothing was changed" in nothing.summary


async def test_an_undo_beyond_the_person_s_rights_is_refused_by_policy(
    changed: Changed,
) -> None:
    fake, target, wrote = changed
    target.write_bytes(b"max_connections = 300\n")  # a conflict too, but rights are decided first
    reply = refused(await undo(fake, wrote.execution_id, user="vic"), conflict=False)
    assert reply.summary.startswith("Not permitted")
    assert target.read_bytes() == b"max_connections = 300\n"
