"""Readings of different models are never mixed silently (issue 15 item 7), on a SQLite file and on
PostgreSQL: a term read by one model, then, from a Wednesday on, by another whose negative-affect
share on the same kind of faces is 17 points different (v2 ~42%, v3 ~25%).

The wellbeing chart and page raise no flag from the switch (the new model builds its own baseline)
in either direction; the trends page marks the first week read by the new model and names both
models; the report and the API name both models.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from campus_fer.control_chart import (
    BUILDING_BASELINE,
    MIN_BASELINE_WEEKS,
    WITHIN_LIMITS,
    negative_affect_chart,
)
from campus_fer.report import build_report, render_html
from campus_fer.settings import ENV_PREFIX, AppSettings
from campus_fer.wellbeing import baseline_restarts, event_chart, shown, weekly_chart
from db import queries, tokens
from db.engine import make_engine
from db.settings import DATABASE_URL_ENV
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID, FERPLUS_V3_ID
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN, ORGANIZER
from tests.test_app_pages import open_page, texts

TERM_START = date(2026, 8, 31)  # a Monday
OLD_WEEKS, NEW_WEEKS = 10, 7  # whole weeks per model; the switch week between them is split
PHOTOS, FACES = 10, 12  # per weekly event: 120 readable faces
#: Negative faces (angry, disgust, fear, sad) per photo of 12: 5 -> 41.7% (v2), 3 -> 25% (v3).
NEGATIVE_PER_PHOTO = {FER2013_V2_ID: 5, FERPLUS_V3_ID: 3}
SWITCH_PHOTO = 4  # in the switch week, photos 0-3 (Monday, Tuesday) are read by the old model
MIN_FACES = 5


@dataclass(frozen=True)
class Switch:
    old: str
    new: str
    session_ids: list[int]  # one weekly event each; the switch week's event has both models
    switch_session: int
    switch_week: date  # Monday of the week read by both models
    first_new: datetime  # the first photo read by the new model (Wednesday 10:00)


def faces(negative: int, seed: int) -> list[FaceResult]:
    """FACES synthetic faces: `negative` of them sad/angry/fear/disgust, the others happy/neutral."""
    rng = np.random.default_rng(seed)
    labels = [("sad", "angry", "fear", "disgust")[i % 4] for i in range(negative)]
    labels += [("happy", "neutral")[i % 2] for i in range(FACES - negative)]
    out = []
    for i, label in enumerate(labels):
        p = rng.uniform(0.01, 0.08, len(EMOTIONS))
        p[EMOTIONS.index(label)] = 1.0
        out.append(FaceResult((50 * i, 40, 48, 48), (p / p.sum()).astype(np.float32)))
    return out


def seed_switch(engine: Engine, old: str, new: str) -> Switch:
    """Weekly events: OLD_WEEKS read by `old`, a week whose Monday/Tuesday photos `old` read and the
    rest `new`, then NEW_WEEKS read by `new`."""
    ids, switch_session, first_new = [], 0, datetime.min
    for week in range(OLD_WEEKS + 1 + NEW_WEEKS):
        monday = TERM_START + timedelta(weeks=week)
        session_id = queries.create_event_session(engine, f"Week {week + 1}", monday, actor=ORGANIZER)
        for i in range(PHOTOS):
            day = monday + timedelta(days=i // 2)  # two photos a day, Monday to Friday
            taken = datetime.combine(day, datetime.min.time()) + timedelta(hours=10 + i % 2)
            model = old if week < OLD_WEEKS or (week == OLD_WEEKS and i < SWITCH_PHOTO) else new
            if week == OLD_WEEKS and i == SWITCH_PHOTO:
                switch_session, first_new = session_id, taken
            queries.save_photo(
                engine, session_id, content_hash=f"{week}-{i}", filename=f"{i}.jpg", taken_at=taken,
                time_source="exif", width=1280, height=720, model_id=model, actor=ORGANIZER,
                faces=faces(NEGATIVE_PER_PHOTO[model], seed=100 * week + i),
            )  # fmt: skip
        ids.append(session_id)
    return Switch(old, new, ids, switch_session, TERM_START + timedelta(weeks=OLD_WEEKS), first_new)


@pytest.fixture
def engine(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The database of conftest's `db_url` (SQLite file or PostgreSQL schema), also for the pages."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.setenv(DATABASE_URL_ENV, db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def upgrade(engine: Engine) -> Switch:
    """The switch the product is about to make: v2 (~42% negative) -> v3 (~25%)."""
    return seed_switch(engine, FER2013_V2_ID, FERPLUS_V3_ID)


# -- Wellbeing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("old,new", [(FER2013_V2_ID, FERPLUS_V3_ID), (FERPLUS_V3_ID, FER2013_V2_ID)])
def test_the_weekly_p_chart_restarts_its_baseline_and_raises_no_flag(engine: Engine, old: str, new: str):
    """Both directions: the fall of the upgrade and the 17-point rise of going back to v2."""
    switch = seed_switch(engine, old, new)
    chart = weekly_chart(engine, MIN_FACES)
    assert len(chart) == OLD_WEEKS + 2 + NEW_WEEKS  # the switch week is one row per model
    assert not chart["flagged"].any()
    mixed = chart[chart["period"] == np.datetime64(switch.switch_week)]
    assert list(mixed["model_id"]) == [old, new] and list(mixed["faces"]) == [48, 72]

    new_rows = chart[chart["model_id"] == new].reset_index(drop=True)
    assert list(new_rows["status"][:MIN_BASELINE_WEEKS]) == [BUILDING_BASELINE] * MIN_BASELINE_WEEKS
    assert set(new_rows["status"][MIN_BASELINE_WEEKS:]) == {WITHIN_LIMITS}
    expected = NEGATIVE_PER_PHOTO[new] / FACES  # the new model's own share, no old week in it
    np.testing.assert_allclose(new_rows["baseline_share"].dropna(), expected)
    old_rows = chart[chart["model_id"] == old]
    np.testing.assert_allclose(old_rows["baseline_share"].dropna(), NEGATIVE_PER_PHOTO[old] / FACES)

    # The same counts pooled as one model: the new weeks are judged against the old model's baseline.
    pooled = negative_affect_chart(chart[["period", "faces", "negative"]], min_faces=MIN_FACES)
    if NEGATIVE_PER_PHOTO[new] > NEGATIVE_PER_PHOTO[old]:  # going back to v2 would flag every week
        assert pooled["flagged"].sum() >= 1
    else:
        # ...weeks later still mixing in the old model's weeks (the rolling window is 8 weeks long).
        assert (pooled["baseline_share"].iloc[OLD_WEEKS + 2 : OLD_WEEKS + 6] > expected + 0.05).all()

    [restart] = baseline_restarts(engine, shown(chart))
    assert (restart.model_id, restart.previous) == (new, (old,))
    assert restart.since == switch.first_new and restart.period == np.datetime64(switch.switch_week)


def test_the_event_p_chart_restarts_its_baseline_too(engine: Engine, upgrade: Switch):
    chart = event_chart(engine, MIN_FACES)
    assert not chart["flagged"].any()
    switch_rows = chart[chart["event"] == f"Week {OLD_WEEKS + 1}"]
    assert list(switch_rows["model_id"]) == [upgrade.old, upgrade.new]
    assert switch_rows["period"].nunique() == 1  # one event, one place in the order
    new_rows = chart[chart["model_id"] == upgrade.new]
    assert list(new_rows["status"][:MIN_BASELINE_WEEKS]) == [BUILDING_BASELINE] * MIN_BASELINE_WEEKS
    [restart] = baseline_restarts(engine, chart)
    assert restart.model_id == upgrade.new


def test_wellbeing_page_says_why_the_baseline_restarts_and_raises_no_flag(engine: Engine, upgrade: Switch):
    at = open_page("pages/wellbeing.py")
    assert not at.error
    warning = texts(at.warning)
    assert f"The model changed on {upgrade.first_new:%Y-%m-%d}" in warning
    assert f"from {upgrade.old} to {upgrade.new}" in warning and "the baseline restarts" in warning
    assert "No week rose above its upper control limit" in texts(at.success)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert [s["name"] for s in spec["layout"]["shapes"]] == [f"model change: {upgrade.new}"]
    at.radio(key="wellbeing_by").set_value("event").run()
    assert not at.exception and not at.error
    assert f"event 'Week {OLD_WEEKS + 1}'" in texts(at.warning)


# -- Trends ------------------------------------------------------------------------------------------


def test_trends_page_marks_the_change_and_names_both_models(engine: Engine, upgrade: Switch):
    at = open_page("pages/trends.py")
    at.radio(key="trends_bucket").set_value("week").run()
    assert not at.exception, [e.value for e in at.exception]
    last_old_day = upgrade.first_new.date() - timedelta(days=1)
    caption = texts(at.caption)
    assert (
        f"Readings by {upgrade.old} until {last_old_day:%Y-%m-%d}, {upgrade.new} since "
        f"{upgrade.first_new:%Y-%m-%d}." in caption
    )
    trend = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]
    [line] = trend["shapes"]
    assert line["name"] == f"model change: {upgrade.new}"
    assert line["x0"].startswith(f"{upgrade.switch_week:%Y-%m-%d}")  # the first week the new model read
    notes = [a["text"] for a in trend["annotations"] if not a.get("name", "").startswith("label: ")]
    assert notes == [f"model {upgrade.new} from here"]  # besides the expressions' direct labels
    [table] = [d.value for d in at.dataframe if "models" in d.value.columns]
    per_week = table.drop_duplicates("bucket_start").set_index("bucket_start")["models"]
    assert per_week.iloc[0] == upgrade.old and per_week.iloc[-1] == upgrade.new
    assert per_week[np.datetime64(upgrade.switch_week)] == f"{upgrade.old} + {upgrade.new}"


# -- Report and API ----------------------------------------------------------------------------------


def test_report_names_the_models_behind_its_figures(engine: Engine, upgrade: Switch):
    report = build_report(engine, upgrade.switch_session, min_faces=MIN_FACES, notice="Notice.")
    assert report.models == (upgrade.old, upgrade.new)
    assert [(c.model_id, c.previous) for c in report.trend_changes] == [(upgrade.new, (upgrade.old,))]
    document = render_html(report)
    assert "Read by models</div>" not in document  # the label and its value sit in one figure box
    assert f"Read by models<b>{upgrade.old} + {upgrade.new}</b>" in document
    assert f"Readings by {upgrade.old} until" in document and "mix both models' readings" in document
    assert "These events were read by different models" in document

    single = render_html(build_report(engine, upgrade.session_ids[0], min_faces=MIN_FACES, notice="N."))
    assert (
        f"Read by model<b>{upgrade.old}</b>" in single and upgrade.new not in single.split("<h2>Compared")[0]
    )


def test_api_states_the_models_per_session_segment_and_trend(engine: Engine, upgrade: Switch):
    from api.app import create_app
    from fer_core.recognizer import Recognizer

    headers = {"Authorization": f"Bearer {tokens.create_token(engine, 'r', 'read', actor=ADMIN)[1]}"}
    with TestClient(create_app(AppSettings(min_faces_per_bucket=MIN_FACES), engine, Recognizer())) as client:
        session = client.get(f"/v1/sessions/{upgrade.switch_session}", headers=headers).json()
        assert session["models"] == [upgrade.old, upgrade.new]
        first = client.get(f"/v1/sessions/{upgrade.session_ids[0]}", headers=headers).json()
        assert first["models"] == [upgrade.old]
        segments = client.get(f"/v1/sessions/{upgrade.switch_session}/segments", headers=headers).json()
        assert segments["models"] == [upgrade.old, upgrade.new]

        trends = client.get("/v1/trends", params={"bucket": "week"}, headers=headers).json()
        assert [m["model_id"] for m in trends["models"]] == [upgrade.old, upgrade.new]
        assert trends["models"][1]["first_hour"].startswith(f"{upgrade.first_new:%Y-%m-%dT%H}")
        assert sum(m["faces"] for m in trends["models"]) == (OLD_WEEKS + 1 + NEW_WEEKS) * PHOTOS * FACES
        [change] = trends["model_changes"]
        assert change["model_id"] == upgrade.new
        assert change["bucket_start"].startswith(f"{upgrade.switch_week:%Y-%m-%d}")
        models = {row["bucket_start"][:10]: row["models"] for row in trends["rows"]}
        assert models[f"{upgrade.switch_week:%Y-%m-%d}"] == f"{upgrade.old} + {upgrade.new}"
        csv = client.get("/v1/trends", params={"bucket": "week", "format": "csv"}, headers=headers).text
        assert csv.splitlines()[0].endswith(",models") and f"{upgrade.old} + {upgrade.new}" in csv
