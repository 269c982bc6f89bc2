"""Machine-readable output for `--json`: one JSON document on stdout, nothing else there."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from typing import Any

from db import queries


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars from pandas rows
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(document: Any) -> None:
    """Write `document` to stdout as indented JSON (rich is bypassed so nothing wraps or colours it)."""
    sys.stdout.write(json.dumps(document, indent=2, default=_default, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def session_json(info: queries.SessionInfo) -> dict[str, Any]:
    """Keys: id, name, event_date (ISO or null), tags, photos, faces, small_faces, models, created_at
    (UTC, ISO), owner."""
    return {
        "id": info.id,
        "name": info.name,
        "event_date": info.event_date,
        "tags": list(info.tags),
        "photos": info.n_photos,
        "faces": info.n_faces,
        "small_faces": info.n_small_faces,
        "models": list(info.models),
        "created_at": info.created_at,
        "owner": info.owner,
    }
