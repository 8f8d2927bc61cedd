"""The shipped packs: their fixed names load, run on the real sshd, and are asked for in words."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from adapters.winrm import PywinrmRemote
from domains.assets.importer import load_inventory
from domains.automation.ports import WindowsRemote
from domains.catalog import build_registry
from domains.packs import SHIPPED
from pipeline.contracts import AssetRef, Principal, Risk, ToolOutput
from pipeline.nlu import DeterministicUnderstander
from pipeline.registry import ToolContext, ToolRegistry
from tests.adapters.winrm.conftest import Script, script, windows, winrm_config, wsman
from tests.adapters.winrm.wsman_standin import Canned, WsmanStandIn
from tests.integration.sshd_fixtures import SSH_HOSTS
from tests.pipeline.planning import ALT, REFERENCE, planner_on
from tests.services import WORKDIR_PREFIX, PostgresServer

__all__ = ["script", "windows", "winrm_config", "wsman"]
REGISTRY = build_registry([SHIPPED])
PLANNER = planner_on(REFERENCE, REGISTRY)
OPERATOR = Principal(subject="olga", roles=frozenset({"operator"}))
WEB = AssetRef(name="web-01", address=SSH_HOSTS[4], os="linux")
WIN = AssetRef(name="win-app-01", address="127.0.0.1", os="windows", type="app_server")
CONTRACT = {
    "diag.collect": Risk.READ,
    "linux.disk_cleanup": Risk.WRITE,
    "linux.package_version": Risk.READ,
    "db.pg_activity": Risk.READ,
    "web.rolling_restart": Risk.WRITE,
    "windows.service_restart": Risk.WRITE,
}


def test_the_contract_names_and_risks() -> None:
    assert {name: REGISTRY.get(name).risk for name in CONTRACT} == CONTRACT
    assert REGISTRY.get("web.rolling_restart").run_all is not None
    for name in CONTRACT:
        assert REGISTRY.get(name).source.startswith(str(SHIPPED))


async def _run(
    registry: ToolRegistry, services: dict[type[Any], Any], name: str, target: AssetRef, **raw: Any
) -> ToolOutput:
    spec = registry.get(name)
    ctx = ToolContext(execution_id="test", step_id="s1", services=services)
    return await spec.func(ctx, target, spec.parse_args(raw))


@pytest.mark.sshd
async def test_diag_collect_reports_each_section(services: dict[type[Any], Any]) -> None:
    out = await _run(REGISTRY, services, "diag.collect", WEB, lines=5)
    assert out.ok and out.summary.startswith("up ") and "load" in out.summary and "% used" in out.summary
    for section in ("uptime and load", "memory", "disk", "top processes", "failed units", "last errors"):
        assert f"== {section}" in out.stdout


@pytest.mark.sshd
async def test_package_version_matches_the_package_database(services: dict[type[Any], Any]) -> None:
    local = _installed("openssh-server")
    out = await _run(REGISTRY, services, "linux.package_version", WEB, package="openssh-server")
    assert out.data == {"version": local} and out.summary == f"openssh-server {local}"
    missing = await _run(REGISTRY, services, "linux.package_version", WEB, package="no-such-package-xyz")
    assert missing.data == {"version": "not installed"}


@pytest.mark.sshd
async def test_disk_cleanup_dry_run_removes_nothing(services: dict[type[Any], Any]) -> None:
    logs = _log_files()
    out = await _run(REGISTRY, services, "linux.disk_cleanup", WEB, dry_run=True, rotated_days=1)
    assert out.ok and "dry run: nothing removed" in out.stdout
    assert out.data["freed_kb"] == "0" and out.summary.startswith("freed 0 KiB")
    assert _log_files() == logs


def _installed(package: str) -> str:
    """The version this machine's package database holds (the sshd testbed is this machine)."""
    query = ["dpkg-query", "-W", "-f=${Version}", package]
    return subprocess.run(query, capture_output=True, text=True, check=True).stdout


def _log_files() -> list[Path]:
    return sorted(p for p in Path("/var/log").rglob("*") if p.is_file())


