"""Who may do what: three roles, the rules that give a signed-in e-mail its role, one permission check.

One permission model for every door: the app (OIDC sign-in or local mode), the REST API (a token's
scope maps to a role) and the CLI (the local operator). The db layer and the ingest core call
`require` with the acting user before they change anything, so hiding a button is never the only
guard. No Streamlit, FastAPI or SQL here; it stands on the db floor because the db layer checks it
before every change (and every floor above may read it).
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Role(StrEnum):
    """Ordered: each role may do everything the ones before it may."""

    VIEWER = "viewer"
    ORGANIZER = "organizer"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)


#: What an actor may ask for. "upload" covers photos and live recording into a session.
Action = Literal["view", "create_session", "upload", "delete_session", "purge", "manage_tokens", "view_audit"]
#: The least role each action needs; "delete_session" also admits an organiser who owns the session.
MINIMUM_ROLE: dict[str, Role] = {
    "view": Role.VIEWER,
    "create_session": Role.ORGANIZER,
    "upload": Role.ORGANIZER,
    "delete_session": Role.ADMIN,
    "purge": Role.ADMIN,
    "manage_tokens": Role.ADMIN,
    "view_audit": Role.ADMIN,
}
#: API token scopes (db.models.TOKEN_SCOPES) carry these roles.
ROLE_FOR_SCOPE: dict[str, Role] = {"read": Role.VIEWER, "write": Role.ORGANIZER, "admin": Role.ADMIN}

_EMAIL = re.compile(r"^[^@\s]+@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^[a-z0-9-]+(\.[a-z0-9-]+)+$")


@dataclass(frozen=True)
class Actor:
    """The acting user: an e-mail from the sign-in (or a service identity such as 'api-token:3'),
    the role the settings gave it, and how it was identified (oidc, local, api-token, cli)."""

    email: str
    role: Role
    source: str = "oidc"

    def __str__(self) -> str:
        return f"{self.email} ({self.role.value})"


def operator(source: str) -> Actor:
    """Whoever runs the CLI on the server, or the app without sign-in configured: they hold the
    database itself, so they get every role; the audit trail names them 'cli:<os user>'/'local:...'."""
    return Actor(f"{source}:{getpass.getuser()}", Role.ADMIN, source)


class NotAllowed(PermissionError):
    """An actor asked for something its role does not allow; the message says who, what and why."""


def allowed(actor: Actor, action: Action, resource_owner: str | None = None) -> bool:
    """The permission rule, pure: does `actor` have a role for `action` on a resource owned by
    `resource_owner` (a session's owner; None: unknown, e.g. sessions made before sign-in existed)?"""
    if action not in MINIMUM_ROLE:
        raise ValueError(f"unknown action {action!r}")
    if actor.role.rank >= MINIMUM_ROLE[action].rank:
        return True
    is_owner = resource_owner is not None and resource_owner.lower() == actor.email.lower()
    return action == "delete_session" and actor.role is Role.ORGANIZER and is_owner


def require(actor: Actor, action: Action, resource_owner: str | None = None, what: str = "") -> None:
    """Raise NotAllowed unless `allowed(actor, action, resource_owner)`."""
    if allowed(actor, action, resource_owner):
        return
    target = f" {what}" if what else ""
    if action == "delete_session" and actor.role is Role.ORGANIZER:
        reason = f"organisers delete only their own sessions (its owner is {resource_owner or 'unknown'})"
    else:
        reason = f"this needs the {MINIMUM_ROLE[action].value} role"
    raise NotAllowed(f"{actor} may not {action.replace('_', ' ')}{target}: {reason}.")


# ---------------------------------------------------------------------------------------------
# Role rules from settings: listed addresses and whole domains


@dataclass(frozen=True)
class RoleRules:
    """Addresses listed per role, and domains whose members get a role (e.g. campus.edu -> viewer).

    A listed address wins over its domain (the highest list it is in); otherwise the most specific
    domain rule that the address's domain equals or is a subdomain of; otherwise no role.
    """

    admins: frozenset[str] = frozenset()
    organizers: frozenset[str] = frozenset()
    viewers: frozenset[str] = frozenset()
    domains: Mapping[str, Role] = field(default_factory=dict)

    def assignment(self, email: str | None) -> tuple[Role, str] | None:
        """The role of a signed-in e-mail and the rule that gave it (for the audit trail), or None."""
        address = (email or "").strip().lower()
        match = _EMAIL.match(address)
        if match is None:
            return None
        for role, listed in ((Role.ADMIN, self.admins), (Role.ORGANIZER, self.organizers)):
            if address in listed:
                return role, f"listed in {role.value}s"
        if address in self.viewers:
            return Role.VIEWER, "listed in viewers"
        domain = match.group(1)
        rules = [d for d in self.domains if domain == d or domain.endswith("." + d)]
        if not rules:
            return None
        best = max(rules, key=len)
        return self.domains[best], f"domain {best}"

    def role_for(self, email: str | None) -> Role | None:
        found = self.assignment(email)
        return None if found is None else found[0]

    @property
    def empty(self) -> bool:
        return not (self.admins or self.organizers or self.viewers or self.domains)


def parse_addresses(value: Any) -> frozenset[str]:
    """E-mail addresses from 'a@x.edu, b@x.edu' (or whitespace separated) or a list; lower case."""
    items: Iterable[Any] = re.split(r"[,\s]+", value) if isinstance(value, str) else value
    if not isinstance(items, Iterable):
        raise ValueError("must be a list of e-mail addresses")
    addresses = frozenset(str(item).strip().lower() for item in items if str(item).strip())
    bad = sorted(a for a in addresses if not _EMAIL.match(a))
    if bad:
        raise ValueError(f"not an e-mail address: {', '.join(bad)}")
    return addresses


def parse_domain_roles(value: Any) -> dict[str, Role]:
    """Domain rules from 'campus.edu=viewer, staff.campus.edu=organizer' or a {domain: role} table."""
    if isinstance(value, str):
        pairs = [part.split("=", 1) for part in re.split(r"[,\s]+", value) if part.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("write domain rules as domain=role, e.g. campus.edu=viewer")
        value = dict(pairs)
    if not isinstance(value, Mapping):
        raise ValueError("must map domains to roles, e.g. campus.edu=viewer")
    rules: dict[str, Role] = {}
    for raw_domain, raw_role in value.items():
        domain = str(raw_domain).strip().lower().lstrip("@")
        if not _DOMAIN.match(domain):
            raise ValueError(f"not a domain: {raw_domain!r}")
        try:
            rules[domain] = Role(str(raw_role).strip().lower())
        except ValueError:
            raise ValueError(
                f"unknown role {raw_role!r} for {domain} (use {', '.join(r.value for r in Role)})"
            ) from None
    return rules
