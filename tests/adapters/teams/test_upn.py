"""Hole 10: a roles-file entry matches a Teams user by UPN as well as by e-mail, when the two
differ (alice@example.com vs alice@corp.onmicrosoft.com): the member lookup keeps both."""

from __future__ import annotations

from adapters.identity.static_file import StaticRolesResolver
from tests.adapters.teams.conftest import PEOPLE, World

ROLES = """
people:
  - name: alice-by-upn
    roles: [operator]
    teams: [{upn: Alice@Corp.onmicrosoft.com}]
  - name: bob-by-email
    roles: [approver]
    teams: [bob@example.com]
"""


async def test_a_roles_entry_matches_the_upn_when_the_email_differs(world: World) -> None:
    aad, name, email = PEOPLE["U1"]
    world.connector.add_member("29:1U1", aad, name, email, upn="alice@corp.onmicrosoft.com")
    await world.teams.post(world.teams.channel_message("read web-01"))
    [execution] = world.store.executions.values()
    identity = execution.message.identity
    assert (identity.email, identity.upn) == ("alice@example.com", "alice@corp.onmicrosoft.com")
    resolver = StaticRolesResolver.from_text(ROLES)
    principal = await resolver.resolve(identity.model_copy(update={"user_id": "aad-not-listed"}))
    assert principal is not None and principal.subject == "alice-by-upn"
    by_email = identity.model_copy(
        update={"user_id": "x", "email": "bob@example.com", "upn": "bob@corp.example"}
    )
    assert (await resolver.resolve(by_email)).subject == "bob-by-email"  # type: ignore[union-attr]
    nobody = identity.model_copy(
        update={"user_id": "x", "email": "eve@example.com", "upn": "eve@corp.example"}
    )
    assert await resolver.resolve(nobody) is None
