"""docker/compose.yaml: valid Compose, services in dependency order, the flags the issue asks for."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tests.deploy.conftest import DOCKER, interpolate


def compose_spec() -> dict[str, Any]:
    """The Compose Specification schema as shipped by check-jsonschema (vendored from compose-spec)."""
    text = (
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def test_the_compose_file_validates_against_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = compose_spec()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_catches_a_broken_file(compose: dict[str, Any]) -> None:
    broken = {
        **compose,
        "services": {**compose["services"], "bot": {**compose["services"]["bot"], "ports": 80}},
    }
    validator = jsonschema.Draft202012Validator(compose_spec())
    assert list(validator.iter_errors(broken))


def test_missing_secrets_stop_compose_before_anything_starts(compose_raw: dict[str, Any]) -> None:
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(compose_raw, {})


def test_services_start_in_dependency_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "bot", "worker", "vllm", "keycloak"}
    conditions = {
        name: {dep: spec["condition"] for dep, spec in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }
    assert conditions["migrate"] == {"postgres": "service_healthy"}
    for app in ("bot", "worker"):
        assert conditions[app]["migrate"] == "service_completed_successfully"
        assert conditions[app]["postgres"] == conditions[app]["redis"] == "service_healthy"
    assert conditions["bot"]["vllm"] == conditions["bot"]["keycloak"] == "service_healthy"
    for name in ("postgres", "redis", "vllm", "keycloak"):
        assert services[name]["healthcheck"]["test"], name


def test_app_services_run_the_cli_in_production_mode(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["bot"]["command"] == ["serve"]
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == "2"
    for name in ("migrate", "bot", "worker"):
        env = services[name]["environment"]
        assert env["OPSCONDUCTOR_SECURITY__ENVIRONMENT"] == "production"
        assert env["OPSCONDUCTOR_JOBS__ENGINE"] == "arq"
        assert env["OPSCONDUCTOR_DB__URL"].startswith(
            "postgresql+asyncpg://opsconductor:changeme@postgres:5432/"
        )
        assert services[name]["env_file"] == [{"path": ".env", "required": True}]


def test_app_services_log_in_with_the_mounted_key_and_known_hosts(compose: dict[str, Any]) -> None:
    """Every process that may run a step uses the same SSH files (docs/operations.md)."""
    for name in ("migrate", "bot", "worker"):
        service = compose["services"][name]
        env = service["environment"]
        assert "./ssh:/etc/opsconductor/ssh" in service["volumes"]
        assert env["OPSCONDUCTOR_SSH__KNOWN_HOSTS"] == "/etc/opsconductor/ssh/known_hosts"
        assert json.loads(env["OPSCONDUCTOR_SSH__CLIENT_KEYS"]) == ["/etc/opsconductor/ssh/id_ed25519"]


def test_postgres_and_redis_are_configured_as_asked(compose: dict[str, Any]) -> None:
    postgres, redis = compose["services"]["postgres"], compose["services"]["redis"]
    assert postgres["image"] == "postgres:17"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    assert "pg_isready" in postgres["healthcheck"]["test"][1]
    assert redis["image"].startswith("redis:7")
    flags = " ".join(redis["command"])
    assert "--appendonly yes" in flags
    assert "--maxmemory 256mb" in flags and "--maxmemory-policy allkeys-lru" in flags


def test_vllm_serves_the_model_on_a_gpu_with_tool_calling(compose: dict[str, Any]) -> None:
    vllm = compose["services"]["vllm"]
    args = vllm["command"]
    assert args[args.index("--model") + 1] == "Qwen/Qwen2.5-14B-Instruct-AWQ"
    assert args[args.index("--tool-call-parser") + 1] == "hermes"
    assert {"--enable-auto-tool-choice", "--max-model-len", "--gpu-memory-utilization"} <= set(args)
    assert "--guided-decoding-backend" not in args  # structured outputs are on by default
    device = vllm["deploy"]["resources"]["reservations"]["devices"][0]
    assert device["capabilities"] == ["gpu"] and device["driver"] == "nvidia"
    assert any(v.startswith("model-cache:") for v in vllm["volumes"])
    assert "/health" in " ".join(vllm["healthcheck"]["test"])


def test_keycloak_imports_the_realm_with_the_bot_client_secret(compose: dict[str, Any]) -> None:
    keycloak = compose["services"]["keycloak"]
    assert keycloak["command"][:2] == ["start", "--import-realm"]
    assert (
        "./keycloak/realm-export.json:/opt/keycloak/data/import/realm-export.json:ro" in keycloak["volumes"]
    )
    assert keycloak["environment"]["OPSCONDUCTOR_KEYCLOAK__CLIENT_SECRET"] == "changeme"
    realm = (DOCKER / "keycloak" / "realm-export.json").read_text()
    assert "${OPSCONDUCTOR_KEYCLOAK__CLIENT_SECRET}" in realm
