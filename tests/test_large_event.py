"""The data paths a large event's pages take (issue 17): the Event photos page's photo list counted in
SQL (db.queries.photo_table) and the agenda's per-unit counts put in segments without a join
(db.segments.unit_counts), each against the plain reading of the same rows; on SQLite and PostgreSQL.
The timings are benchmarks/large_event.py's."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.large_event import MAX_FACES_PER_PHOTO, photo_sizes
from campus_fer.agenda import session_segments
from campus_fer.page_tables import expression_counts, photos_table
from campus_fer.stats import expression_intervals
from db import queries, segments
from db.models import COUNT_COLUMNS
from db.segments import OUTSIDE
from fer_core.labels import EMOTIONS
from tests.test_agenda import engine, seed_event  # noqa: F401  (the fixture, on both databases)


def test_photo_table_counts_what_photo_results_lists(engine):  # noqa: F811
    session_id = seed_event(engine)
    listed = queries.photo_results(engine, session_id)
    table = queries.photo_table(engine, session_id)
    assert list(table["id"]) == [p["id"] for p in listed]  # the same photos in the same (time) order
    for row, photo in zip(table.itertuples(index=False), listed, strict=True):
        readable = [f["label"] for f in photo["faces"] if f["readable"]]
        assert row.faces == len(readable) and row.small_faces == len(photo["faces"]) - len(readable)
        assert [getattr(row, c) for c in COUNT_COLUMNS] == [readable.count(name) for name in EMOTIONS]
        assert (row.filename, row.n_faces, row.width, row.model_id) == (
            photo["filename"], photo["n_faces"], photo["width"], photo["model_id"],
        )  # fmt: skip
    shown = photos_table(table)
    assert list(shown["apparent expressions"]) == [
        expression_counts(
            (f["label"] for f in p["faces"] if f["readable"]), sum(not f["readable"] for f in p["faces"])
        )
        for p in listed
    ]
    assert shown.loc[0, "size"] == f"{listed[0]['width']}×{listed[0]['height']}"
    assert queries.photo_table(engine, session_id + 1).empty


def test_unit_counts_put_each_unit_in_the_segment_holding_its_time(engine):  # noqa: F811
    session_id = seed_event(engine)
    agenda = segments.agenda(engine, session_id)
    units = segments.unit_counts(engine, session_id)

    def holding(moment) -> int:  # [starts_at, ends_at): a photo at a segment's start is in it
        return next((s.id for s in agenda if s.starts_at <= moment < s.ends_at), OUTSIDE)

    assert list(units["segment_id"]) == [holding(t) for t in units["observed_at"]]
    assert units["observed_at"].is_monotonic_increasing
    [keynote_id] = [s.id for s in agenda if s.name == "Keynote"]
    assert units.loc[units["segment_id"] == keynote_id, "faces"].sum() == 48
    # Each segment's mix is its own photos' bootstrap, as a one-segment view (trends by segment) shows it.
    cut = session_segments(engine, session_id, min_faces=5)
    keynote = next(s for s in cut.summaries if s.segment.name == "Keynote")
    mine = units[units["segment_id"] == keynote.segment.id]
    assert keynote.mix == expression_intervals(mine[list(COUNT_COLUMNS)].to_numpy(), min_faces=5)


@pytest.mark.parametrize(("faces", "photos"), [(100_000, 15_000), (50, 50), (300, 10)])
def test_benchmark_photo_sizes_hold_every_face(faces, photos):
    sizes = photo_sizes(np.random.default_rng(0), faces, photos)
    assert len(sizes) == photos and sizes.sum() == faces
    assert sizes.min() >= 1 and sizes.max() <= MAX_FACES_PER_PHOTO
    with pytest.raises(ValueError, match="do not fit"):
        photo_sizes(np.random.default_rng(0), 10, 11)
