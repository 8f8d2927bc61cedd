"""Automation tools against a real OpenSSH sshd (tests/integration/sshd_testbed.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from adapters.localfiles import DirectoryFetchedFiles, DirectoryTemplates
from adapters.ssh import AsyncsshShell
from adapters.ssh.files import AsyncsshFiles
from domains.automation.ports import FetchedFiles, FileTemplates, RemoteFiles, RemoteShell
from domains.automation.tools import automation
from pipeline.contracts import AssetRef, ToolOutput
from pipeline.registry import ToolContext
from tests.integration.sshd_fixtures import (
    in_testbed,
    sessions,
    shell_fixture,
    sshd_testbed,
    testbed_known_hosts,
)

__all__ = ["in_testbed", "sessions", "sshd_testbed", "testbed_known_hosts"]

RunTool = Callable[..., Awaitable[ToolOutput]]


shell = shell_fixture()


@pytest.fixture
def services(shell: AsyncsshShell, tmp_path: Path) -> dict[type[Any], Any]:
    return {
        RemoteShell: shell,
        RemoteFiles: AsyncsshFiles(shell),
        FetchedFiles: DirectoryFetchedFiles(tmp_path / "fetched"),
        FileTemplates: DirectoryTemplates([tmp_path / "templates"]),
    }


@pytest.fixture
def run_tool(services: dict[type[Any], Any]) -> RunTool:
    """Validate raw args with the tool's model, then call it on one target, as the executor does."""
    specs = {spec.name: spec for spec in automation.specs}

    async def run(name: str, target: AssetRef | None, **raw: Any) -> ToolOutput:
        spec = specs[name]
        ctx = ToolContext(execution_id="test", step_id="s1", services=services)
        return await spec.func(ctx, target, spec.parse_args(raw))

    return run
