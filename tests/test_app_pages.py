"""Every page of the Streamlit app, run headless with AppTest against a temporary SQLite database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from campus_fer.settings import ENV_PREFIX
from db import queries
from db.engine import make_engine
from db.settings import DATABASE_URL_ENV
from fer_core import config
from fer_core.labels import EMOTIONS
from fer_core.model_info import FER2013_V2_ID
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN
from tests.photos import encode, group_photo

APP = Path(__file__).resolve().parent.parent / "app.py"
TIMEOUT = 60


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh SQLite file for the app; app settings from the environment are cleared."""
    import os

    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def no_webrtc_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """streamlit-webrtc asks the real Runtime for session info, which AppTest only mocks."""
    import streamlit_webrtc.component

    monkeypatch.setattr(streamlit_webrtc.component, "get_this_session_info", lambda: None)


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def faces(n: int, label: str = "happy", seed: int = 0) -> list[FaceResult]:
    """Synthetic recognizer output: n faces whose top expression is `label`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = rng.uniform(0.01, 0.1, len(EMOTIONS))
        p[EMOTIONS.index(label)] = 1.0
        out.append(FaceResult((10 * i, 10, 40, 40), (p / p.sum()).astype(np.float32)))
    return out


# -- every page ---------------------------------------------------------------------------------------


def test_pages_render_and_app_shows_the_notice(db_url, no_webrtc_session):
    # AppTest runs switched pages without app.py (it routes by the pages/ folder), so the notice
    # on every page is checked by the browser test; here app.py's own run shows it.
    at = open_page()
    assert "no face images" in texts(at.sidebar.caption)
    for page in ("pages/live.py", "pages/trends.py", "pages/metrics.py", "pages/photos.py"):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, texts(at.error))


def test_notice_text_is_configurable(db_url, monkeypatch):
    monkeypatch.setenv("CAMPUS_FER_NOTICE", "Photos at the Open Day are analysed for apparent expression.")
    at = open_page()
    assert "Open Day are analysed" in texts(at.sidebar.caption)


# -- Event photos -------------------------------------------------------------------------------------


def test_photos_page_empty_state(db_url):
    at = open_page()
    assert at.title[0].value == "Event photos"
    assert "No sessions yet" in texts(at.info)
    assert not at.file_uploader  # no upload before there is a session


def test_create_session_through_the_form(db_url, engine):
    at = open_page()
    at.text_input[0].input("Open day 2025")
    at.date_input[0].set_value(datetime(2025, 5, 3).date())
    at.text_input[1].input("open day, hall A, ")
    at.button[0].click().run()
    assert not at.exception
    assert "Created session" in texts(at.success)
    [info] = queries.list_event_sessions(engine)
    assert (info.name, info.event_date.isoformat(), info.tags) == (
        "Open day 2025",
        "2025-05-03",
        ["open day", "hall A"],
    )
    assert at.file_uploader  # the session is selected and ready for uploads
    # The same name again is refused with the db's message, not a traceback.
    at.text_input[0].input("Open day 2025")
    at.button[0].click().run()
    assert not at.exception
    assert "already exists" in texts(at.error)
    assert len(queries.list_event_sessions(engine)) == 1


def test_upload_through_the_page(db_url, engine):
    session_id = queries.create_event_session(engine, "Lecture", actor=ADMIN)
    at = open_page()
    uploads = [(f"group_{i}.jpg", encode(group_photo(3, seed=i)[0]), "image/jpeg") for i in range(2)]
    uploads.append(("notes.jpg", b"not a photo", "image/jpeg"))
    at.file_uploader[0].set_value(uploads).run()
    at.button(key="analyse").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "2 photos saved with 6 faces" in texts(at.success)
    assert "notes.jpg" in texts(at.error) and "not an image" in texts(at.error)
    assert {p["filename"]: p["n_faces"] for p in queries.photo_results(engine, session_id)} == {
        "group_0.jpg": 3,
        "group_1.jpg": 3,
    }
    assert {m.label: m.value for m in at.metric}["Faces"] == "6"
    assert at.get("plotly_chart")  # the session's expression mix (6 faces >= the threshold of 5)


def test_upload_limits_from_settings(db_url, engine, monkeypatch):
    monkeypatch.setenv("CAMPUS_FER_MAX_UPLOAD_MB", "0.05")  # 51 KB
    monkeypatch.setenv("CAMPUS_FER_MAX_FILES_PER_UPLOAD", "2")
    session_id = queries.create_event_session(engine, "Limits", actor=ADMIN)
    small = encode(group_photo(1, size=(320, 240), seed=1)[0], "JPEG", quality=70)
    big = encode(group_photo(2, seed=2)[0], "PNG")
    assert len(small) < 50_000 < len(big)
    at = open_page()
    at.file_uploader[0].set_value(
        [
            ("small.jpg", small, "image/jpeg"),
            ("big.png", big, "image/png"),
            ("third.jpg", small, "image/jpeg"),
        ]
    ).run()
    at.button(key="analyse").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert "big.png" in errors and "above the 51 KB limit" in errors
    assert "third.jpg" in errors and "at most 2 files per upload" in errors
    assert [p["filename"] for p in queries.photo_results(engine, session_id)] == ["small.jpg"]


def test_retired_fast_model_setting_falls_back_to_the_served_model(db_url, engine, monkeypatch):
    import ui.resources

    monkeypatch.setenv("CAMPUS_FER_MODEL", "fast")
    session_id = queries.create_event_session(engine, "Fast model", actor=ADMIN)
    at = open_page()
    assert "CAMPUS_FER_MODEL is invalid (must be one of consensus, fer2013)" in texts(at.sidebar.warning)
    at.file_uploader[0].set_value([("group.jpg", encode(group_photo(4, seed=5)[0]), "image/jpeg")]).run()
    at.button(key="analyse").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 photo saved with 4 faces" in texts(at.success)
    assert [p["n_faces"] for p in queries.photo_results(engine, session_id)] == [4]
    assert ui.resources.get_recognizer().model_path == config.FERPLUS_INT8_PATH


def test_database_that_cannot_be_opened_shows_an_error(db_url, monkeypatch):
    monkeypatch.setenv(
        DATABASE_URL_ENV, "postgresql+psycopg://campus:s3cret@127.0.0.1:9/none?connect_timeout=2"
    )
    for page in (None, "pages/trends.py"):
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
        if page:
            at.switch_page(page).run()
        assert not at.exception
        message = texts(at.error)
        assert "could not be opened" in message and "s3cret" not in message


def test_missing_model_shows_an_error(db_url, engine, monkeypatch):
    import ui.resources

    def no_model(*args, **kwargs):
        raise FileNotFoundError("model not found at models/fer_cnn.onnx; run training.export first")

    monkeypatch.setattr(ui.resources, "_model_version", lambda path: -1.0)
    monkeypatch.setattr(ui.resources, "Recognizer", no_model)
    queries.create_event_session(engine, "No model", actor=ADMIN)
    at = open_page()
    at.file_uploader[0].set_value(("a.jpg", encode(group_photo(1)[0]), "image/jpeg")).run()
    at.button(key="analyse").click().run()
    assert not at.exception
    assert "expression model could not be loaded" in texts(at.error)


def test_delete_session_needs_confirmation(db_url, engine):
    queries.create_event_session(engine, "To delete", actor=ADMIN)
    at = open_page()
    delete = next(b for b in at.button if b.label == "Delete session")
    assert delete.disabled
    at.checkbox(key="confirm_delete").check().run()
    next(b for b in at.button if b.label == "Delete session").click().run()
    assert not at.exception
    assert "Deleted session" in texts(at.success)
    assert queries.list_event_sessions(engine) == []
    assert "No sessions yet" in texts(at.info)


# -- Live webcam --------------------------------------------------------------------------------------


def test_live_page_renders_idle(db_url, no_webrtc_session):
    at = open_page("pages/live.py")
    assert at.title[0].value == "Live webcam"
    assert "Press **START**" in texts(at.info)
    assert [m.label for m in at.metric] == [
        "Frames analysed",
        "Video FPS",
        "Analysis FPS",
        "Faces now",
        "Faces recorded",
    ]
    assert at.toggle[0].disabled  # nothing to record into yet
    assert "create a session on the Event photos page" in texts(at.caption)


def test_live_page_record_into_a_session(db_url, engine, no_webrtc_session):
    queries.create_event_session(engine, "Welcome talk", actor=ADMIN)
    at = open_page("pages/live.py")
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert at.selectbox[0].label == "Session to record into"
    assert "Welcome talk" in at.selectbox[0].options[0]


# -- Mood trends --------------------------------------------------------------------------------------


def test_trends_page_empty_state(db_url):
    at = open_page("pages/trends.py")
    assert "No sessions yet — upload event photos on the Event photos page" in texts(at.info)
    assert not at.get("plotly_chart")


def test_trends_page_shows_charts_and_hides_small_buckets(db_url, engine):
    talk = queries.create_event_session(engine, "Talk", actor=ADMIN)
    tiny = queries.create_event_session(engine, "Tiny workshop", actor=ADMIN)
    start = datetime(2025, 5, 3, 10, 0)
    for hour, n in ((0, 6), (1, 8), (2, 2)):  # the 12:00 bucket has 2 faces: below the threshold of 5
        queries.save_live_observations(
            engine,
            talk,
            start + timedelta(hours=hour, minutes=5),
            faces(n, seed=hour),
            model_id=FER2013_V2_ID,
        )
    queries.save_live_observations(
        engine, tiny, start + timedelta(minutes=30), faces(1, "sad"), model_id=FER2013_V2_ID
    )

    at = open_page("pages/trends.py")
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # shares over time, faces per bucket, sessions compared
    trend = json.loads(charts[0].proto.spec)
    shown = {x for trace in trend["data"] for x in trace["x"]}
    assert {s[:16] for s in shown} == {"2025-05-03T10:00", "2025-05-03T11:00"}
    sessions = json.loads(charts[2].proto.spec)
    assert {y for trace in sessions["data"] for y in trace["y"]} == {"Talk"}
    caption = texts(at.caption)
    assert "fewer than 5 faces are hidden" in caption
    assert "1 hour bucket and 1 session" in caption
    csv = at.get("download_button")
    assert csv and csv[0].proto.label == "Download CSV"

    at.radio(key="trends_bucket").set_value("day").run()  # one day bucket with 17 faces: nothing hidden
    assert not at.exception
    assert "Hidden with these filters: 1 session." in texts(at.caption)


def test_trends_page_says_how_many_faces_were_too_small_to_read(db_url, engine):
    from fer_core.labels import READABLE_MIN_FACE_PX

    hall = queries.create_event_session(engine, "Lecture hall", actor=ADMIN)
    tiny = READABLE_MIN_FACE_PX - 2
    back_rows = [FaceResult((12 * i, 0, tiny, tiny), f.probabilities) for i, f in enumerate(faces(4, "sad"))]
    queries.save_live_observations(
        engine, hall, datetime(2025, 5, 3, 10, 5), faces(6) + back_rows, model_id=FER2013_V2_ID
    )
    at = open_page("pages/trends.py")
    assert f"4 of 10 faces were too small to read (under {READABLE_MIN_FACE_PX} px)" in texts(at.caption)
    table = at.dataframe[0].value.set_index("expression")
    assert table.loc["sad", "share"] == 0 and table.loc["happy", "share"] == 1  # tiny faces: in no share
    assert set(table["bucket_faces"]) == {6}


def test_trends_page_minute_buckets_over_weeks_are_refused_with_a_message(db_url, engine):
    session_id = queries.create_event_session(engine, "Term", actor=ADMIN)
    for day in (1, 30):
        queries.save_live_observations(
            engine, session_id, datetime(2025, 5, day, 10), faces(6), model_id=FER2013_V2_ID
        )
    at = open_page("pages/trends.py")
    at.radio(key="trends_bucket").set_value("minute").run()
    assert not at.exception
    assert "Minute buckets are for following one event" in texts(at.warning)
    at.radio(key="trends_bucket").set_value("week").run()
    assert len(at.get("plotly_chart")) == 3


def test_trends_page_all_buckets_too_small(db_url, engine):
    session_id = queries.create_event_session(engine, "Small", actor=ADMIN)
    queries.save_live_observations(
        engine, session_id, datetime(2025, 5, 3, 10), faces(3), model_id=FER2013_V2_ID
    )
    at = open_page("pages/trends.py")
    assert "fewer than 5 faces, so none can be shown" in texts(at.warning)
    assert not at.get("plotly_chart")


def test_trends_page_date_filter_without_matches(db_url, engine):
    session_id = queries.create_event_session(engine, "Old", actor=ADMIN)
    queries.save_live_observations(
        engine, session_id, datetime(2024, 1, 1, 9), faces(6), model_id=FER2013_V2_ID
    )
    at = open_page("pages/trends.py")
    at.date_input[0].set_value((datetime(2025, 1, 1).date(), datetime(2025, 1, 31).date())).run()
    assert not at.exception
    assert "No faces match these filters" in texts(at.info)


# -- Model metrics ------------------------------------------------------------------------------------


def _metrics() -> dict:
    return json.loads(config.METRICS_PATH.read_text())


def _plotly_array(value) -> np.ndarray:
    """A Plotly JSON array, plain or binary-encoded ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict):
        import base64

        shape = [int(n) for n in str(value["shape"]).split(",")]
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).reshape(shape)
    return np.asarray(value)


