"""TeamsConfig from the settings section, the tenant allow-list rule, botbuilder's configuration."""

from __future__ import annotations

from adapters.teams import TeamsConfig
from adapters.teams.auth import bot_configuration
from bot.settings import Settings


def test_the_settings_section_becomes_the_adapter_config() -> None:
    settings = Settings(
        teams={
            "enabled": True,
            "app_id": "app-1",
            "app_password": "s3cret-value",
            "allowed_tenants": ["T-1"],
            "invoke_wait_s": 1.5,
            "workers": 3,
        }
    )
    config = TeamsConfig.from_section(settings.teams)
    assert (config.app_id, config.app_password, config.allowed_tenants) == ("app-1", "s3cret-value", ("T-1",))
    assert (config.invoke_wait_s, config.workers, config.auth_enabled) == (1.5, 3, True)


def test_the_allowed_tenants_rule() -> None:
    assert TeamsConfig(allowed_tenants=("Tenant-A",)).tenant_allowed("tenant-a")
    assert not TeamsConfig(allowed_tenants=("tenant-a",)).tenant_allowed("tenant-b")
    single = TeamsConfig(app_type="SingleTenant", app_tenant_id="home")
    assert single.tenant_allowed("home") and not single.tenant_allowed("elsewhere")
    assert TeamsConfig().tenant_allowed("anyone")  # development: identity resolution still gates people


def test_botbuilder_configuration_names_the_metadata_url_only_when_set() -> None:
    default = vars(bot_configuration(TeamsConfig(app_id="a", app_password="p")))
    assert default == {"APP_ID": "a", "APP_PASSWORD": "p", "APP_TYPE": "MultiTenant", "APP_TENANTID": ""}
    custom = vars(bot_configuration(TeamsConfig(app_id="a", openid_metadata_url="http://127.0.0.1:1/m")))
    assert custom["TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL"] == "http://127.0.0.1:1/m"
    assert custom["TO_BOT_FROM_CHANNEL_TOKEN_ISSUER"] == "https://api.botframework.com"