async def test_windows_service_restart_sends_typed_literal_parameters(
    windows: PywinrmRemote, wsman: WsmanStandIn, script: Script
) -> None:
    script.on("Restart-Service", Canned(stdout=json.dumps({"Name": "W3SVC", "Status": "Running"})))
    services: dict[type[Any], Any] = {WindowsRemote: windows}
    out = await _run(REGISTRY, services, "windows.service_restart", WIN, service="W3SVC", wait="90s")
    assert out.ok and out.summary == "W3SVC is Running"
    sent = wsman.seen.scripts[0]
    assert "param([string]$service, [double]$wait)" in sent
    assert sent.rstrip().endswith("} -service 'W3SVC' -wait 90")
    quoted = await _run(REGISTRY, services, "windows.service_restart", WIN, service="Web $x")
    assert quoted.ok and wsman.seen.scripts[1].rstrip().endswith("-service 'Web $x' -wait 60")


EXAMPLES = [(spec.name, text) for spec in REGISTRY if spec.source for text in spec.phrasing.examples]


@pytest.mark.parametrize(("tool", "text"), EXAMPLES, ids=[t for _, t in EXAMPLES])
async def test_every_shipped_example_plans_its_tool(tool: str, text: str) -> None:
    plan = await PLANNER.plan(text, OPERATOR)
    assert plan.outcome == "plan", plan.message
    assert [s.tool for s in plan.steps] == [tool]


async def test_rolling_restart_in_words() -> None:
    plan = await PLANNER.plan("roll nginx restarts through the prod web servers two at a time", OPERATOR)
    [step] = plan.steps
    assert step.args["service"] == "nginx" and step.args["batch_size"] == 2
    assert step.target_names == ["web-01", "web-02", "web-03"]
    assert "batch 1: web-01, web-02" in step.outline and "batch 2: web-03" in step.outline


def test_help_names_the_catalog_tools() -> None:
    """Each with its first declared example that plans here; its hosts, the inventory's own."""
    understander = DeterministicUnderstander(REGISTRY)
    text = understander.understand("help", load_inventory(REFERENCE)).message
    assert re.search(r"^  collect diagnostics from web-01 +diag\.collect$", text, re.MULTILINE), text
    alt = understander.understand("help", load_inventory(ALT)).message
    assert re.search(r"^  collect diagnostics from app-eu-7 +diag\.collect$", alt, re.MULTILINE), alt
    empty = understander.understand("help", ()).message
    assert re.search(r"^  collect diagnostics from <host> +diag\.collect$", empty, re.MULTILINE), empty


def test_every_example_of_the_docs_page_validates(tmp_path: Path) -> None:
    from domains.packs.loader import load_catalog

    docs = Path(__file__).resolve().parents[3] / "docs" / "catalog.md"
    blocks = re.findall(r"```yaml\n(.*?)```", docs.read_text(), re.DOTALL)
    whole = []
    for n, block in enumerate(blocks):
        text = re.sub(r"^name: .*$", f"name: docs.example_{n}", block, flags=re.MULTILINE)
        if not text.startswith(("name:", "kind:")):
            continue  # a fragment (one section of a definition)
        (tmp_path / f"example{n}.yaml").write_text(text)
        whole.append(f"docs.example_{n}")
    assert len(whole) >= 2  # the command tool and the runbook
    loaded = load_catalog([SHIPPED, tmp_path], builtin=build_registry().builtin)
    assert set(whole) <= {e.spec.name for e in loaded.entries}


def _socket_folder(port: int) -> Path:
    """The folder of the test PostgreSQL's socket (the sshd testbed has its own loopback, so
    psql on the 'host' reaches the server through the socket; the file system is shared)."""
    found = sorted(Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}pg-*/.s.PGSQL.{port}"))
    if not found:
        pytest.skip("the test PostgreSQL has no socket here (an external server)")
    return found[0].parent


@pytest.mark.sshd
async def test_pg_activity_sees_a_long_query(
    services: dict[type[Any], Any], postgres_server: PostgresServer
) -> None:
    url = postgres_server.admin_url
    assert url.port is not None
    folder = _socket_folder(url.port)
    conn = await asyncpg.connect(host=str(folder), port=url.port, user="postgres", database="postgres")
    sleeper = asyncio.ensure_future(conn.execute("select pg_sleep(4)"))
    try:
        await asyncio.sleep(2)
        out = await _run(
            REGISTRY, services, "db.pg_activity", WEB, host=str(folder), port=url.port, min_duration="1s"
        )
    finally:
        await sleeper
        await conn.close()
    assert out.ok, out.stderr
    assert int(out.data["sessions"]) >= 2 and int(out.data["long_running"]) >= 1
    assert "select pg_sleep(4)" in out.stdout and "== lock waits" in out.stdout
