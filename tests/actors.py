"""Acting users for tests: one per role (db.roles), so tests say who changes the data."""

from __future__ import annotations

from db.roles import Actor, Role

ADMIN = Actor("admin@campus.test", Role.ADMIN, "test")
ORGANIZER = Actor("organizer@campus.test", Role.ORGANIZER, "test")
OTHER_ORGANIZER = Actor("other.organizer@campus.test", Role.ORGANIZER, "test")
VIEWER = Actor("viewer@campus.test", Role.VIEWER, "test")
