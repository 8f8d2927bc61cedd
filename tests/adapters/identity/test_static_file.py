"""The static roles file: parsing, lookups per platform, errors with line numbers, reload."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.identity import RolesFileError, StaticRolesResolver
from pipeline.contracts import ChatIdentity

DEFAULT_FILE = Path(__file__).resolve().parents[3] / "bot" / "defaults" / "roles.yaml"

TEAM_FILE = """\
composites:
  operator: [viewer]
  admin: [operator]
people:
  - name: alice
    display_name: Alice Example
    roles: [operator, approver]
    console: alice
    slack: ["T1:UALICE", alice@example.com]
    teams:
      - 6F1C2A4E-0000-4000-8000-000000000001
      - {tenant: TENANT-A, upn: Alice@Contoso.com}
  - name: bob
    roles: [viewer]
    slack:
      - {team: T2, user: UBOB}
      - {team: T2, email: bob@example.com}
      - UANY
  - name: carol
    roles: admin
    console: [carol, "*"]
"""


def slack(team: str, user: str, email: str | None = None) -> ChatIdentity:
    return ChatIdentity(platform="slack", tenant=team, user_id=user, email=email)


def teams(tenant: str, user: str, email: str | None = None) -> ChatIdentity:
    return ChatIdentity(platform="teams", tenant=tenant, user_id=user, email=email)


def console(user: str) -> ChatIdentity:
    return ChatIdentity(platform="console", user_id=user, display_name=user.title())


@pytest.fixture
def resolver() -> StaticRolesResolver:
    return StaticRolesResolver.from_text(TEAM_FILE)


async def test_shipped_default_maps_any_console_user_to_operator_and_approver() -> None:
    resolver = StaticRolesResolver.from_file(DEFAULT_FILE)
    for user in ("root", "alice", "svc-ops"):
        principal = await resolver.resolve(console(user))
        assert principal is not None
        assert principal.subject == f"console:{user}"
        assert principal.roles == {"viewer", "operator", "approver"}
        assert principal.identity == console(user)


async def test_shipped_default_knows_nobody_on_chat_platforms() -> None:
    resolver = StaticRolesResolver.from_file(DEFAULT_FILE)
    assert await resolver.resolve(slack("T1", "U1", "a@example.com")) is None
    assert await resolver.resolve(teams("t", "6f1c2a4e-0000-4000-8000-000000000001")) is None


async def test_console_named_user_before_wildcard(resolver: StaticRolesResolver) -> None:
    alice = await resolver.resolve(console("alice"))
    assert alice is not None and alice.subject == "alice"
    assert alice.display_name == "Alice Example"
    assert alice.roles == {"operator", "viewer", "approver"}  # operator implies viewer
    other = await resolver.resolve(console("mallory"))
    assert other is not None and other.subject == "console:mallory"
    assert other.display_name == "Mallory"
    assert other.roles == {"admin", "operator", "viewer"}  # composites are transitive


async def test_slack_team_and_user(resolver: StaticRolesResolver) -> None:
    alice = await resolver.resolve(slack("T1", "UALICE"))
    assert alice is not None and alice.subject == "alice"
    assert await resolver.resolve(slack("T9", "UALICE")) is None  # same member id, other workspace
    bob = await resolver.resolve(slack("T2", "UBOB"))
    assert bob is not None and bob.subject == "bob" and bob.roles == {"viewer"}


async def test_slack_user_without_team_matches_any_workspace(resolver: StaticRolesResolver) -> None:
    for team in ("T1", "T7", ""):
        found = await resolver.resolve(slack(team, "UANY"))
        assert found is not None and found.subject == "bob"


async def test_slack_email_is_case_insensitive_and_team_scoped(resolver: StaticRolesResolver) -> None:
    alice = await resolver.resolve(slack("T5", "UNEW", "ALICE@example.com"))
    assert alice is not None and alice.subject == "alice"
    bob = await resolver.resolve(slack("T2", "UOTHER", "bob@example.com"))
    assert bob is not None and bob.subject == "bob"
    assert await resolver.resolve(slack("T3", "UOTHER", "bob@example.com")) is None


async def test_teams_object_id_and_upn(resolver: StaticRolesResolver) -> None:
    by_id = await resolver.resolve(teams("any-tenant", "6f1c2a4e-0000-4000-8000-000000000001"))
    assert by_id is not None and by_id.subject == "alice"
    by_upn = await resolver.resolve(teams("tenant-a", "unknown-oid", "alice@contoso.com"))
    assert by_upn is not None and by_upn.subject == "alice"
    assert await resolver.resolve(teams("tenant-b", "unknown-oid", "alice@contoso.com")) is None


async def test_unknown_people_and_platforms_are_none(resolver: StaticRolesResolver) -> None:
    assert await resolver.resolve(slack("T1", "UNOBODY", "nobody@example.com")) is None
    assert await resolver.resolve(ChatIdentity(platform="matrix", user_id="alice")) is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("people:\n  - name: a\n    roles: [viewer]\n    slak: U1\n", 4, "unknown key 'slak'"),
        ("people:\n  - name: a\n    console: a\n", 2, "needs 'roles'"),
        ("people:\n  - roles: [viewer]\n    console: a\n", 2, "needs a 'name'"),
        ("people:\n  - name: a\n    roles: [viewer]\n", 2, "no chat identity"),
        ("people:\n  - name: a\n    roles: [viewer]\n    slack: ':U1'\n", 4, "TEAM_ID:USER_ID"),
        ("people:\n  - name: a\n    roles: [view er]\n    console: a\n", 3, "not a valid role name"),
        (
            "people:\n  - name: a\n    roles: [viewer]\n    slack: T1:U1\n"
            "  - name: b\n    roles: [viewer]\n    slack: [T1:U1]\n",
            7,
            "already given to 'a' (line 4)",
        ),
        (
            "people:\n  - name: a\n    roles: [viewer]\n    console: '*'\n"
            "  - name: b\n    roles: [viewer]\n    console: '*'\n",
            7,
            "already given to 'a'",
        ),
        ("people:\n  - name: a\n    roles: [viewer]\n    console: a\n  - name: a\n", 5, "listed twice"),
        ("people:\n  - name: a\n    roles: [viewer]\n    roles: [admin]\n", 4, "duplicate key 'roles'"),
        (
            "people:\n  - name: a\n    roles: [viewer]\n    teams: [{tenant: t}]\n",
            4,
            "exactly one of: aad_object_id, upn",
        ),
        ("people:\n  - name: a\n   roles: [viewer]\n", 3, "not valid YAML"),
        ("people: [\n", 2, "not valid YAML"),
        ("peeple: []\n", 1, "unknown key 'peeple'"),
        ("", 1, "the file is empty"),
        ("- just\n- a list\n", 1, "must be a mapping"),
    ],
)
def test_malformed_files_give_one_line_errors_with_line_numbers(text: str, line: int, fragment: str) -> None:
    with pytest.raises(RolesFileError) as caught:
        StaticRolesResolver.from_text(text, source="roles.yaml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"roles.yaml:{line}: "), message
    assert fragment in message


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RolesFileError, match="cannot read the roles file"):
        StaticRolesResolver.from_file(tmp_path / "absent.yaml")


def _write(path: Path, text: str, mtime: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime, mtime))


async def test_file_is_reloaded_when_it_changes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "roles.yaml"
    _write(path, "people:\n  - name: a\n    roles: [viewer]\n    slack: T1:U1\n", 1_000_000_000)
    resolver = StaticRolesResolver.from_file(path, check_interval_s=0)
    first = await resolver.resolve(slack("T1", "U1"))
    assert first is not None and first.roles == {"viewer"}

    _write(path, "people:\n  - name: a\n    roles: [admin]\n    slack: T1:U1\n", 2_000_000_000)
    second = await resolver.resolve(slack("T1", "U1"))
    assert second is not None and second.roles == {"admin"}

    _write(path, "people:\n  - name: a\n    roles: [admin\n", 3_000_000_000)
    third = await resolver.resolve(slack("T1", "U1"))
    assert third is not None and third.roles == {"admin"}  # the broken edit is not applied
    assert any("previous version stays in force" in r.getMessage() for r in caplog.records)

    _write(path, "people:\n  - name: b\n    roles: [viewer]\n    slack: T1:U2\n", 4_000_000_000)
    assert await resolver.resolve(slack("T1", "U1")) is None
    fourth = await resolver.resolve(slack("T1", "U2"))
    assert fourth is not None and fourth.subject == "b"
