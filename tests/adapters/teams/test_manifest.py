"""The Teams app package in docs/teams: a manifest within the schema's limits and its two icons."""

from __future__ import annotations

import json
import struct
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs" / "teams"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_manifest_declares_the_bot_for_all_three_scopes() -> None:
    manifest = json.loads((DOCS / "manifest.json").read_text())
    assert manifest["manifestVersion"] == "1.17" and manifest["$schema"].endswith(
        "v1.17/MicrosoftTeams.schema.json"
    )
    [bot] = manifest["bots"]
    assert bot["botId"] == manifest["id"] == "__BOT_APP_ID__"
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    [commands] = bot["commandLists"]
    assert 1 <= len(commands["commands"]) <= 10
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands["commands"])
    assert len(manifest["name"]["short"]) <= 30 and len(manifest["description"]["short"]) <= 80
    assert len(manifest["description"]["full"]) <= 4000


def test_the_icons_have_the_sizes_teams_requires() -> None:
    manifest = json.loads((DOCS / "manifest.json").read_text())
    assert png_size(DOCS / manifest["icons"]["color"]) == (192, 192)
    assert png_size(DOCS / manifest["icons"]["outline"]) == (32, 32)
