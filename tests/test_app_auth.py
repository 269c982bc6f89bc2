"""The app in both modes with AppTest: local mode (no [auth]: one local user, banner) and OIDC sign-in
(st.user faked by AppTest) with viewer, organiser, admin and no-role accounts; the database is checked."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from campus_fer.settings import ENV_PREFIX, load_settings
from db import queries
from db.engine import make_engine
from db.roles import Actor, Role
from db.settings import DATABASE_URL_ENV
from tests.actors import ORGANIZER, OTHER_ORGANIZER

APP = Path(__file__).resolve().parent.parent / "app.py"
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-that-is-long-enough",
    "client_id": "campus-fer",
    "client_secret": "not-a-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
VIEWER_EMAIL = "student@campus.edu"
ADMIN_EMAIL = "dpo@campus.edu"


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh SQLite file; role settings: every campus.edu address a viewer, two organisers, one admin."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'auth.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    monkeypatch.setenv(ENV_PREFIX + "ROLE_DOMAINS", "campus.edu=viewer")
    monkeypatch.setenv(ENV_PREFIX + "ORGANIZERS", f"{ORGANIZER.email}, {OTHER_ORGANIZER.email}")
    monkeypatch.setenv(ENV_PREFIX + "ADMINS", ADMIN_EMAIL)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def app(email: str | None, logged_in: bool = True) -> AppTest:
    """The app with [auth] configured and this account signed in (or nobody, when email is None)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False} if email is None else {"is_logged_in": logged_in, "email": email}
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def audit(engine: Engine) -> list[tuple[str, str, str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT actor, role, action, session_name FROM audit_events ORDER BY id")
        )
        return [tuple(row) for row in rows]


def test_local_mode_one_user_with_every_role_and_a_banner(engine):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "No sign-in is configured" in texts(at.warning)
    assert "anyone who can reach this address can add and delete data" in texts(at.warning)
    at.text_input[0].input("Open day")
    at.button(key="FormSubmitter:new_session-Create session").click().run()
    [info] = queries.list_event_sessions(engine)
    local = f"local:{getpass.getuser()}"
    assert info.owner == local
    assert f"Owner: {local}" in texts(at.caption)
    assert at.file_uploader and "Delete session" in labels(at)
    assert audit(engine) == [(local, "admin", "session_created", "Open day")]
    at.switch_page("pages/audit.py").run()
    assert not at.exception and at.title[0].value == "Audit trail"
    assert at.dataframe[0].value["action"].tolist() == ["session_created"]


def test_signed_out_visitor_sees_only_the_sign_in_page(engine):
    queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    at = app(None).run()
    assert not at.exception
    assert labels(at) == ["Sign in"]
    assert not at.file_uploader and "Event photos" not in [t.value for t in at.title]
    assert "No sign-in is configured" not in texts(at.warning)


def test_viewer_sees_sessions_but_no_control_that_changes_data(engine):
    session_id = queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    at = app(VIEWER_EMAIL).run()
    assert not at.exception
    assert at.title[0].value == "Event photos"
    assert "signed in as a viewer" in texts(at.info)
    assert not at.file_uploader
    assert not at.text_input  # no "New session" form
    assert "Delete session" not in labels(at) and "Analyse and save" not in labels(at)
    assert f"Owner: {ORGANIZER.email}" in texts(at.caption)
    assert f"{VIEWER_EMAIL} · viewer" in texts(at.sidebar.caption)
    # A forged confirmation in the session state changes nothing: no delete control is run.
    at.session_state["confirm_delete"] = True
    at.run()
    assert queries.get_event_session(engine, session_id) is not None
    assert audit(engine)[-1] == (VIEWER_EMAIL, "viewer", "role_assigned", None)
    at.switch_page("pages/audit.py").run()
    assert "admins only" in texts(at.error)


def test_organiser_creates_and_deletes_own_session_but_not_another(engine):
    queries.create_event_session(engine, "Someone else's talk", actor=OTHER_ORGANIZER)
    at = app(ORGANIZER.email).run()
    assert "Delete session" not in labels(at)  # the only session belongs to another organiser
    at.text_input[0].input("My workshop")
    at.button(key="FormSubmitter:new_session-Create session").click().run()
    assert not at.exception and "Created session" in texts(at.success)
    mine = next(s for s in queries.list_event_sessions(engine) if s.name == "My workshop")
    assert mine.owner == ORGANIZER.email
    assert at.file_uploader and "Delete session" in labels(at)
    at.checkbox(key="confirm_delete").check().run()
    next(b for b in at.button if b.label == "Delete session").click().run()
    assert "Deleted session" in texts(at.success)
    assert [s.name for s in queries.list_event_sessions(engine)] == ["Someone else's talk"]
    assert audit(engine)[-3:] == [
        (ORGANIZER.email, "organizer", "role_assigned", None),
        (ORGANIZER.email, "organizer", "session_created", "My workshop"),
        (ORGANIZER.email, "organizer", "session_deleted", "My workshop"),
    ]


def test_admin_reads_the_audit_trail(engine):
    queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    at = app(ADMIN_EMAIL).run()
    assert "Delete session" in labels(at)  # admins delete any session
    at.switch_page("pages/audit.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["action"].tolist() == ["role_assigned", "session_created"]
    assert table["actor"].tolist() == [ADMIN_EMAIL, ORGANIZER.email]
    at = app(ADMIN_EMAIL).run()  # only app.py's own run draws the sidebar (AppTest reruns the page alone)
    assert "Sign out" in [b.label for b in at.sidebar.button]  # clicked in the browser test


def test_account_without_a_role_is_told_so(engine):
    at = app("visitor@elsewhere.org").run()
    assert not at.exception
    assert "has no role in Campus FER" in texts(at.warning)
    assert labels(at) == ["Sign out"]
    assert not at.file_uploader


class FakeUser(dict):
    """What `st.user` offers ui.auth: `is_logged_in` and the provider's claims through `get`."""

    @property
    def is_logged_in(self) -> bool:
        return bool(self.get("is_logged_in"))


#: Addresses the role settings of the `engine` fixture give a role: listed ones and domain members.
ROLE_OF = {
    ADMIN_EMAIL: Role.ADMIN,
    " DPO@Campus.EDU ": Role.ADMIN,  # the same address as the provider may spell it
    ORGANIZER.email: Role.ORGANIZER,
    VIEWER_EMAIL: Role.VIEWER,
    "lab.manager@cs.campus.edu": Role.VIEWER,  # a subdomain of campus.edu
}
#: The pages that act for a user (upload, create, delete, purge, tokens, audit, recording).
ACTING_PAGES = sorted(
    path for path in (APP.parent / "pages").glob("*.py") if "page_actor(" in path.read_text()
)


def test_unverified_email_gets_no_role(engine, monkeypatch: pytest.MonkeyPatch):
    """The rule: an address the provider marks unverified resolves to no role, whichever list or
    domain would give it one, so no page acts for it; a verified (or unmarked) address gets its role."""
    from ui import auth

    with monkeypatch.context() as patch:  # st.user is faked for identify() only, not for AppTest
        patch.setattr(auth, "auth_section", lambda: AUTH)
        settings = load_settings()
        for address, role in ROLE_OF.items():
            email = address.strip().lower()
            patch.setattr(st, "user", FakeUser(is_logged_in=True, email=address, email_verified=False))
            assert auth.identify(settings) == auth.Visitor("no_role", email=email), address
            for verified in ({"email_verified": True}, {}):
                patch.setattr(st, "user", FakeUser(is_logged_in=True, email=address, **verified))
                visitor = auth.identify(settings)
                assert (visitor.mode, visitor.actor) == ("signed_in", Actor(email, role, "oidc")), address

    # Through the app: the admin's address, unverified, reaches only the "No role" page ...
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": ADMIN_EMAIL, "email_verified": False}
    at.run()
    assert not at.exception
    assert f"You are signed in as **{ADMIN_EMAIL}**, but this account has no role" in texts(at.warning)
    assert labels(at) == ["Sign out"] and not at.file_uploader and not at.text_input
    assert len(ACTING_PAGES) >= 7
    for page in ACTING_PAGES:
        with pytest.raises(ValueError, match=r"Known pages: \['No role'\]"):
            at.switch_page(str(page.relative_to(APP.parent)))
        # ... and each acting page, run on its own, asks for sign-in and stops before any control.
        alone = AppTest.from_file(page, default_timeout=60)
        alone.secrets["auth"] = AUTH
        alone.user = {"is_logged_in": True, "email": ADMIN_EMAIL, "email_verified": False}
        alone.run()
        assert not alone.exception, page.name
        assert [i.value for i in alone.info] == ["Sign in on the start page to use Campus FER."], page.name
        assert not (alone.button or alone.file_uploader or alone.text_input or alone.toggle), page.name
    assert audit(engine) == [] and queries.list_event_sessions(engine) == []  # nothing done, no role recorded


def test_viewer_watches_live_but_cannot_record(engine, monkeypatch):
    import streamlit_webrtc.component

    monkeypatch.setattr(streamlit_webrtc.component, "get_this_session_info", lambda: None)
    queries.create_event_session(engine, "Open day", actor=ORGANIZER)
    at = app(VIEWER_EMAIL).run()
    at.switch_page("pages/live.py").run()
    assert not at.exception
    assert at.title[0].value == "Live webcam"
    assert at.toggle[0].disabled  # "Record into a session" is for organisers
    assert "organisers record" in texts(at.caption)
    at = app(ORGANIZER.email).run()
    at.switch_page("pages/live.py").run()
    assert not at.toggle[0].disabled
