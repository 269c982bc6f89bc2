"""Roles and the audit trail where the data changes: every role x action against a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine

from campus_fer.ingest import PhotoFile, process_batch, process_file, record_live_sample
from campus_fer.settings import load_settings
from db import audit, queries, tokens
from db.engine import alembic_config, make_engine, migration_transaction
from db.roles import (
    ROLE_FOR_SCOPE,
    Actor,
    NotAllowed,
    Role,
    RoleRules,
    allowed,
    parse_addresses,
    parse_domain_roles,
)
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN, ORGANIZER, OTHER_ORGANIZER, VIEWER

ROLES = {"viewer": VIEWER, "organizer": ORGANIZER, "admin": ADMIN}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'roles.sqlite3'}")
    yield engine
    engine.dispose()


def faces(n: int) -> list[FaceResult]:
    p = np.full(len(EMOTIONS), 0.05, dtype=np.float32)
    p[EMOTIONS.index("happy")] = 0.7
    return [FaceResult((20 * i, 10, 60, 60), p) for i in range(n)]


def audit_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [
            dict(r) for r in connection.execute(sa.text("SELECT * FROM audit_events ORDER BY id")).mappings()
        ]


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


# -- the pure rule --------------------------------------------------------------------------------------

EXPECTED = {  # action -> roles allowed (on a session owned by someone else)
    "view": {"viewer", "organizer", "admin"},
    "create_session": {"organizer", "admin"},
    "upload": {"organizer", "admin"},
    "delete_session": {"admin"},
    "purge": {"admin"},
    "manage_tokens": {"admin"},
    "view_audit": {"admin"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", EXPECTED)
def test_permission_matrix(role, action):
    actor = ROLES[role]
    assert allowed(actor, action, resource_owner="someone.else@campus.test") == (role in EXPECTED[action])
    owns = allowed(actor, action, resource_owner=actor.email.upper())  # e-mails compare case-blind
    assert owns == (role in EXPECTED[action] or (role == "organizer" and action == "delete_session"))


def test_unknown_action_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown action"):
        allowed(ADMIN, "format_disk")  # type: ignore[arg-type]


def test_role_rules_addresses_win_over_domains_and_the_most_specific_domain_wins():
    rules = RoleRules(
        admins=parse_addresses("boss@campus.edu"),
        organizers=parse_addresses(["ana@campus.edu", "Guest@Partner.org"]),
        viewers=parse_addresses("demoted@staff.campus.edu"),
        domains=parse_domain_roles("campus.edu=viewer, staff.campus.edu=organizer"),
    )
    assert rules.assignment("boss@campus.edu") == (Role.ADMIN, "listed in admins")
    assert rules.role_for("ANA@campus.edu") is Role.ORGANIZER
    assert rules.role_for("guest@partner.org") is Role.ORGANIZER
    assert rules.assignment("student@campus.edu") == (Role.VIEWER, "domain campus.edu")
    assert rules.assignment("it@lab.staff.campus.edu") == (Role.ORGANIZER, "domain staff.campus.edu")
    assert rules.role_for("demoted@staff.campus.edu") is Role.VIEWER
    for nobody in ("someone@notcampus.edu", "someone@evilcampus.edu", "", None, "not-an-email"):
        assert rules.role_for(nobody) is None


def test_role_settings_from_environment_and_secrets():
    settings = load_settings(
        {"CAMPUS_FER_ADMINS": "a@campus.edu b@campus.edu"},
        {"organizers": ["o@campus.edu"], "role_domains": {"campus.edu": "viewer"}},
    )
    assert settings.role_rules.role_for("b@campus.edu") is Role.ADMIN
    assert settings.role_rules.role_for("o@campus.edu") is Role.ORGANIZER
    assert settings.role_rules.role_for("x@campus.edu") is Role.VIEWER
    bad = load_settings({"CAMPUS_FER_ROLE_DOMAINS": "campus.edu=superuser", "CAMPUS_FER_ADMINS": "nope"}, {})
    assert bad.role_rules.empty
    assert len(bad.problems) == 2 and "superuser" in bad.problems[0] + bad.problems[1]


def test_token_scopes_carry_roles():
    assert {scope: role.value for scope, role in ROLE_FOR_SCOPE.items()} == {
        "read": "viewer",
        "write": "organizer",
        "admin": "admin",
    }


# -- enforced in db and the ingest core -----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_session(engine, role):
    actor = ROLES[role]
    if role == "viewer":
        with pytest.raises(NotAllowed, match="viewer@campus.test \\(viewer\\) may not create session"):
            queries.create_event_session(engine, "Open day", actor=actor)
        assert count(engine, "event_sessions") == count(engine, "audit_events") == 0
        return
    session_id = queries.create_event_session(engine, "Open day", actor=actor)
    assert queries.get_event_session(engine, session_id).owner == actor.email
    [row] = audit_rows(engine)
    assert (row["actor"], row["role"], row["action"], row["session_id"], row["session_name"]) == (
        actor.email,
        role,
        "session_created",
        session_id,
        "Open day",
    )


@pytest.mark.parametrize("role", ROLES)
def test_upload_photos_and_record_live(engine, role):
    actor = ROLES[role]
    session_id = queries.create_event_session(engine, "Lecture", actor=ORGANIZER)
    photo = {"content_hash": "a" * 64, "filename": "a.jpg", "taken_at": datetime(2026, 5, 1, 10)}
    save = dict(photo, time_source="exif", width=640, height=480, faces=faces(2))
    if role == "viewer":
        with pytest.raises(NotAllowed, match="may not upload"):
            queries.save_photo(engine, session_id, **save, model_id=FER2013_V2_ID, actor=actor)
        with pytest.raises(NotAllowed):
            record_live_sample(
                engine, session_id, datetime(2026, 5, 1, 10), faces(1), model_id=FER2013_V2_ID, actor=actor
            )
        with pytest.raises(NotAllowed):  # refused before a single file is read or analysed
            process_batch(
                engine, None, session_id, iter([PhotoFile("x.jpg", b"x")]), max_bytes=10, actor=actor
            )
        with pytest.raises(NotAllowed):
            process_file(engine, None, session_id, PhotoFile("x.jpg", b"x"), max_bytes=10, actor=actor)
        assert count(engine, "photos") == count(engine, "observations") == 0
        return
    assert queries.save_photo(engine, session_id, **save, model_id=FER2013_V2_ID, actor=actor).n_faces == 2
    assert (
        record_live_sample(
            engine, session_id, datetime(2026, 5, 1, 10), faces(3), model_id=FER2013_V2_ID, actor=actor
        )
        == 3
    )
    assert count(engine, "observations") == 5


def test_import_is_audited_with_counts_and_no_file_names(engine, recognizer):
    from tests.photos import encode, group_photo

    session_id = queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    files = [PhotoFile(f"secret_name_{i}.jpg", encode(group_photo(2, seed=i)[0])) for i in range(2)]
    files.append(PhotoFile("broken.jpg", b"not an image"))
    process_batch(engine, recognizer, session_id, files, max_bytes=10**7, actor=ORGANIZER)
    row = audit_rows(engine)[-1]
    assert (row["action"], row["actor"], row["session_name"]) == (
        "photos_imported",
        ORGANIZER.email,
        "Open day",
    )
    detail = json.loads(row["detail"]) if isinstance(row["detail"], str) else row["detail"]
    assert detail == {"files": 3, "saved": 2, "no_face": 0, "duplicate": 0, "failed": 1, "faces_saved": 4}
    assert "secret_name" not in str(row)


@pytest.mark.parametrize("role", ROLES)
def test_delete_own_and_other_sessions(engine, role):
    actor = ROLES[role]
    own = queries.create_event_session(engine, "Own", actor=actor if role != "viewer" else ADMIN)
    other = queries.create_event_session(engine, "Other", actor=OTHER_ORGANIZER)
    if role == "viewer":
        for session_id in (own, other):
            with pytest.raises(NotAllowed, match="needs the admin role"):
                queries.delete_event_session(engine, session_id, actor=actor)
        assert count(engine, "event_sessions") == 2
        return
    queries.delete_event_session(engine, own, actor=actor)
    if role == "organizer":
        with pytest.raises(NotAllowed, match="delete only their own sessions .*other.organizer@campus.test"):
            queries.delete_event_session(engine, other, actor=actor)
        assert [s.name for s in queries.list_event_sessions(engine)] == ["Other"]
    else:
        queries.delete_event_session(engine, other, actor=actor)
        assert queries.list_event_sessions(engine) == []
    deleted = [r for r in audit_rows(engine) if r["action"] == "session_deleted"]
    assert [r["session_name"] for r in deleted] == (["Own"] if role == "organizer" else ["Own", "Other"])


def test_sessions_from_before_sign_in_are_deleted_by_admins_only(engine):
    session_id = queries.create_event_session(engine, "Legacy", actor=ADMIN)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE event_sessions SET owner = NULL"))
    with pytest.raises(NotAllowed, match="its owner is unknown"):
        queries.delete_event_session(engine, session_id, actor=ORGANIZER)
    queries.delete_event_session(engine, session_id, actor=ADMIN)


def test_audit_trail_survives_session_deletion_with_counts(engine):
    session_id = queries.create_event_session(engine, "Gone", actor=ORGANIZER)
    queries.save_live_observations(engine, session_id, datetime(2026, 5, 1), faces(4), model_id=FER2013_V2_ID)
    queries.delete_event_session(engine, session_id, actor=ORGANIZER)
    rows = audit_rows(engine)
    assert [(r["action"], r["session_id"], r["session_name"]) for r in rows] == [
        ("session_created", session_id, "Gone"),
        ("session_deleted", session_id, "Gone"),
    ]
    detail = rows[1]["detail"]
    detail = json.loads(detail) if isinstance(detail, str) else detail
    assert detail == {"photos": 0, "observations": 4, "owner": ORGANIZER.email}
    assert count(engine, "observations") == 0


@pytest.mark.parametrize("role", ROLES)
def test_purge(engine, role):
    actor = ROLES[role]
    session_id = queries.create_event_session(engine, "Term", actor=ADMIN)
    queries.save_live_observations(engine, session_id, datetime(2020, 1, 1), faces(2), model_id=FER2013_V2_ID)
    if role != "admin":
        with pytest.raises(NotAllowed, match="may not purge"):
            queries.purge_observations_older_than(engine, 30, actor=actor)
        assert count(engine, "observations") == 2
        return
    assert queries.purge_observations_older_than(engine, 30, actor=actor) == 2
    row = audit_rows(engine)[-1]
    assert row["action"] == "purge" and '"observations_deleted": 2' in str(row["detail"]).replace("'", '"')


@pytest.mark.parametrize("role", ROLES)
def test_manage_tokens(engine, role):
    actor = ROLES[role]
    if role != "admin":
        with pytest.raises(NotAllowed, match="may not manage tokens"):
            tokens.create_token(engine, "kiosk", "write", actor=actor)
        info, _ = tokens.create_token(engine, "kiosk", "write", actor=ADMIN)
        with pytest.raises(NotAllowed):
            tokens.revoke_token(engine, info.id, actor=actor)
        assert tokens.list_tokens(engine)[0].active
        return
    info, secret = tokens.create_token(engine, "kiosk", "write", actor=actor)
    assert tokens.revoke_token(engine, info.id, actor=actor)
    rows = audit_rows(engine)
    assert [r["action"] for r in rows] == ["token_created", "token_revoked"]
    assert secret not in str(rows) and info.prefix not in str(rows)


@pytest.mark.parametrize("role", ROLES)
def test_reading_the_audit_trail(engine, role):
    queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    if role != "admin":
        with pytest.raises(NotAllowed):
            audit.audit_events(engine, actor=ROLES[role])
        return
    table = audit.audit_events(engine, actor=ADMIN)
    assert list(table.columns) == list(audit.COLUMNS)
    [row] = csv.DictReader(io.StringIO(audit.events_csv(table)))
    assert (row["actor"], row["action"], row["session_name"], row["detail"]) == (
        ORGANIZER.email,
        "session_created",
        "Open day",
        "{}",
    )


def test_token_actor_deletes_only_what_it_created(engine):
    write, _ = tokens.create_token(engine, "kiosk", "write", actor=ADMIN)
    other, _ = tokens.create_token(engine, "signage", "write", actor=ADMIN)
    session_id = queries.create_event_session(engine, "Kiosk day", actor=write.actor)
    assert write.actor == Actor(f"api-token:{write.id}", Role.ORGANIZER, "api-token")
    with pytest.raises(NotAllowed):
        queries.delete_event_session(engine, session_id, actor=other.actor)
    queries.delete_event_session(engine, session_id, actor=write.actor)


def test_migration_0004_keeps_existing_sessions_and_their_photos(tmp_path):
    """0004 adds event_sessions.owner without rebuilding the table (a rebuild would cascade-delete)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}", migrate=False)
    config = alembic_config()
    with migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    day = "2025-01-01"
    photo = {
        "session_id": 1,
        "content_hash": "h",
        "filename": "p.jpg",
        "taken_at": day,
        "time_source": "exif",
    }
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO event_sessions (id, name, tags, created_at) VALUES (1, 'Old', '[]', :day)"),
            {"day": day},
        )
        connection.execute(
            sa.text(
                "INSERT INTO photos (session_id, content_hash, filename, taken_at, time_source, width, "
                "height, n_faces, created_at) VALUES (:session_id, :content_hash, :filename, :taken_at, "
                ":time_source, 10, 10, 0, :taken_at)"
            ),
            photo,
        )
    with migration_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
    with engine.connect() as connection:  # raw SQL: db.queries reads the newest schema (0007's model_id)
        sessions = connection.exec_driver_sql("SELECT name, owner FROM event_sessions").all()
    assert [tuple(row) for row in sessions] == [("Old", None)] and count(engine, "photos") == 1
    assert count(engine, "audit_events") == 0
    engine.dispose()