def test_metrics_page_shows_the_served_model_against_both_label_sets(db_url):
    metrics = _metrics()
    served = metrics["models"][config.DEFAULT_SERVED_MODEL]["splits"]["PrivateTest"]
    at = open_page("pages/metrics.py")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Agreement with the raters"] == f"{served['ferplus']['accuracy']:.1%}"
    assert values["Macro-F1 (raters)"] == f"{served['ferplus']['macro_f1']:.3f}"
    assert values["Accuracy (FER2013 labels)"] == f"{served['fer2013']['accuracy']:.1%}"
    assert values["Negative-share bias"] == f"{served['ferplus']['negative_share_bias'] * 100:+.1f} pts"
    assert "Why two label sets?" in texts(at.markdown)
    captions = texts(at.caption)
    assert "This app serves **consensus** (model ferplus-v3, `ferplus_cnn.int8.onnx`)" in captions
    assert "The other servable model: **fer2013** (model fer2013-v2, `fer_cnn.int8.onnx`)" in captions
    # Every model x label set, with the figures of metrics.json.
    table = next(df.value for df in at.dataframe if "negative_bias" in df.value.columns)
    assert len(table) == 2 * len(metrics["models"])
    row = table[(table["model"] == "fer2013 (fer2013-v2)") & table["labels"].str.startswith("FER+")].iloc[0]
    fer = metrics["models"]["fer2013"]["splits"]["PrivateTest"]["ferplus"]
    assert row["accuracy"] == pytest.approx(fer["accuracy"])
    assert row["negative_bias"] == pytest.approx(fer["negative_share_bias"] * 100)
    assert row["neutral_sad_angry"] == pytest.approx(fer["neutral_read_sad_or_angry"])


