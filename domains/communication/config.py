"""Settings slice of the notification tools, built by the composition root from `settings.notify`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class NotifyConfig(BaseModel):
    """Channel routes and delivery policy; register one with the services (`ctx.get(NotifyConfig)`).

    `channels` maps a route name to an Apprise URL. Route names are a channel kind
    ("email", "slack", "teams", "webhook", "sms") for its default URL, or
    "<kind>:<name>" for a named one (e.g. "webhook:deploys", "slack:#ops-alerts").
    A failed attempt is retried `retries` times, waiting backoff_s, 2*backoff_s, ...
    (at most backoff_max_s) in between; each attempt is bounded by attempt_timeout_s.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: dict[str, SecretStr] = Field(default_factory=dict)
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(1.0, ge=0, le=60)
    backoff_max_s: float = Field(30.0, ge=0, le=600)
    attempt_timeout_s: float = Field(15.0, gt=0, le=300)
    max_message_chars: int = Field(20_000, ge=100)

    def url(self, route: str) -> str | None:
        secret = self.channels.get(route)
        return secret.get_secret_value() if secret is not None else None
