"""write_file and copy_file through the whole pipeline on a real sshd: approval, check mode that
changes nothing, undo that restores the backup byte for byte, and a copy between two loopback
assets (loopback-2 and loopback-3 of the demo inventory: two addresses of the testbed's sshd,
which shares this machine's file system, so the test looks at the files directly).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from adapters.rendering import plan_notes
from pipeline.contracts import ApprovalPrompt, Reply, TargetResult, TargetStatus
from tests.fakes.chat import FakeChat
from tests.integration.sshd_testbed import SshdTestbed

pytestmark = pytest.mark.sshd

ORIGINAL = b"# tuned by hand\x00\xff\xfe\nworkers = 4\r\nlast line without newline"


def content(path: Path | str) -> bytes:
    return Path(path).read_bytes()


def attributes(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_mode & 0o7777, found.st_uid, found.st_gid


def snapshot(folder: Path) -> dict[str, tuple[bytes, int, int, tuple[int, int, int]]]:
    """Every file of `folder`: content, inode, mtime, mode/owner."""
    out = {}
    for name in sorted(os.listdir(folder)):
        path = folder / name
        out[name] = (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns, attributes(path))
    return out


def prepare(path: Path, data: bytes, mode: int, owner: tuple[int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chown(path, *owner)
    path.chmod(mode)
    return path


def only_result(reply: Reply) -> TargetResult:
    assert reply.result is not None, reply
    [step] = reply.result.steps
    [result] = step.results
    return result


async def approved(fake: FakeChat, text: str) -> Reply:
    prompt = await fake.say(text)
    assert isinstance(prompt, ApprovalPrompt), prompt
    reply = await fake.click(prompt, "alan")
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    return reply


async def undone(fake: FakeChat, reply: Reply) -> Reply:
    assert reply.execution_id is not None
    stub = ApprovalPrompt.model_construct(execution_id=reply.execution_id)
    prompt = await fake.click(stub, "olga", action="undo")
    assert isinstance(prompt, ApprovalPrompt) and prompt.plan.undo_of == reply.execution_id, prompt
    back = await fake.click(prompt, "alan")
    assert isinstance(back, Reply) and back.outcome == "answer", back
    return back


async def test_check_of_write_file_shows_the_diff_and_changes_nothing(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    target = prepare(tmp_path / "etc" / "app.conf", b"a = 1\nb = 2\n", 0o640, (1234, 2345))
    before = snapshot(target.parent)
    fake = FakeChat(services=services)
    reply = await fake.say(
        f'automation.write_file loopback-2 path={target} content="a = 1\nb = 3"', check=True
    )
    assert isinstance(reply, Reply) and reply.outcome == "answer", reply
    result = only_result(reply)
    assert result.status is TargetStatus.OK, result.error
    assert "-b = 2" in result.output.stdout and "+b = 3" in result.output.stdout
    assert result.output.data["check"] and "would change +1 -1 lines" in result.output.summary
    assert snapshot(target.parent) == before  # nothing written, no backup, no temporary file


async def test_undo_of_write_file_restores_the_backup_byte_for_byte(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    target = prepare(tmp_path / "etc" / "app.conf", ORIGINAL, 0o640, (1234, 2345))
    fake = FakeChat(services=services)
    wrote = await approved(
        fake, f'automation.write_file loopback-2 path={target} content="workers = 8" mode=0600'
    )
    assert target.read_bytes() == b"workers = 8\n" and attributes(target) == (0o600, 1234, 2345)
    backup = only_result(wrote).output.data["backup"]
    assert content(backup) == ORIGINAL
    written = only_result(wrote).output.data["sha256"]  # the undo copies back over these bytes only
    assert wrote.undo is not None and wrote.undo.steps == (
        f"automation.copy_file path={backup} to=loopback-2 to_path={target} "
        f"if_sha256={written} on loopback-2",
    )

    restored = await undone(fake, wrote)
    result = only_result(restored)
    assert result.status is TargetStatus.OK, result.error
    assert target.read_bytes() == ORIGINAL
    assert attributes(target) == (0o640, 1234, 2345)  # the backup's mode and owner came back too
    events = [r["event"] for r in fake.memory_audit.records]
    assert events.count("approval.approved") == 2


async def test_copy_between_two_assets_keeps_a_backup_and_undoes(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source = prepare(tmp_path / "web" / "site.conf", b"server_name shop;\n", 0o644, (1234, 2345))
    there = prepare(tmp_path / "db" / "site.conf", b"server_name old;\n", 0o600, (3456, 4567))
    fake = FakeChat(services=services)
    copied = await approved(
        fake, f"automation.copy_file loopback-2 path={source} to=loopback-3 to_path={there}"
    )
    result = only_result(copied)
    assert result.status is TargetStatus.OK, result.error
    assert there.read_bytes() == b"server_name shop;\n"
    assert attributes(there) == (0o644, 3456, 4567)  # the source's mode; the owner there is kept
    assert result.output.data["source"] == "loopback-2" and result.output.data["asset"] == "loopback-3"
    assert "-server_name old;" in result.output.stdout
    assert copied.undo is not None and copied.undo.steps[0].endswith("on loopback-3")  # where it landed

    await undone(fake, copied)
    assert there.read_bytes() == b"server_name old;\n" and attributes(there) == (0o600, 3456, 4567)
    assert source.read_bytes() == b"server_name shop;\n"


async def test_a_copy_asked_in_words_lands_at_the_same_path_there(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    source = prepare(tmp_path / "srv" / "motd", b"welcome\n", 0o644, (1234, 2345))
    fake = FakeChat(services=services)
    copied = await approved(fake, f"copy {source} from loopback-2 to loopback-3, same path")
    [step] = copied.plan.steps if copied.plan is not None else [None]
    assert step is not None and step.tool == "automation.copy_file"
    assert (step.target_names, step.args["to"], step.args["to_path"]) == (
        ["loopback-2"],
        "loopback-3",
        str(source),
    )
    result = only_result(copied)
    assert result.status is TargetStatus.OK, result.error
    # the testbed's assets share one file system: the same path there is this very file, unchanged
    assert result.output.data["asset"] == "loopback-3" and result.output.data["changes"] is False
    assert source.read_bytes() == b"welcome\n"


async def test_the_approval_prompt_shows_the_diff_before_anything_changes(
    services: dict[type[Any], Any], in_testbed: SshdTestbed, tmp_path: Path
) -> None:
    target = prepare(tmp_path / "etc" / "app.conf", b"a = 1\nb = 2\n", 0o640, (1234, 2345))
    before = snapshot(target.parent)
    fake = FakeChat(services=services)
    prompt = await fake.say(f'automation.write_file loopback-2 path={target} content="a = 1\nb = 3"')
    assert isinstance(prompt, ApprovalPrompt) and prompt.plan.impact is not None
    [preview] = prompt.plan.impact.previews
    assert preview.target == "loopback-2" and "would change +1 -1 lines" in preview.summary
    assert "-b = 2\n+b = 3" in preview.text
    lines = plan_notes(prompt.plan)
    assert "🔍 loopback-2: check write" in "\n".join(lines) and "    +b = 3" in lines
    assert snapshot(target.parent) == before  # the preview changed nothing
    done = await fake.click(prompt, "alan")
    assert isinstance(done, Reply) and target.read_bytes() == b"a = 1\nb = 3\n"
