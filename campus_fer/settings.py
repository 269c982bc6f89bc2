"""Settings in one place for every door: environment variables first, then a secrets table, then defaults.

Operators configure a deployment without touching code; a bad value falls back to its default
and is reported (on the page, by the API or the CLI) instead of crashing. The Streamlit app passes
the `[campus_fer]` table of .streamlit/secrets.toml in (ui.settings); the API and the CLI read the
environment only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from db.roles import Role, RoleRules, parse_addresses, parse_domain_roles
from fer_core.config import DEFAULT_SERVED_MODEL, SERVED_MODELS, resolve_model_name
from fer_core.detect import TILING_MODES

#: Environment variables (CAMPUS_FER_DATABASE_URL is defined by db.settings and read there too).
ENV_PREFIX = "CAMPUS_FER_"
#: Table in .streamlit/secrets.toml holding the same settings in lower case (e.g. max_upload_mb = 25).
SECRETS_SECTION = "campus_fer"

DEFAULT_NOTICE = (
    "This app estimates how faces *appear* to feel (apparent expression), not what anyone feels. "
    "It stores only times, face boxes and expression probabilities: no face images, no names, "
    "no identities. Results are shown in aggregate only. Tell attendees before photos or the "
    "webcam are used, and respect anyone who does not want to take part."
)
#: Shown on the Wellbeing signals page; operators put their campus's own support contacts here.
DEFAULT_SUPPORT_TEXT = (
    "If you are worried about a student or a group, talk to your campus student-support or counselling "
    "service; in an emergency call your local emergency number. (Operators: set CAMPUS_FER_SUPPORT_TEXT "
    "to your campus's contacts.)"
)


@dataclass(frozen=True)
class AppSettings:
    """Everything an operator may change; the README's Settings table lists the variable names."""

    database_url: str | None = None  # None: db.settings decides (env var or the local SQLite file)
    max_upload_mb: float = 25.0
    max_files_per_upload: int = 50
    min_faces_per_bucket: int = 5
    notice: str = DEFAULT_NOTICE
    ice_servers: tuple[dict[str, Any], ...] = ()
    live_record_interval_s: float = 10.0
    model: str = DEFAULT_SERVED_MODEL
    tiling: str = "auto"  # crowds: fer_core.detect.TILING_MODES
    max_video_upload_mb: float = 200.0  # Streamlit's server.maxUploadSize (.streamlit/config.toml) caps it
    support_text: str = DEFAULT_SUPPORT_TEXT
    # Roles of signed-in users (db.roles): listed addresses, and domain -> role rules.
    admins: frozenset[str] = frozenset()
    organizers: frozenset[str] = frozenset()
    viewers: frozenset[str] = frozenset()
    role_domains: dict[str, Role] = field(default_factory=dict)
    problems: tuple[str, ...] = field(default=(), compare=False)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def rtc_configuration(self) -> dict[str, Any]:
        """WebRTC configuration; an explicit empty list stops streamlit-webrtc from fetching servers."""
        return {"iceServers": [dict(server) for server in self.ice_servers]}

    @property
    def role_rules(self) -> RoleRules:
        return RoleRules(self.admins, self.organizers, self.viewers, self.role_domains)


def _positive_number(cast: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def parse(value: Any) -> Any:
        number = cast(value)
        if number <= 0:
            raise ValueError("must be greater than zero")
        return number

    return parse


def parse_ice_servers(value: Any) -> tuple[dict[str, Any], ...]:
    """ICE servers from JSON text or a list of tables: [{"urls": [...], "username": .., "credential": ..}]."""
    servers = json.loads(value) if isinstance(value, str) else value
    if isinstance(servers, Mapping):
        servers = [servers]
    if not isinstance(servers, list | tuple):
        raise ValueError("must be a list of {urls, username, credential} objects")
    parsed = []
    for server in servers:
        if not isinstance(server, Mapping) or not server.get("urls"):
            raise ValueError("every ICE server needs a 'urls' entry")
        parsed.append({k: (list(v) if isinstance(v, list | tuple) else v) for k, v in server.items()})
    return tuple(parsed)


def parse_model(value: Any) -> str:
    try:
        return resolve_model_name(str(value))
    except KeyError:
        raise ValueError(f"must be one of {', '.join(SERVED_MODELS)}") from None


def parse_tiling(value: Any) -> str:
    mode = str(value).strip().lower()
    if mode not in TILING_MODES:
        raise ValueError(f"must be one of {', '.join(TILING_MODES)}")
    return mode


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "database_url": lambda v: str(v).strip() or None,
    "max_upload_mb": _positive_number(float),
    "max_files_per_upload": _positive_number(int),
    "min_faces_per_bucket": _positive_number(int),
    "notice": lambda v: str(v).strip() or DEFAULT_NOTICE,
    "ice_servers": parse_ice_servers,
    "live_record_interval_s": _positive_number(float),
    "model": parse_model,
    "tiling": parse_tiling,
    "max_video_upload_mb": _positive_number(float),
    "support_text": lambda v: str(v).strip() or DEFAULT_SUPPORT_TEXT,
    "admins": parse_addresses,
    "organizers": parse_addresses,
    "viewers": parse_addresses,
    "role_domains": parse_domain_roles,
}


def load_settings(
    environ: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> AppSettings:
    """Read every setting; invalid values keep the default and are listed in `problems`.

    `secrets` is the `[campus_fer]` secrets table (lower-case names), when the door has one.
    """
    environ = os.environ if environ is None else environ
    secrets = {} if secrets is None else secrets
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, parse in _PARSERS.items():
        env_name = ENV_PREFIX + name.upper()
        if environ.get(env_name, "").strip():
            raw, origin = environ[env_name], env_name
        elif name in secrets:
            raw, origin = secrets[name], f"secrets [{SECRETS_SECTION}] {name}"
        else:
            continue
        try:
            values[name] = parse(raw)
        except (TypeError, ValueError) as exc:
            problems.append(f"Setting {origin} is invalid ({exc}); using the default instead.")
    return AppSettings(**values, problems=tuple(problems))
