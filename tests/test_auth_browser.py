"""Sign-in in a real browser: the app behind a real OpenID Connect provider on 127.0.0.1.

`oidc-provider-mock` (a real OIDC provider built on Authlib: discovery, authorization code flow,
signed ID tokens, end-session) runs in a thread of the test; `streamlit run app.py` gets an `[auth]`
secrets file pointing at it and role settings (campus.test is a viewer domain, one organiser, one
admin). Debian's Chromium signs in as each of them. After every step the database is checked,
including the audit trail. Marker `browser`; skips without /usr/bin/chromium (fails under CI).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from campus_fer.settings import ENV_PREFIX, AppSettings
from db import queries, tokens
from db.engine import make_engine
from db.settings import DATABASE_URL_ENV
from tests.actors import ADMIN
from tests.photos import encode, group_photo
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, free_port, require_chromium, streamlit_app

pytestmark = pytest.mark.browser

VIEWER = "student@campus.test"
ORGANIZER = "ana.organiser@campus.test"
ADMIN_EMAIL = "dpo@campus.test"
TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class App:
    url: str
    db_url: str
    issuer: str


@pytest.fixture(scope="module")
def oidc_provider() -> Iterator[str]:
    """A real OpenID Connect provider on 127.0.0.1 with our three users (verified e-mail addresses)."""
    import werkzeug.serving
    from oidc_provider_mock import User
    from oidc_provider_mock import app as provider_app

    users = [
        User(sub=email, claims={"email": email, "email_verified": True})
        for email in (VIEWER, ORGANIZER, ADMIN_EMAIL)
    ]
    server = werkzeug.serving.make_server("127.0.0.1", 0, provider_app(user_claims=users), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def app(oidc_provider: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    require_chromium()
    tmp = tmp_path_factory.mktemp("auth_browser")
    db_url = f"sqlite:///{tmp / 'auth.sqlite3'}"
    make_engine(db_url).dispose()
    port = free_port()
    secrets = tmp / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-cookie-secret-for-the-sign-in-browser-test"\n'
        'client_id = "campus-fer"\n'
        'client_secret = "campus-fer-test-secret"\n'
        f'server_metadata_url = "{oidc_provider}/.well-known/openid-configuration"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    env |= {
        DATABASE_URL_ENV: db_url,
        ENV_PREFIX + "ROLE_DOMAINS": "campus.test=viewer",
        ENV_PREFIX + "ORGANIZERS": ORGANIZER,
        ENV_PREFIX + "ADMINS": ADMIN_EMAIL,
        "AUTHLIB_INSECURE_TRANSPORT": "1",  # plain http on 127.0.0.1 only; real providers use https
    }
    with streamlit_app(tmp, env, port, "--secrets.files", str(secrets)) as url:
        yield App(url, db_url, oidc_provider)


@pytest.fixture(scope="module")
def browser(app: App):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def engine(app: App):
    engine = make_engine(app.db_url)
    yield engine
    engine.dispose()


def audit_rows(engine) -> list[tuple[str, str, str, str | None]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT actor, role, action, session_name FROM audit_events ORDER BY id")
        )
        return [tuple(row) for row in rows]


def sign_in(browser, app: App, email: str):
    """A fresh browser context signs in through the provider's authorization page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{app.issuer}/**")
    page.get_by_role("button", name=email).click()  # the provider's "authenticate predefined user"
    page.wait_for_url(f"{app.url}/**")
    page.get_by_text(email).first.wait_for()
    return page


