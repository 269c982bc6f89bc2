"""Who is using the app: OpenID Connect sign-in (st.login / st.user, `[auth]` in secrets.toml) with a
role from the settings (db.roles), or local mode without `[auth]`: one local user with
every role, bound to localhost, under a banner saying so.

Pages ask `page_actor()` for the acting user and pass it to db and the ingest core, which refuse
what the role does not allow; hiding controls here is for clarity, not the guard.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import streamlit as st
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from streamlit.navigation.page import StreamlitPage

from campus_fer.settings import AppSettings
from db import audit
from db.roles import Actor, Role, operator
from ui.resources import get_engine
from ui.settings import load_settings

LOGGER = logging.getLogger(__name__)

#: The secrets table Streamlit reads its OIDC settings from.
AUTH_SECTION = "auth"
#: st.session_state key: the (e-mail, role) whose role assignment this browser session has audited.
ROLE_AUDITED_KEY = "auth_role_audited"
LOCAL_BANNER = (
    "**No sign-in is configured** (no `[auth]` in `.streamlit/secrets.toml`): you are the local user "
    "with every role, and anyone who can reach this address can add and delete data. The app "
    "listens on this computer only; configure sign-in before serving it to others "
    "(README: *Sign-in and roles*)."
)

Mode = Literal["local", "signed_in", "signed_out", "no_role"]


@dataclass(frozen=True)
class Visitor:
    """The person at the browser: an actor when they may use the app, else why not."""

    mode: Mode
    actor: Actor | None = None
    email: str | None = None
    rule: str | None = None  # which setting gave the role ("listed in admins", "domain campus.edu")


def auth_section() -> Mapping[str, object]:
    """`[auth]` from the secrets, or {} when there is none (local mode)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get(AUTH_SECTION)
    except Exception:  # an unreadable secrets file means no sign-in, reported by Streamlit itself
        return {}
    return section if isinstance(section, Mapping) else {}


def providers(section: Mapping[str, object]) -> list[str | None]:
    """Named providers (`[auth.<name>]` tables); [None] when [auth] itself holds the client settings."""
    named = [name for name, value in section.items() if isinstance(value, Mapping)]
    return named or [None]


def identify(settings: AppSettings) -> Visitor:
    """Local user, signed-out visitor, signed-in user with their role, or signed in without a role.

    An e-mail the provider marks unverified (email_verified false) gets no role.
    """
    if not auth_section():
        return Visitor("local", operator("local"))
    if not st.user.is_logged_in:
        return Visitor("signed_out")
    email = str(st.user.get("email") or "").strip().lower() or None
    found = None if st.user.get("email_verified") is False else settings.role_rules.assignment(email)
    if found is None:
        return Visitor("no_role", email=email)
    role, rule = found
    return Visitor("signed_in", Actor(email or "", role, "oidc"), email, rule)


def page_actor(settings: AppSettings | None = None) -> Actor:
    """The acting user for a page, or a message and the end of this run (signed out / no role)."""
    visitor = identify(settings or load_settings())
    if visitor.actor is None:
        st.info("Sign in on the start page to use Campus FER.")
        st.stop()
    return visitor.actor


def audit_role_once(engine: Engine, visitor: Visitor) -> None:
    """Record a 'role_assigned' audit row when a user's role from the settings differs from the last
    one recorded for them (first sign-in, or after the settings changed); once per browser session."""
    actor = visitor.actor
    if visitor.mode != "signed_in" or actor is None:
        return
    key = (actor.email, actor.role.value)
    if st.session_state.get(ROLE_AUDITED_KEY) == key:
        return
    try:
        if audit.last_role(engine, actor.email) != actor.role.value:
            audit.record_event(engine, actor, "role_assigned", detail={"rule": visitor.rule})
    except SQLAlchemyError:
        LOGGER.exception("recording the role of %s failed", actor.email)
        return
    st.session_state[ROLE_AUDITED_KEY] = key


def is_loopback(address: str | None) -> bool:
    """True for localhost / 127.x / ::1; an empty address means every interface (not loopback)."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def sign_in_page() -> None:
    """The start page for a signed-out visitor: one button per configured provider."""
    st.title("Campus FER", anchor=False)
    st.write(
        "Apparent-expression trends of campus events, in aggregate. Sign in with your campus account "
        "to continue."
    )
    for name in providers(auth_section()):
        label = "Sign in" if name is None else f"Sign in with {name}"
        if st.button(label, type="primary", key=f"sign_in_{name or 'default'}"):
            st.login(name) if name else st.login()


def no_role_page() -> None:
    """The only page for a signed-in account that the role settings give no role."""
    visitor = identify(load_settings())
    st.title("Campus FER", anchor=False)
    st.warning(
        f"You are signed in as **{visitor.email or 'an account without an e-mail address'}**, but this "
        "account has no role in Campus FER (or its e-mail address is not verified). Ask an administrator "
        "to add your address or your domain to the role settings."
    )
    if st.button("Sign out"):
        st.logout()


def admit(settings: AppSettings) -> tuple[Visitor, StreamlitPage | None]:
    """Who is at the browser; for a visitor who may not use the app, the one page they may see
    (sign-in, or 'no role') as a navigation to run instead of the app's pages."""
    visitor = identify(settings)
    if visitor.mode == "signed_out":
        return visitor, st.navigation([st.Page(sign_in_page, title="Sign in", icon=":material/login:")])
    if visitor.mode == "no_role":
        return visitor, st.navigation([st.Page(no_role_page, title="No role", icon=":material/block:")])
    if visitor.mode == "signed_in":
        try:
            audit_role_once(get_engine(settings), visitor)
        except (SQLAlchemyError, OSError, ValueError):  # the pages report a database that cannot open
            LOGGER.exception("opening the database to record a role failed")
    return visitor, None


def show_user(visitor: Visitor) -> None:
    """In the sidebar: who is signed in with which role, and the sign-out button; the local-mode banner."""
    actor = visitor.actor
    if actor is None:
        return
    if visitor.mode == "local":
        from streamlit import config as st_config

        address = st_config.get_option("server.address")
        st.warning(LOCAL_BANNER, icon=":material/lock_open:")
        if not is_loopback(address) and not st_config.get_option("global.appTest"):
            st.error(
                f"This app listens on `{address or 'every network interface'}` without sign-in: anyone on "
                'the network can change data. Set server.address = "127.0.0.1" or configure sign-in.'
            )
        return
    with st.sidebar:
        st.markdown("#### Signed in")
        st.caption(f"{actor.email} · {ROLE_NAMES[actor.role]}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            st.logout()


ROLE_NAMES: dict[Role, str] = {Role.VIEWER: "viewer", Role.ORGANIZER: "organiser", Role.ADMIN: "admin"}
