"""Every OPSCONDUCTOR_* variable the deployment sets is a setting; placeholders never reach production."""

from __future__ import annotations

import base64
import os
import secrets
import typing
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from bot.settings import Settings
from tests.deploy.conftest import DOCKER

APP_SERVICES = ("migrate", "bot", "worker")


def known_setting(name: str) -> bool:
    """Walk the nested settings model along OPSCONDUCTOR_SECTION__FIELD."""
    if name == "OPSCONDUCTOR_CONFIG":
        return True
    model: type[BaseModel] = Settings
    parts = name.removeprefix("OPSCONDUCTOR_").lower().split("__")
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
            continue
        return i == len(parts) - 1 or typing.get_origin(annotation) is dict
    return False


def deployment_variables(compose: dict[str, Any], example_env: dict[str, str]) -> set[str]:
    names = {k for k in example_env if k.startswith("OPSCONDUCTOR_")}
    for service in compose["services"].values():
        names |= {k for k in service.get("environment", {}) if k.startswith("OPSCONDUCTOR_")}
    return names


def test_the_walk_tells_real_settings_from_typos() -> None:
    assert known_setting("OPSCONDUCTOR_JOBS__ENGINE")
    assert known_setting("OPSCONDUCTOR_NOTIFY__CHANNELS")
    assert not known_setting("OPSCONDUCTOR_JOBS__ENGIN")
    assert not known_setting("OPSCONDUCTOR_DB__URL__X")


def test_every_variable_the_deployment_sets_is_a_setting(
    compose: dict[str, Any], example_env: dict[str, str]
) -> None:
    names = deployment_variables(compose, example_env)
    assert len(names) > 15
    assert sorted(n for n in names if not known_setting(n)) == []


def production_env(compose: dict[str, Any], env: dict[str, str], service: str = "bot") -> dict[str, str]:
    """What the bot container sees: the env file, then the service's own environment."""
    merged = {k: v for k, v in env.items() if k.startswith("OPSCONDUCTOR_")}
    merged.update({k: str(v) for k, v in compose["services"][service]["environment"].items()})
    return merged


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith("OPSCONDUCTOR_"):
            monkeypatch.delenv(name)
    return monkeypatch


def real_secrets(example_env: dict[str, str]) -> dict[str, str]:
    env = {k: secrets.token_urlsafe(24) if v == "changeme" else v for k, v in example_env.items()}
    env["OPSCONDUCTOR_SECURITY__CREDENTIAL_KEY"] = base64.b64encode(secrets.token_bytes(32)).decode()
    return env


def test_the_shipped_example_is_refused_in_production(
    compose: dict[str, Any], example_env: dict[str, str], clean_env: pytest.MonkeyPatch
) -> None:
    for service in APP_SERVICES:
        for name, value in production_env(compose, example_env, service).items():
            clean_env.setenv(name, value)
        with pytest.raises(ValidationError, match="placeholder"):
            Settings()


@pytest.mark.parametrize(
    "left_as_placeholder",
    [
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "OPSCONDUCTOR_LLM__API_KEY",
        "OPSCONDUCTOR_KEYCLOAK__CLIENT_SECRET",
    ],
)
def test_each_secret_left_as_a_placeholder_is_refused(
    left_as_placeholder: str,
    compose_raw: dict[str, Any],
    example_env: dict[str, str],
    clean_env: pytest.MonkeyPatch,
) -> None:
    from tests.deploy.conftest import interpolate

    env = {**real_secrets(example_env), left_as_placeholder: "changeme"}
    for name, value in production_env(interpolate(compose_raw, env), env).items():
        clean_env.setenv(name, value)
    with pytest.raises(ValidationError, match="placeholder"):
        Settings()


def test_real_secrets_are_accepted(
    compose_raw: dict[str, Any], example_env: dict[str, str], clean_env: pytest.MonkeyPatch
) -> None:
    from tests.deploy.conftest import interpolate

    env = real_secrets(example_env)
    for name, value in production_env(interpolate(compose_raw, env), env).items():
        clean_env.setenv(name, value)
    settings = Settings()
    assert settings.security.environment == "production"
    assert settings.jobs.engine == "arq" and settings.redis.url.startswith("redis://:")


def test_no_real_env_file_is_shipped() -> None:
    assert not (DOCKER / ".env").exists()
    assert "changeme" in (DOCKER / ".env.example").read_text()


def test_the_job_queue_may_have_its_own_redis_but_never_a_placeholder_password(
    clean_env: pytest.MonkeyPatch,
) -> None:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    production = {"environment": "production", "credential_key": key}
    with pytest.raises(ValidationError, match=r"jobs\.redis_url password is a placeholder"):
        Settings(security=production, jobs={"engine": "arq", "redis_url": "redis://:changeme@jobs:6379/0"})
    with pytest.raises(ValidationError, match=r"needs redis\.url"):
        Settings(jobs={"engine": "arq"})
    assert Settings(jobs={"engine": "arq", "redis_url": "redis://jobs:6379/0"}).jobs.redis_url