def sign_out(page, app: App) -> None:
    wait_until_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{app.issuer}/**")  # the provider's end-session page (RP-initiated logout)
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{app.url}/**")
    page.get_by_role("button", name="Sign in").wait_for()
    page.context.close()


def wait_until_idle(page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')"
    )


def test_viewer_organiser_admin_and_sign_out(browser, app: App, engine, tmp_path: Path, recognizer):
    # 1. An organiser signs in, creates a session and uploads a photo into it.
    page = sign_in(browser, app, ORGANIZER)
    page.get_by_text("No sessions yet").wait_for()
    page.get_by_label("Session name").fill("Open day")
    page.get_by_role("button", name="Create session").click()
    page.get_by_text("Created session “Open day”").wait_for()
    photo = tmp_path / "open_day.jpg"
    photo.write_bytes(encode(group_photo(3, seed=7)[0], "JPEG", quality=90))
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files([str(photo)])
    page.get_by_role("button", name="Analyse and save 1 photo").click()
    page.get_by_text("1 photo saved with 3 faces.").wait_for(timeout=120_000)
    page.get_by_text(f"Owner: {ORGANIZER}").wait_for()
    [session] = queries.list_event_sessions(engine)
    assert (session.name, session.owner, session.n_photos, session.n_faces) == ("Open day", ORGANIZER, 1, 3)
    assert audit_rows(engine) == [
        (ORGANIZER, "organizer", "role_assigned", None),
        (ORGANIZER, "organizer", "session_created", "Open day"),
        (ORGANIZER, "organizer", "photos_imported", "Open day"),
    ]
    sign_out(page, app)

    # 2. A viewer sees the session and its owner, but no control that changes data.
    page = sign_in(browser, app, VIEWER)
    page.get_by_text("signed in as a viewer").wait_for()
    page.get_by_text(f"Owner: {ORGANIZER}").wait_for()
    wait_until_idle(page)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert page.get_by_text("Delete this session").count() == 0
    assert page.get_by_label("Session name").count() == 0
    assert page.locator('[data-testid="stSidebarNav"]').get_by_text("Audit trail").count() == 0
    page.goto(f"{app.url}/audit")  # a deep link to the admin page does not open it either
    page.get_by_text("Page not found").wait_for()
    page.get_by_text("signed in as a viewer").wait_for()
    assert page.get_by_role("heading", name="Audit trail").count() == 0
    page.keyboard.press("Escape")
    page.get_by_text("Page not found").wait_for(state="hidden")
    sign_out(page, app)
    # ... and a forged request through the API with a viewer's (read) token is refused.
    from api.app import create_app

    _, read_token = tokens.create_token(engine, "viewer kiosk", "read", actor=ADMIN)
    headers = {"Authorization": f"Bearer {read_token}"}
    with TestClient(create_app(AppSettings(database_url=app.db_url), engine, recognizer)) as client:
        upload = client.post(
            f"/v1/sessions/{session.id}/photos",
            content=photo.read_bytes(),
            headers=headers | {"Content-Type": "image/jpeg"},
        )
        assert upload.status_code == 403
        assert client.delete(f"/v1/sessions/{session.id}", headers=headers).status_code == 403
    assert queries.get_event_session(engine, session.id).n_photos == 1
    assert [row[2] for row in audit_rows(engine)][-2:] == ["role_assigned", "token_created"]

    # 3. The admin deletes the organiser's session and reads the audit trail, which outlives it.
    page = sign_in(browser, app, ADMIN_EMAIL)
    page.get_by_text("Delete this session").click()
    page.get_by_text("Yes, delete “Open day”").click()
    page.get_by_role("button", name="Delete session").click()
    page.get_by_text("Deleted session “Open day”.").wait_for()
    assert queries.list_event_sessions(engine) == []
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT COUNT(*) FROM observations")).scalar_one() == 0
    assert audit_rows(engine)[-1] == (ADMIN_EMAIL, "admin", "session_deleted", "Open day")
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Audit trail").click()
    page.get_by_role("heading", name="Audit trail").wait_for()
    page.get_by_text("7 events, newest first.").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    exported = Path(download.value.path()).read_text()
    assert exported.count("\n") == 8 and "session_deleted" in exported and "photos_imported" in exported
    sign_out(page, app)
    actions = [row[2] for row in audit_rows(engine)]
    assert actions == [
        "role_assigned",
        "session_created",
        "photos_imported",
        "role_assigned",
        "token_created",
        "role_assigned",
        "session_deleted",
    ]


def test_sign_in_page_has_no_serious_axe_violation(browser, app: App):
    """The page a signed-out visitor gets (ui.auth's gate) is checked like every app page in
    tests/test_accessibility.py: axe-core, WCAG 2.2 A/AA, no serious or critical violation."""
    from tests.test_accessibility import check_axe

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(app.url)
    page.get_by_role("button", name="Sign in").wait_for()
    wait_until_idle(page)
    check_axe(page, "sign-in page")
    context.close()
