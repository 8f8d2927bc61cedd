"""`opsconductor tools validate|list|show` as a user runs them: a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_catalog_newcomer import readme_tool

ROOT = Path(__file__).resolve().parents[2]


def tools(home: Path, catalog: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSCONDUCTOR_")}
    env["OPSCONDUCTOR_HOME"] = str(home)
    env["OPSCONDUCTOR_CATALOG__PATHS"] = json.dumps([str(catalog)])
    return subprocess.run(
        [sys.executable, "-m", "bot", "tools", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip


def test_validate_list_and_show(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    good = catalog / "flush.yaml"
    good.write_text(readme_tool())
    ok = tools(tmp_path, catalog, "validate", str(catalog))
    assert (ok.returncode, ok.stdout.strip()) == (0, "1 definitions valid")

    listed = tools(tmp_path, catalog, "list", "--json")
    rows = {row["name"]: row for row in json.loads(listed.stdout)}
    assert rows["app.cache_flush"]["source"] == str(good) and rows["app.cache_flush"]["risk"] == "write"
    assert rows["network.ping"]["source"] == "built-in"
    plain = tools(tmp_path, catalog, "list")
    assert any(line.split()[:2] == ["app.cache_flush", "write"] for line in plain.stdout.splitlines())

    shown = json.loads(tools(tmp_path, catalog, "show", "app.cache_flush").stdout)
    assert shown["args"]["app"]["type"] == "string" and shown["required"] == ["app"]
    assert shown["phrasing"]["patterns"] == ["flush the {app} cache on {targets}"]

    bad = catalog / "broken.yaml"
    bad.write_text(readme_tool().replace("risk: write", "risk: maybe"))
    failed = tools(tmp_path, catalog, "validate", str(catalog), str(tmp_path / "missing.yaml"))
    assert failed.returncode == 1
    assert failed.stderr.splitlines()[0] == f"{tmp_path / 'missing.yaml'}:1: no such file or folder"
    assert failed.stderr.splitlines()[1].startswith(f"{bad}:3: risk: Input should be")
    broken_list = tools(tmp_path, catalog, "list")
    assert broken_list.returncode == 1 and f"{bad}:3: risk" in broken_list.stderr


def test_reload_validates_then_stamps(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "flush.yaml").write_text(readme_tool())
    stamp = tmp_path / "catalog.reload"
    ok = tools(tmp_path, catalog, "reload")
    assert ok.returncode == 0 and "1 definitions valid" in ok.stdout
    stamped = stamp.read_text()
    (catalog / "broken.yaml").write_text("name: app.x\nrisk: often\n")
    refused = tools(tmp_path, catalog, "reload")
    assert refused.returncode == 1 and f"{catalog / 'broken.yaml'}:2: risk" in refused.stderr
    assert "keep the definitions they have" in refused.stderr and stamp.read_text() == stamped


async def test_sighup_reloads_the_catalog(tmp_path: Path) -> None:
    import asyncio
    import signal

    from bot.catalog import reload_on_sighup
    from domains.catalog import build_registry

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    registry = build_registry([catalog])
    (catalog / "flush.yaml").write_text(readme_tool())
    reload_on_sighup(registry)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        for _ in range(100):
            if "app.cache_flush" in registry:
                break
            await asyncio.sleep(0.01)
        assert "app.cache_flush" in registry
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
