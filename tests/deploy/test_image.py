"""docker/Dockerfile: multi-stage, no build tools or root in the final image, a health check, and an
entry point whose commands exist in the CLI."""

from __future__ import annotations

import json
import tomllib
from typing import Any

import click

from bot.cli import cli
from tests.deploy.conftest import DOCKER, ROOT


def stages() -> dict[str, list[str]]:
    """Dockerfile instructions per stage (continuation lines joined)."""
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    result: dict[str, list[str]] = {}
    current = ""
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            current = line.split()[-1]
            result[current] = []
        if current:
            result[current].append(line)
    return result


def instruction(lines: list[str], name: str) -> list[str]:
    return [line[len(name) :].strip() for line in lines if line.upper().startswith(name + " ")]


def command_exists(words: list[str]) -> bool:
    command: Any = cli
    for word in words:
        if not isinstance(command, click.Group) or word not in command.commands:
            return False
        command = command.commands[word]
    return True


def test_the_image_is_built_in_two_stages_from_python_slim() -> None:
    found = stages()
    assert list(found) == ["build", "runtime"]
    assert all("python:3.11-slim" in (DOCKER / "Dockerfile").read_text() for _ in found)
    assert any("pip wheel" in line for line in instruction(found["build"], "RUN"))


def test_the_final_image_has_no_build_tools_and_no_root() -> None:
    runtime = stages()["runtime"]
    installs = " ".join(instruction(runtime, "RUN"))
    for tool in ("build-essential", "gcc", "libffi-dev", "python3-dev"):
        assert tool not in installs
    (user,) = instruction(runtime, "USER")
    assert user not in ("root", "0")
    assert "--no-index" in installs  # only the wheels built in the first stage


def test_the_image_checks_its_health_and_runs_the_cli() -> None:
    runtime = stages()["runtime"]
    (health,) = instruction(runtime, "HEALTHCHECK")
    assert "/health" in health
    (entrypoint,) = instruction(runtime, "ENTRYPOINT")
    (default,) = instruction(runtime, "CMD")
    assert json.loads(entrypoint) == ["opsconductor"]
    assert command_exists(json.loads(default))
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["opsconductor"] == "bot.cli:main"


def test_every_command_the_deployment_runs_exists(compose: dict[str, Any]) -> None:
    commands = [
        s["command"] for s in compose["services"].values() if s.get("image", "").startswith("opsconductor")
    ]
    assert sorted(map(tuple, commands)) == [("db", "upgrade"), ("serve",), ("worker",)]
    assert all(command_exists(c) for c in commands)
    assert command_exists(["credentials", "rotate-key"])
    assert not command_exists(["serve", "now"])


def test_the_shipped_catalog_packs_are_package_data() -> None:
    """A wheel (the image installs one) carries every shipped definition file."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["domains.packs"]
    packs = ROOT / "domains" / "packs"
    carried = {p for pattern in patterns for p in packs.glob(pattern)}
    shipped = {p for p in (packs / "shipped").rglob("*") if p.is_file()}
    assert shipped and shipped <= carried
