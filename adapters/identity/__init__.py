"""Identity sources that need no server: the static roles file."""

from adapters.identity.roles_file import RolesFileError
from adapters.identity.static_file import StaticRolesResolver

__all__ = ["RolesFileError", "StaticRolesResolver"]