def test_metrics_page_confusion_matrix_per_model_and_label_set(db_url):
    metrics = _metrics()
    at = open_page("pages/metrics.py")

    def heatmap() -> dict:
        specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
        return next(spec for spec in specs if spec["data"] and spec["data"][0]["type"] == "heatmap")

    def per_class():
        return next(df.value for df in at.dataframe if "recall" in df.value.columns)

    spec = heatmap()
    assert spec["layout"]["title"]["text"] == "consensus vs FER+ majority (PrivateTest)"
    expected = metrics["models"]["consensus"]["splits"]["PrivateTest"]["ferplus"]
    np.testing.assert_array_equal(_plotly_array(spec["data"][0]["z"]), expected["confusion_normalised"])
    at.selectbox(key="confusion_model").set_value("fer2013").run()
    at.radio(key="confusion_labels").set_value("fer2013").run()
    at.toggle[0].set_value(False).run()  # counts instead of row shares
    assert not at.exception
    spec = heatmap()
    expected = metrics["models"]["fer2013"]["splits"]["PrivateTest"]["fer2013"]
    assert spec["layout"]["title"]["text"] == "fer2013 vs FER2013 label (PrivateTest)"
    np.testing.assert_array_equal(_plotly_array(spec["data"][0]["z"]), expected["confusion_counts"])
    recall = dict(zip(per_class()["expression"], per_class()["recall"]))
    assert recall == pytest.approx({e: expected["per_class"][e]["recall"] for e in EMOTIONS})


