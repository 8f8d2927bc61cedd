"""Parse a static roles file (YAML) into a lookup table of people, roles and chat identities.

File shape (see bot/defaults/roles.yaml for the commented default)::

    composites:                 # optional: a role that implies others
      operator: [viewer]
    people:
      - name: alice             # stable subject used in audit and approvals
        display_name: Alice
        roles: [operator, approver]
        console: alice          # OS user name(s); "*" matches any console user
        slack: ["T0123:U0456", alice@example.com, {team: T0123, email: a@x.org}]
        teams: ["<aad object id>", alice@contoso.com, {tenant: "<tenant id>", upn: a@x.org}]

Every problem is reported as one line, `path:line: what is wrong`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pipeline import safe_yaml

WILDCARD = "*"
_ROLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*")
_PERSON_KEYS = ("name", "display_name", "roles", "console", "slack", "teams")
_SLACK_KEYS = ("team", "user", "email")
_TEAMS_KEYS = ("tenant", "aad_object_id", "upn")


class RolesFileError(ValueError):
    """The roles file is malformed; the message is `path:line: problem`."""


@dataclass(frozen=True)
class Person:
    name: str
    display_name: str
    roles: frozenset[str]


# (platform, tenant or "", kind, value); kind is "user" or "email"; "" tenant means any.
IdentityKey = tuple[str, str, str, str]


@dataclass
class RolesTable:
    """People and the chat identities that map to them."""

    people: dict[str, Person] = field(default_factory=dict)
    by_key: dict[IdentityKey, Person] = field(default_factory=dict)
    console_wildcard: Person | None = None


def parse_roles_file(text: str, source: str = "<roles>") -> RolesTable:
    """Parse and validate roles-file text; raise RolesFileError naming the line at fault."""
    return _Parser(source).parse(text)


@dataclass
class _Parser:
    source: str
    table: RolesTable = field(default_factory=RolesTable)
    composites: dict[str, frozenset[str]] = field(default_factory=dict)
    key_lines: dict[IdentityKey, tuple[str, int]] = field(default_factory=dict)

    def fail(self, node: Node | None, message: str) -> RolesFileError:
        line = node.start_mark.line + 1 if node is not None else 1
        return RolesFileError(f"{self.source}:{line}: {message}")

    def parse(self, text: str) -> RolesTable:
        try:
            root, loader = safe_yaml.compose(text, self.source)
            loader.dispose()
        except safe_yaml.YamlRefused as err:
            raise RolesFileError(str(err)) from None
        except yaml.MarkedYAMLError as err:
            line = err.problem_mark.line + 1 if err.problem_mark else 1
            raise RolesFileError(f"{self.source}:{line}: not valid YAML: {err.problem}") from err
        except yaml.YAMLError as err:
            raise RolesFileError(f"{self.source}:1: not valid YAML: {err}") from err
        if root is None:
            raise RolesFileError(f"{self.source}:1: the file is empty; expected a 'people:' list")
        top = self.mapping(root, "the file", ("composites", "people"))
        if "composites" in top:
            self.parse_composites(top["composites"])
        if "people" not in top:
            raise self.fail(root, "missing 'people:' list")
        for entry in self.sequence(top["people"], "'people'"):
            self.parse_person(entry)
        return self.table

    # ------------------------------------------------------------------ structure

    def mapping(self, node: Node, what: str, allowed: Iterable[str]) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        allowed = tuple(allowed)
        out: dict[str, Node] = {}
        for key_node, value in node.value:
            key = self.scalar(key_node, "a key")
            if key not in allowed:
                raise self.fail(key_node, f"unknown key '{key}' in {what} (expected: {', '.join(allowed)})")
            if key in out:
                raise self.fail(key_node, f"duplicate key '{key}' in {what}")
            out[key] = value
        return out

    def sequence(self, node: Node, what: str) -> list[Node]:
        """A list, or a single item standing for a one-item list."""
        if isinstance(node, SequenceNode):
            return list(node.value)
        if isinstance(node, ScalarNode) and node.value == "" and node.tag.endswith(":null"):
            raise self.fail(node, f"{what} is empty")
        return [node]

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.tag.endswith(":null"):
            raise self.fail(node, f"{what} must be a single value")
        value = str(node.value).strip()
        if not value:
            raise self.fail(node, f"{what} must not be empty")
        return value

    # ------------------------------------------------------------------ content

    def parse_composites(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            raise self.fail(node, "'composites' must map a role to the roles it implies")
        for key_node, value in node.value:
            role = self.role(key_node)
            self.composites[role] = frozenset(self.role(n) for n in self.sequence(value, f"'{role}'"))

    def role(self, node: Node) -> str:
        name = self.scalar(node, "a role")
        if not _ROLE_NAME.fullmatch(name):
            raise self.fail(node, f"'{name}' is not a valid role name")
        return name

    def parse_person(self, node: Node) -> None:
        fields = self.mapping(node, "a person", _PERSON_KEYS)
        if "name" not in fields:
            raise self.fail(node, "a person needs a 'name'")
        name = self.scalar(fields["name"], "'name'")
        if name in self.table.people:
            raise self.fail(fields["name"], f"person '{name}' is listed twice")
        if "roles" not in fields:
            raise self.fail(node, f"person '{name}' needs 'roles' (for example: [viewer])")
        roles = self.expand({self.role(n) for n in self.sequence(fields["roles"], "'roles'")})
        display = self.scalar(fields["display_name"], "'display_name'") if "display_name" in fields else ""
        person = Person(name=name, display_name=display or name, roles=roles)
        self.table.people[name] = person
        if not any(k in fields for k in ("console", "slack", "teams")):
            raise self.fail(node, f"person '{name}' has no chat identity (console, slack or teams)")
        for item in self.sequence(fields.get("console", _EMPTY_SEQ), "'console'"):
            self.parse_console(item, person)
        for item in self.sequence(fields.get("slack", _EMPTY_SEQ), "'slack'"):
            self.claim(item, person, self.slack_key(item))
        for item in self.sequence(fields.get("teams", _EMPTY_SEQ), "'teams'"):
            self.claim(item, person, self.teams_key(item))

    def expand(self, roles: set[str]) -> frozenset[str]:
        out: set[str] = set()
        todo = list(roles)
        while todo:
            role = todo.pop()
            if role not in out:
                out.add(role)
                todo.extend(self.composites.get(role, ()))
        return frozenset(out)

    def parse_console(self, node: Node, person: Person) -> None:
        user = self.scalar(node, "a console user name")
        if user != WILDCARD:
            self.claim(node, person, ("console", "", "user", user))
            return
        if self.table.console_wildcard is not None:
            raise self.fail(node, f"console '*' is already given to '{self.table.console_wildcard.name}'")
        self.table.console_wildcard = person

    def slack_key(self, node: Node) -> IdentityKey:
        if isinstance(node, MappingNode):
            fields = self.mapping(node, "a slack identity", _SLACK_KEYS)
            team = self.scalar(fields["team"], "'team'") if "team" in fields else ""
            return self.one_of(node, "slack", team, fields, ("user", "email"))
        value = self.scalar(node, "a slack identity")
        if "@" in value:
            return ("slack", "", "email", value.lower())
        team, _, user = value.rpartition(":")
        if not user or (":" in value and not team):
            raise self.fail(node, f"slack identity '{value}' must be TEAM_ID:USER_ID or an e-mail address")
        return ("slack", team, "user", user)

    def teams_key(self, node: Node) -> IdentityKey:
        if isinstance(node, MappingNode):
            fields = self.mapping(node, "a teams identity", _TEAMS_KEYS)
            tenant = self.scalar(fields["tenant"], "'tenant'").lower() if "tenant" in fields else ""
            return self.one_of(node, "teams", tenant, fields, ("aad_object_id", "upn"))
        value = self.scalar(node, "a teams identity")
        kind = "email" if "@" in value else "user"
        return ("teams", "", kind, value.lower())

    def one_of(
        self, node: Node, platform: str, tenant: str, fields: dict[str, Node], keys: tuple[str, str]
    ) -> IdentityKey:
        given = [k for k in keys if k in fields]
        if len(given) != 1:
            raise self.fail(node, f"a {platform} identity needs exactly one of: {', '.join(keys)}")
        value = self.scalar(fields[given[0]], f"'{given[0]}'")
        if given[0] in ("email", "upn"):
            return (platform, tenant, "email", value.lower())
        return (platform, tenant, "user", value.lower() if platform == "teams" else value)

    def claim(self, node: Node, person: Person, key: IdentityKey) -> None:
        line = node.start_mark.line + 1
        if key in self.key_lines:
            owner, owner_line = self.key_lines[key]
            raise self.fail(
                node, f"{key[0]} identity '{key[3]}' is already given to '{owner}' (line {owner_line})"
            )
        self.key_lines[key] = (person.name, line)
        self.table.by_key[key] = person


_EMPTY_SEQ = SequenceNode(tag="tag:yaml.org,2002:seq", value=[])
