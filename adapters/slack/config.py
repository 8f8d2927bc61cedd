"""The Slack adapter's own configuration (adapters never import `bot.settings`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class SlackSection(Protocol):
    """The shape of `bot.settings.SlackSettings`, read by `SlackConfig.from_section`."""

    @property
    def mode(self) -> Literal["http", "socket"]: ...
    @property
    def bot_token(self) -> _Secret: ...
    @property
    def signing_secret(self) -> _Secret: ...
    @property
    def app_token(self) -> _Secret: ...
    @property
    def api_base_url(self) -> str: ...
    @property
    def answer_bots(self) -> bool: ...


@dataclass(frozen=True)
class SlackConfig:
    """Tokens, mode and the bounds of the adapter's work queue, dedupe and progress."""

    bot_token: str
    signing_secret: str = ""
    app_token: str = ""  # xapp-..., Socket Mode only
    mode: Literal["http", "socket"] = "http"
    api_base_url: str = "https://slack.com/api/"
    answer_bots: bool = False
    queue_size: int = 100  # pending requests before users are told to retry
    workers: int = 8  # requests handled at once
    dedupe_ttl_s: float = 3600.0  # how long an event id / click is remembered
    progress_interval_s: float = 1.5  # at most one progress update per interval per message
    email_ttl_s: float = 3600.0  # users.info answers are cached this long
    prompt_ttl_s: float = 86_400.0  # where each approval prompt is, to update it on a decision made elsewhere
    rate_limit_retries: int = 3  # 429 answers honoured (Retry-After) before giving up

    @classmethod
    def from_section(cls, section: SlackSection, **extra: object) -> SlackConfig:
        """Build from the settings section; optional fields it has (queue_size, ...) are used too."""
        values: dict[str, object] = {
            "bot_token": section.bot_token.get_secret_value(),
            "signing_secret": section.signing_secret.get_secret_value(),
            "app_token": section.app_token.get_secret_value(),
            "mode": section.mode,
            "api_base_url": section.api_base_url,
            "answer_bots": section.answer_bots,
        }
        for name in ("queue_size", "workers", "dedupe_ttl_s", "progress_interval_s"):
            if hasattr(section, name):
                values[name] = getattr(section, name)
        values.update(extra)
        return cls(**values)  # type: ignore[arg-type]
