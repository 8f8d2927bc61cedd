"""SshConfig mirrors bot.settings.SshSettings, so the composition root can pass the section through."""

from __future__ import annotations

from dataclasses import fields

from adapters.ssh import SshConfig
from adapters.ssh.config import FAST_KEX
from bot.settings import SshSettings


def test_every_setting_has_a_config_field() -> None:
    assert set(SshSettings.model_fields) <= {f.name for f in fields(SshConfig)}


def test_from_settings_copies_values() -> None:
    section = SshSettings(username="ops", port=2222, client_keys=["/k1"], trust_on_first_use=True)
    config = SshConfig.from_settings(section, max_sessions_per_connection=4)
    assert (config.username, config.port, config.client_keys) == ("ops", 2222, ("/k1",))
    assert config.trust_on_first_use and config.max_sessions_per_connection == 4
    assert config.kex_algs == FAST_KEX and config.kex_algs.startswith("^curve25519-sha256,")
