"""A seeded term of synthetic observations: weekly events of one organiser, one with an agenda, and a
last week whose faces look clearly more negative. Used by the page, report and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy.engine import Engine

from campus_fer.agenda import agenda_from_csv
from db import queries, segments
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID
from fer_core.recognizer import FaceResult
from tests.actors import ORGANIZER

TERM_START = date(2025, 9, 22)  # a Monday
WEEKS = 12
PHOTOS_PER_EVENT = 20
FACES_PER_PHOTO = 6
#: Top-label probabilities of an ordinary week, and of the last week (more sad/angry faces).
USUAL_MIX = {
    "happy": 0.35,
    "neutral": 0.35,
    "surprise": 0.08,
    "sad": 0.12,
    "angry": 0.05,
    "fear": 0.03,
    "disgust": 0.02,
}
LAST_WEEK_MIX = {
    "happy": 0.1,
    "neutral": 0.2,
    "surprise": 0.03,
    "sad": 0.4,
    "angry": 0.17,
    "fear": 0.06,
    "disgust": 0.04,
}
AGENDA = "name,start,end\nWelcome,10:00,10:15\nKeynote,10:15,11:00\nBreak,11:00,11:20\nWorkshop,11:20,12:00\n"


@dataclass(frozen=True)
class Term:
    session_ids: list[int]
    with_agenda: int  # the session that has an agenda (the last one)


def synthetic_faces(labels: list[str], rng: np.random.Generator) -> list[FaceResult]:
    out = []
    for i, label in enumerate(labels):
        p = rng.uniform(0.01, 0.08, len(EMOTIONS))
        p[EMOTIONS.index(label)] = 1.0
        out.append(FaceResult((60 * i, 40, 48, 48), (p / p.sum()).astype(np.float32)))
    return out


def seed_term(engine: Engine, seed: int = 0) -> Term:
    """WEEKS weekly events (Tuesday 10:00-12:00) of ORGANIZER; the last has an agenda and a workshop
    whose faces look happier than the keynote's."""
    rng = np.random.default_rng(seed)
    ids = []
    for week in range(WEEKS):
        day = TERM_START + timedelta(weeks=week, days=1)
        session_id = queries.create_event_session(
            engine, f"Week {week + 1} seminar", day, ["seminar"], actor=ORGANIZER
        )
        mix = LAST_WEEK_MIX if week == WEEKS - 1 else USUAL_MIX
        names, weights = list(mix), np.array(list(mix.values()))
        for i in range(PHOTOS_PER_EVENT):
            taken = datetime.combine(day, datetime.min.time()) + timedelta(hours=10, minutes=6 * i)
            if week == WEEKS - 1 and taken.hour == 11 and taken.minute >= 20:  # the workshop landed well
                labels = list(rng.choice(["happy", "happy", "happy", "neutral"], FACES_PER_PHOTO))
            else:
                labels = list(rng.choice(names, FACES_PER_PHOTO, p=weights / weights.sum()))
            queries.save_photo(
                engine, session_id, content_hash=f"{week}-{i}", filename=f"photo_{i}.jpg",
                taken_at=taken, time_source="exif", width=1280, height=720,
                faces=synthetic_faces(labels, rng), model_id=FER2013_V2_ID, actor=ORGANIZER,
            )  # fmt: skip
        ids.append(session_id)
    last_day = TERM_START + timedelta(weeks=WEEKS - 1, days=1)
    segments.replace_agenda(engine, ids[-1], agenda_from_csv(AGENDA, last_day), actor=ORGANIZER)
    return Term(ids, ids[-1])
