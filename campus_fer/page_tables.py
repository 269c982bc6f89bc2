"""Tables shown on the pages (pandas frames and small HTML), shaped from pipeline outcomes and db query
results. No Streamlit: the pages show them.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Sequence

import pandas as pd

from campus_fer.ingest import FileOutcome
from campus_fer.photo_analysis import LegendRow
from db.models import COUNT_COLUMNS
from fer_core.labels import EMOTIONS

#: How the photo table names each db.models.TIME_SOURCES value.
TIME_SOURCE_LABELS = {"exif": "camera (EXIF)", "upload": "upload", "video": "video timestamp"}
STATUS_TEXT = {
    "saved": "saved",
    "no_face": "no face found",
    "duplicate": "already in session",
    "refused": "refused",
    "db_error": "database error",
    "error": "failed",
    "skipped": "not processed",
}


def expression_counts(labels: Iterable[str], too_small: int = 0) -> str:
    """'happy ×3, neutral ×1' in EMOTIONS order for the readable faces, then '109 too small to read':
    a too-small face's top label is no reading, so it is counted apart, as in the session's shares."""
    counts = Counter(labels)
    return _counts_text([counts[name] for name in EMOTIONS], too_small)


def outcomes_table(outcomes: Sequence[FileOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "file": o.filename,
                "result": STATUS_TEXT.get(o.status, o.status),
                "faces": o.n_faces,
                "apparent expressions": expression_counts(
                    (f.label for f in o.faces if f.readable), sum(not f.readable for f in o.faces)
                ),
                "details": o.message,
            }
            for o in outcomes
        ],
        columns=["file", "result", "faces", "apparent expressions", "details"],
    )


def photos_table(photos: pd.DataFrame) -> pd.DataFrame:
    """One row per stored photo (db.queries.photo_table: per-photo counts from SQL, no face rows)."""
    labels = photos[list(COUNT_COLUMNS)].to_numpy(dtype="int64").tolist()
    small = photos["small_faces"].to_numpy(dtype="int64").tolist()
    return pd.DataFrame(
        {
            "file": photos["filename"].to_numpy(),
            "taken at (UTC)": photos["taken_at"].to_numpy(),
            "time from": photos["time_source"].map(lambda s: TIME_SOURCE_LABELS.get(s, s)).to_numpy(),
            "size": (photos["width"].astype(str) + "×" + photos["height"].astype(str)).to_numpy(),
            "faces": photos["n_faces"].to_numpy(),
            "apparent expressions": [_counts_text(row, n) for row, n in zip(labels, small, strict=True)],
        },
        columns=["file", "taken at (UTC)", "time from", "size", "faces", "apparent expressions"],
    )


def _counts_text(counts: Sequence[int], too_small: int) -> str:
    """expression_counts from per-label counts in EMOTIONS order."""
    parts = [f"{name} ×{n}" for name, n in zip(EMOTIONS, counts, strict=True) if n]
    if too_small:
        parts.append(f"{too_small} too small to read")
    return ", ".join(parts)


def live_faces_table(faces: Sequence[dict]) -> pd.DataFrame:
    """The faces of the latest analysed webcam frame, left to right."""
    rows = sorted(faces, key=lambda f: f["box"][0])
    return pd.DataFrame(
        [
            {"face": i + 1, "apparent expression": f["label"], "confidence": f"{f['confidence']:.0%}"}
            for i, f in enumerate(rows)
        ],
        columns=["face", "apparent expression", "confidence"],
    )


def legend_html(rows: Sequence[LegendRow]) -> str:
    """A small HTML table: a swatch of each box colour, what it means and how many faces have it."""
    lines = "".join(
        f'<tr><td><span style="display:inline-block;width:1em;height:1em;vertical-align:middle;'
        f'border:3px solid {html.escape(r.color)}"></span> {html.escape(r.meaning)}</td>'
        f'<td style="text-align:right">{r.faces}</td></tr>'
        for r in rows
    )
    return f'<table><tr><th>box colour</th><th style="text-align:right">faces</th></tr>{lines}</table>'