def test_metrics_page_shows_calibration_and_the_readability_floor(db_url):
    from fer_core.labels import READABLE_MIN_FACE_PX

    metrics = _metrics()
    served = metrics["models"][config.DEFAULT_SERVED_MODEL]
    at = open_page("pages/metrics.py")
    values = {m.label: m.value for m in at.metric}
    assert values["Calibration error (ECE)"] == f"{served['calibration_after']['ece']:.3f}"
    assert values["Readability floor"] == f"{served['readable_floor']['face_size']} px"
    assert values["Served model"] == served["id"]
    # One floor is applied to every model: no servable model reads faces below it under its own floor.
    assert all(m["readable_floor"]["face_size"] <= READABLE_MIN_FACE_PX for m in metrics["models"].values())
    assert f"faces under {READABLE_MIN_FACE_PX} px" in texts(at.caption)
    layouts = [json.loads(chart.proto.spec)["layout"] for chart in at.get("plotly_chart")]
    titles = [layout.get("title", {}).get("text") for layout in layouts]
    assert "Reliability diagram (PrivateTest)" in titles
    assert "Agreement as faces shrink (PrivateTest)" in titles


def test_metrics_page_other_served_model(db_url, monkeypatch):
    monkeypatch.setenv("CAMPUS_FER_MODEL", "accurate")  # the old name of the FER2013-label model
    metrics = _metrics()
    fer = metrics["models"]["fer2013"]
    at = open_page("pages/metrics.py")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Agreement with the raters"] == f"{fer['splits']['PrivateTest']['ferplus']['accuracy']:.1%}"
    assert values["Served model"] == fer["id"]
    assert "The other servable model: **consensus**" in texts(at.caption)


def test_metrics_page_empty_state(db_url, monkeypatch, tmp_path):
    monkeypatch.setattr(config, "METRICS_PATH", tmp_path / "missing.json")
    at = open_page("pages/metrics.py")
    assert "No model metrics found" in texts(at.info)
    assert not at.metric


def test_metrics_page_without_figures_for_the_served_model(db_url, monkeypatch, tmp_path):
    from campus_fer import model_report

    metrics = _metrics()
    del metrics["models"]["consensus"]
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    monkeypatch.setattr(config, "METRICS_PATH", tmp_path / "metrics.json")
    monkeypatch.setattr(config, "MODELS_DIR", tmp_path)  # no training history or curves either
    monkeypatch.setitem(model_report.HISTORIES, "consensus", ())
    at = open_page("pages/metrics.py")
    assert not at.exception
    assert "has no figures for it" in texts(at.warning)
    assert "No calibration or small-face figures for **consensus**" in texts(at.info)
    assert "No training history for **consensus**" in texts(at.info)
    # The other model's figures are still shown.
    table = next(df.value for df in at.dataframe if "negative_bias" in df.value.columns)
    assert set(table["model"]) == {"fer2013 (fer2013-v2)"}
