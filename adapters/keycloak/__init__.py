"""Keycloak as the identity source: chat identities to users and their roles."""

from adapters.keycloak.config import KeycloakConfig, PlatformLookup
from adapters.keycloak.resolver import KeycloakResolver

__all__ = ["KeycloakConfig", "KeycloakResolver", "PlatformLookup"]
