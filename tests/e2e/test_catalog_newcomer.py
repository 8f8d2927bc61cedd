"""A newcomer's tool: the YAML of the README's "Add your own tool" section, asked for in chat.

No code changes: the file is written to a catalog folder, FakeChat is built over it (as the
bot is over `catalog.paths`), and the request is worded as a person would, in words the
understanding layer has never been told about. The step then runs on the real sshd.
"""

from __future__ import annotations

import re
import secrets
import shutil
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.ssh import AsyncsshShell
from domains.automation.ports import RemoteShell
from pipeline.contracts import ApprovalPrompt, Reply, TargetStatus
from tests.fakes.chat import FakeChat
from tests.integration.sshd_fixtures import in_testbed, shell_fixture, sshd_testbed, testbed_known_hosts

__all__ = ["in_testbed", "sshd_testbed", "testbed_known_hosts"]
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_tool() -> str:
    """The first YAML block of the README's 'Add your own tool' section, as a newcomer copies it."""
    section = README.read_text().split("## Add your own tool", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's 'Add your own tool' section has no YAML example"
    return match.group(1)


shell = shell_fixture()


@pytest.fixture
def app_cache() -> Iterator[tuple[str, Path]]:
    """A cache folder of an application no test has used before (the sshd runs on this machine)."""
    app = "octest" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))
    folder = Path("/var/cache") / app
    folder.mkdir(parents=True)
    for i in range(3):
        (folder / f"entry{i}").write_text("cached")
    yield app, folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_readme_example_validates(tmp_path: Path) -> None:
    from bot.catalog import validate

    (tmp_path / "app.cache_flush.yaml").write_text(readme_tool())
    assert validate([tmp_path]) == ([], 1)


@pytest.mark.sshd
async def test_a_newcomers_tool_is_understood_approved_and_run(
    tmp_path: Path, shell: AsyncsshShell, app_cache: tuple[str, Path]
) -> None:
    app, folder = app_cache
    (tmp_path / "app.cache_flush.yaml").write_text(readme_tool())
    services: dict[type[Any], Any] = {RemoteShell: shell}
    chat = FakeChat(catalog_paths=[tmp_path], services=services)

    prompt = await chat.say(f"please purge the {app} cache on loopback-2")
    assert isinstance(prompt, ApprovalPrompt)
    [step] = prompt.plan.steps
    assert (step.tool, step.args, step.target_names) == ("app.cache_flush", {"app": app}, ["loopback-2"])
    reply = await chat.click(prompt, "alan")
    assert isinstance(reply, Reply) and reply.outcome == "answer"
    [result] = reply.result.steps[0].results  # type: ignore[union-attr]
    assert result.status is TargetStatus.OK, result
    assert result.output.summary == f"flushed 3 entries from the {app} cache"
    assert folder.is_dir() and not list(folder.iterdir())
    assert "request" in chat.memory_audit.events() and "plan" in chat.memory_audit.events()

    structured = await chat.say(f"/opsconductor app.cache_flush loopback-3 app={app}")
    assert isinstance(structured, ApprovalPrompt)
    assert structured.plan.steps[0].target_names == ["loopback-3"]
    refused = await chat.say(f"flush the {app} cache on loopback-2", user="vic")
    assert refused.outcome == "refused"
