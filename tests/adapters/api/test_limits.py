"""Rate limits per token and per person at the API door (real HTTP, real limiter)."""

from __future__ import annotations

from pathlib import Path

from tests.adapters.api.conftest import api_settings, serve_api


async def test_each_token_has_its_own_budget_and_the_person_shares_one(tmp_path: Path) -> None:
    settings = api_settings(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path}/api.db",
        rate_limits={"per_token": 3, "per_person": 5, "window_s": 60},
    )
    async for api in serve_api(settings):
        for _ in range(3):
            assert (await api.call("GET", "/me"))[0] == 200
        status, body, resp = await api.call("GET", "/me")
        assert status == 429 and resp.content_type == "application/problem+json"
        assert resp.headers["Retry-After"] == "60" and "per token" in body["detail"]
        second = await api.token("alice", ["viewer"])
        api.tokens["alice2"] = second
        assert (await api.call("GET", "/me", as_="alice2"))[0] == 200
        assert (await api.call("GET", "/me", as_="alice2"))[0] == 200
        status, body, _ = await api.call("GET", "/me", as_="alice2")  # alice's sixth call
        assert status == 429 and "per person" in body["detail"]
        assert (await api.call("GET", "/me", as_="bob"))[0] == 200


def test_token_roles_and_expiry_parsing() -> None:
    from bot.tokens import parse_expiry, token_roles

    assert token_roles("ci", ["operator"], None) == ["operator", "viewer"]
    assert token_roles("alice", [], frozenset({"viewer", "approver"})) == ["approver", "viewer"]
    assert token_roles("alice", ["viewer"], frozenset({"viewer", "approver"})) == ["viewer"]
    for person, asked, listed, problem in (
        ("bob", ["admin"], frozenset({"viewer"}), "does not have the role admin, operator"),
        ("nobody", [], None, "--role"),
        ("x", ["root"], None, "unknown role root"),
    ):
        try:
            token_roles(person, asked, listed)
        except ValueError as err:
            assert problem in str(err)
        else:
            raise AssertionError(f"{asked} for {person} was accepted")
    start = parse_expiry("30d") - parse_expiry("29d")
    assert 86_390 < start.total_seconds() < 86_410
    for bad in ("soon", "0d", "5y", ""):
        try:
            parse_expiry(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
