"""Agenda segments: parsing typed/pasted agendas, storing them (db.segments, migration 0005) and the
per-segment mix with intervals and "segment vs the rest of the event" on a real SQLite file."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from campus_fer.agenda import (
    AGENDA_EXAMPLE,
    agenda_from_csv,
    agenda_from_table,
    agenda_table,
    comparison_table,
    mix_table,
    outside_faces,
    summarise_segments,
)
from campus_fer.stats import CLUSTER_BOOTSTRAP
from db import queries, segments
from db.audit import audit_events
from db.engine import make_engine
from db.roles import Actor, NotAllowed, Role
from db.segments import Segment
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN

DAY = date(2025, 5, 3)
ORGANISER = Actor("organiser@campus.example", Role.ORGANIZER, "cli")


def faces(labels: list[str], size: int = 40) -> list[FaceResult]:
    out = []
    for i, label in enumerate(labels):
        p = np.full(len(EMOTIONS), 0.02)
        p[EMOTIONS.index(label)] = 1.0
        out.append(FaceResult((50 * i, 10, size, size), (p / p.sum()).astype(np.float32)))
    return out


@pytest.fixture
def engine(db_url: str):
    """A SQLite file, and a PostgreSQL schema (the segment joins must agree on both backends)."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_agenda_from_csv_and_table():
    parsed = agenda_from_csv(AGENDA_EXAMPLE, DAY)
    assert [s.name for s in parsed] == ["Welcome", "Keynote", "Break", "Workshop"]
    assert parsed[1].starts_at == datetime(2025, 5, 3, 9, 15) and parsed[1].ends_at == datetime(
        2025, 5, 3, 10
    )
    # Full dates need no event date; unordered rows come back in time order; blank rows are ignored.
    table = pd.DataFrame(
        {
            "name": ["Later", "Earlier", None],
            "start": ["2025-05-04 14:00", "2025-05-04 9:00", None],
            "end": ["2025-05-04 15:00", "2025-05-04 10:00", None],
        }
    )
    assert [s.name for s in agenda_from_table(table, None)] == ["Earlier", "Later"]
    assert agenda_from_table(agenda_table(parsed), None) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name,start,end\nTalk,10:00,09:00\n", "ends before it starts"),
        ("name,start,end\nA,09:00,10:00\nB,09:30,11:00\n", "overlap"),
        ("name,start,end\n,09:00,10:00\n", "has no name"),
        ("name,start,end\nTalk,soon,10:00\n", "cannot read start time"),
        ("name,start\nTalk,09:00\n", "missing: end"),
    ],
)
def test_bad_agendas_get_a_readable_message(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        agenda_from_csv(text, DAY)
    with pytest.raises(ValueError, match="event date"):
        agenda_from_csv("name,start,end\nTalk,09:00,10:00\n", None)


def test_store_replace_and_delete_with_the_session(engine):
    session_id = queries.create_event_session(engine, "Open day", actor=ORGANISER)
    stored = segments.replace_agenda(
        engine, session_id, agenda_from_csv(AGENDA_EXAMPLE, DAY), actor=ORGANISER
    )
    assert [s.name for s in segments.agenda(engine, session_id)] == [
        "Welcome",
        "Keynote",
        "Break",
        "Workshop",
    ]
    assert all(s.id is not None for s in stored)
    segments.replace_agenda(
        engine,
        session_id,
        [Segment("All day", datetime(2025, 5, 3, 9), datetime(2025, 5, 3, 17))],
        actor=ORGANISER,
    )
    assert [s.name for s in segments.agenda(engine, session_id)] == ["All day"]
    with pytest.raises(NotAllowed):
        segments.replace_agenda(engine, session_id, [], actor=Actor("x@campus.example", Role.VIEWER))
    changes = audit_events(engine, actor=ADMIN, actions=["agenda_changed"])
    assert changes["detail"].tolist() == [
        {"segments_before": 4, "segments": 1},
        {"segments_before": 0, "segments": 4},
    ]  # newest first; the refused change wrote nothing
    assert set(changes["actor"]) == {ORGANISER.email} and set(changes["session_name"]) == {"Open day"}
    queries.delete_event_session(engine, session_id, actor=ORGANISER)
    assert segments.agenda(engine, session_id) == []  # ON DELETE CASCADE
    with pytest.raises(ValueError, match="does not exist"):
        segments.replace_agenda(engine, session_id, stored, actor=ORGANISER)


def seed_event(engine) -> int:
    """A morning: 12 keynote photos of mostly happy faces, 12 workshop photos of mostly neutral
    faces, one tiny-faces photo in the keynote, and two photos in a 'Q&A' segment (under 5 faces)."""
    session_id = queries.create_event_session(engine, "Open day", actor=ORGANISER)
    start = datetime(2025, 5, 3, 9, 15)

    def photo(i: int, when: datetime, labels: list[str], size: int = 40) -> None:
        queries.save_photo(
            engine, session_id, content_hash=f"h{i}", filename=f"{i}.jpg", taken_at=when,
            time_source="upload", width=1280, height=720, faces=faces(labels, size),
            model_id=FER2013_V2_ID, actor=ORGANISER,
        )  # fmt: skip

    for i in range(12):
        photo(
            i, start + timedelta(minutes=3 * i), ["happy", "happy", "happy", "neutral" if i % 2 else "happy"]
        )
        photo(100 + i, start + timedelta(minutes=65 + 5 * i), ["neutral", "neutral", "neutral", "sad"])
    photo(200, start + timedelta(minutes=10), ["sad", "sad", "sad"], size=8)  # too small to read
    photo(300, datetime(2025, 5, 3, 11, 30), ["happy", "surprise"])
    photo(301, datetime(2025, 5, 3, 11, 40), ["happy"])
    photo(400, datetime(2025, 5, 3, 8, 0), ["neutral", "happy"])  # before the agenda
    agenda = agenda_from_csv(AGENDA_EXAMPLE + "Q&A,11:30,12:00\n", DAY)
    segments.replace_agenda(engine, session_id, agenda, actor=ORGANISER)
    return session_id


def test_segment_mix_intervals_and_comparison(engine):
    session_id = seed_event(engine)
    units = segments.unit_counts(engine, session_id)
    summaries = {
        s.segment.name: s for s in summarise_segments(units, segments.agenda(engine, session_id), min_faces=5)
    }
    keynote, workshop, qa = summaries["Keynote"], summaries["Workshop"], summaries["Q&A"]
    assert (keynote.photos, keynote.faces, keynote.small_faces) == (13, 48, 3)  # the tiny faces are apart
    assert keynote.shown and workshop.shown
    happy = next(i for i in keynote.mix if i.expression == "happy")
    assert happy.share == pytest.approx(42 / 48)
    assert happy.low < happy.share < happy.high and happy.method == CLUSTER_BOOTSTRAP
    assert "sad" not in {i.expression for i in keynote.mix if i.faces}  # tiny 'sad' faces are in no share
    # Keynote vs the rest: clearly more happy faces; its verdict says so.
    verdicts = {d.expression: d for d in keynote.versus_rest}
    assert verdicts["happy"].clear and verdicts["happy"].difference > 0.5
    assert "more frequent" in verdicts["happy"].verdict
    assert not verdicts["surprise"].clear
    # Segments under the threshold are counted but show nothing.
    assert (qa.faces, qa.shown, qa.versus_rest) == (3, False, [])
    assert summaries["Welcome"].faces == 0 and not summaries["Welcome"].shown
    assert outside_faces(units) == 2
    mix = mix_table(list(summaries.values()))
    assert set(mix["segment"]) == {"Keynote", "Workshop"}
    assert mix.groupby("segment")["share"].sum().round(6).eq(1.0).all()
    compared = comparison_table(list(summaries.values()))
    assert compared["clear"].any() and set(compared["segment"]) == {"Keynote", "Workshop"}
