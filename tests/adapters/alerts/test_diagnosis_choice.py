"""Which tool diagnoses an alert is catalog data (`diagnoses:` on a definition), not a tool name in
code: the shipped catalog's `diag.collect` for any alert, a team's definition for the alerts it
names, the built-in fallback when the catalog declares none, and the settings still override."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.alerts import AlertConfig, AlertDiagnosis
from adapters.alerts.payloads import Alert
from adapters.cache.inprocess import InProcessCache
from domains.catalog import build_registry
from domains.packs import SHIPPED
from domains.packs.loader import CatalogInvalid
from pipeline.contracts import InboundMessage, Reply, Response
from pipeline.registry import ToolRegistry
from tests.adapters.alerts.test_claims import Inventory

DISK_REPORT = """\
name: site.disk_report
description: Which folders fill the disk.
risk: read
diagnoses: [DiskFull]
linux:
  argv: [du, -sh, /var]
"""

CLEANUP = """\
name: site.cleanup
description: Remove old files.
risk: write
diagnoses: [DiskFull]
linux:
  argv: [find, /var/tmp, -mtime, "+30", -delete]
"""


class Poster:
    name, channel = "slack", "CALERTS"

    def __init__(self) -> None:
        self.headlines: list[str] = []

    async def open(self, text: str) -> str:
        self.headlines.append(text)
        return "1700000000.000001"

    async def note(self, thread: str, text: str) -> None:
        pass

    async def findings(self, message: InboundMessage, response: Response) -> None:
        pass


async def diagnosed_with(registry: ToolRegistry, alert: str, config: AlertConfig | None = None) -> str:
    """The structured request the webhook submits for one firing `alert` on web-01."""
    asked: list[str] = []

    async def submit(message: InboundMessage) -> Response:
        asked.append(message.text)
        return Reply(outcome="answer", summary="fine")

    poster = Poster()
    diagnosis = AlertDiagnosis(
        submit, Inventory(), registry, InProcessCache(), [poster], config or AlertConfig()
    )
    fired = Alert(name=alert, status="firing", labels={"host": "web-01"}, fingerprint=f"fp-{alert}")
    await diagnosis.receive([fired])
    await diagnosis.drain()
    (text,) = asked
    return text.split()[0].lstrip("/")


def catalog(tmp_path: Path, **files: str) -> Path:
    folder = tmp_path / "catalog"
    folder.mkdir()
    for name, text in files.items():
        (folder / f"{name}.yaml").write_text(text)
    return folder


async def test_the_shipped_catalog_diagnoses_any_alert_with_its_declared_runbook() -> None:
    registry = build_registry([SHIPPED])
    assert registry.diagnosis_for("HighLoad") is registry.get("diag.collect")
    assert await diagnosed_with(registry, "HighLoad") == "diag.collect"


async def test_without_a_catalog_the_built_in_declaration_diagnoses() -> None:
    registry = build_registry()
    declared = registry.diagnosis_for("HighLoad")
    assert declared is not None and declared.source == "" and "*" in declared.diagnoses
    assert await diagnosed_with(registry, "HighLoad") == declared.name


async def test_a_definition_naming_the_alert_comes_before_any_alert_s(tmp_path: Path) -> None:
    registry = build_registry([SHIPPED, catalog(tmp_path, disk=DISK_REPORT)])
    assert await diagnosed_with(registry, "DiskFull") == "site.disk_report"
    assert await diagnosed_with(registry, "HighLoad") == "diag.collect"


async def test_the_settings_override_the_catalog_but_never_with_a_change_tool(tmp_path: Path) -> None:
    registry = build_registry([SHIPPED, catalog(tmp_path, disk=DISK_REPORT)])
    named = AlertConfig(runbooks={"DiskFull": "linux.package_version"})
    assert await diagnosed_with(registry, "DiskFull", named) == "linux.package_version"
    everywhere = AlertConfig(runbook="linux.package_version")
    assert await diagnosed_with(registry, "HighLoad", everywhere) == "linux.package_version"
    writes = AlertConfig(runbooks={"DiskFull": "linux.disk_cleanup"}, runbook="linux.disk_cleanup")
    assert await diagnosed_with(registry, "DiskFull", writes) == "site.disk_report"


def test_a_change_tool_cannot_declare_a_diagnosis(tmp_path: Path) -> None:
    with pytest.raises(CatalogInvalid) as refused:
        build_registry([catalog(tmp_path, cleanup=CLEANUP)])
    (problem,) = refused.value.problems
    assert "cleanup.yaml:" in problem and "only a read tool may diagnose alerts" in problem
