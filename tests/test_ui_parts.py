"""The app's small parts: settings, annotation, the live analyzer's threading, the model report loaders."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from campus_fer.live_analysis import LiveAnalyzer, LiveUpdate, RateMeter
from campus_fer.model_report import card_section, load_history, load_report
from campus_fer.settings import DEFAULT_NOTICE, AppSettings, load_settings
from fer_core.annotate import annotate, caption, hex_to_rgb
from fer_core.labels import EMOTION_COLORS, EMOTIONS
from fer_core.recognizer import FaceResult


def face(label: str = "happy", confidence: float = 0.87, box=(20, 30, 60, 60)) -> FaceResult:
    p = np.full(len(EMOTIONS), (1.0 - confidence) / (len(EMOTIONS) - 1), dtype=np.float32)
    p[EMOTIONS.index(label)] = confidence
    return FaceResult(box, p)


# -- settings -----------------------------------------------------------------------------------------


def test_settings_defaults():
    settings = load_settings(environ={}, secrets={})
    assert settings == AppSettings()
    assert (settings.max_upload_mb, settings.min_faces_per_bucket) == (25.0, 5)
    assert settings.notice == DEFAULT_NOTICE
    assert settings.rtc_configuration == {"iceServers": []}  # host candidates only: localhost works
    assert settings.max_upload_bytes == 25 * 1024 * 1024
    assert settings.model == "consensus"


def test_settings_from_environment_win_over_secrets():
    ice = [{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "c"}]
    settings = load_settings(
        environ={
            "CAMPUS_FER_MAX_UPLOAD_MB": "10",
            "CAMPUS_FER_ICE_SERVERS": json.dumps(ice),
            "CAMPUS_FER_MODEL": " Accurate ",
            "CAMPUS_FER_TILING": "Always",
        },
        secrets={"max_upload_mb": 50, "min_faces_per_bucket": 3, "notice": "Custom notice."},
    )
    assert settings.model == "fer2013"  # "accurate" is the old name of the FER2013-label model
    assert settings.tiling == "always"
    assert settings.max_upload_mb == 10
    assert settings.min_faces_per_bucket == 3
    assert settings.notice == "Custom notice."
    assert settings.rtc_configuration == {"iceServers": ice}
    assert not settings.problems


def test_invalid_settings_fall_back_and_are_reported():
    settings = load_settings(
        environ={"CAMPUS_FER_MAX_UPLOAD_MB": "lots", "CAMPUS_FER_ICE_SERVERS": "[{]"},
        secrets={
            "live_record_interval_s": -1,
            "ice_servers": [{"username": "no urls"}],
            "model": "tiny",
            "tiling": "sometimes",
        },
    )
    assert settings.tiling == "auto"
    assert any("tiling is invalid (must be one of auto, never, always)" in p for p in settings.problems)
    assert settings.max_upload_mb == 25.0
    assert settings.ice_servers == ()
    assert settings.live_record_interval_s == 10.0
    assert settings.model == "consensus"
    assert len(settings.problems) == 5
    assert any("model is invalid (must be one of consensus, fer2013)" in p for p in settings.problems)
    assert any("CAMPUS_FER_MAX_UPLOAD_MB" in p for p in settings.problems)


# -- annotation ---------------------------------------------------------------------------------------


def test_annotate_draws_on_a_copy_in_the_expression_colour():
    image = np.full((200, 300, 3), 255, dtype=np.uint8)
    out = annotate(image, [face("sad", 0.5, (50, 60, 80, 80))])
    assert out.shape == image.shape and out.dtype == np.uint8
    assert (image == 255).all()  # the input is untouched
    assert tuple(out[100, 50]) == hex_to_rgb(EMOTION_COLORS["sad"])  # left edge of the box
    assert caption("happy", 0.873) == "happy 87%"


def test_too_small_and_uncertain_faces_are_drawn_grey_and_say_so():
    from fer_core.annotate import TOO_SMALL_TEXT
    from fer_core.labels import READABLE_MIN_FACE_PX, UNCERTAIN_BELOW

    image = np.full((200, 300, 3), 255, dtype=np.uint8)
    tiny = READABLE_MIN_FACE_PX - 1
    grey = (160, 160, 160)
    out = annotate(image, [face("sad", 0.9, (20, 100, tiny, tiny)), face("happy", 0.3, (150, 60, 80, 80))])
    assert tuple(out[100 + tiny // 2, 20]) == grey  # too small: grey, not the "sad" colour
    assert tuple(out[100, 150]) == grey  # uncertain: grey box
    assert caption("happy", UNCERTAIN_BELOW - 0.01).startswith("uncertain (happy")
    assert caption("happy", UNCERTAIN_BELOW) == f"happy {round(100 * UNCERTAIN_BELOW)}%"
    assert TOO_SMALL_TEXT == "too small"


def test_annotate_handles_faces_at_the_edges_and_no_faces():
    image = np.zeros((120, 160, 3), dtype=np.uint8)
    assert (annotate(image, []) == image).all()
    out = annotate(image, [face(box=(-10, -5, 50, 50)), face("angry", box=(140, 100, 40, 40))])
    assert out.any()


def test_annotate_rejects_non_rgb():
    with pytest.raises(ValueError, match="RGB uint8"):
        annotate(np.zeros((10, 10), dtype=np.uint8), [])


# -- live analyzer ------------------------------------------------------------------------------------


#: Only guards against a hang when the code under test is broken; no assertion depends on it.
HANG_GUARD_S = 60.0


def numbered(i: int) -> np.ndarray:
    """A frame that says which one it is (its first pixel), so a test can see which were analysed."""
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    frame[0, 0, 0] = i
    return frame


def update_after_analysis(analyzer: LiveAnalyzer, frames_analysed: int) -> LiveUpdate:
    """Wait for the worker's update once it has analysed that many frames (it publishes after
    recording, so everything the frame caused is done)."""
    while True:
        update = analyzer.updates.get(timeout=HANG_GUARD_S)
        if update.frames_analysed >= frames_analysed:
            return update


def test_frame_callback_never_waits_for_a_slow_model():
    """The model stays busy on frame 0 until the test releases it, after all 31 frames were handed
    over: a frame callback that waited for the model could not return while it is busy."""
    release, started = threading.Event(), threading.Event()
    busy, seen = threading.Event(), []

    def blocked_analyze(rgb: np.ndarray) -> list[FaceResult]:
        seen.append(int(rgb[0, 0, 0]))
        started.set()
        busy.set()
        released = release.wait(timeout=HANG_GUARD_S)
        busy.clear()
        assert released
        return [face()]

    analyzer = LiveAnalyzer(blocked_analyze)
    analyzer.process_frame(numbered(0))
    assert started.wait(timeout=HANG_GUARD_S)
    for i in range(1, 31):
        out = analyzer.process_frame(numbered(i))
        assert busy.is_set() and seen == [0], i  # returned while the model is still on frame 0
        assert out.shape == (120, 160, 3)
    assert analyzer.snapshot().frames_analysed == 0
    release.set()
    update = update_after_analysis(analyzer, 2)
    assert seen == [0, 30]  # the first frame, then only the newest: 29 were skipped
    assert (update.frames_shown, update.frames_analysed) == (31, 2)
    assert update.faces[0]["label"] == "happy"


def test_recording_is_rate_limited_and_errors_are_reported():
    """One sample per interval, not one per frame: 36 frames one second apart on a test clock with a
    10 s interval write at 0, 10, 20 and 30 s."""
    now = [1000.0]
    written: list[tuple[int, int, float]] = []

    def save(session_id, observed_at, faces):
        written.append((session_id, len(faces), now[0] - 1000.0))
        return len(faces)

    analyzer = LiveAnalyzer(
        lambda rgb: [face(), face("sad")], save=save, record_interval_s=10.0, clock=lambda: now[0]
    )
    analyzer.set_recording(7)
    for second in range(36):
        now[0] = 1000.0 + second
        analyzer.process_frame(numbered(second))
        update = update_after_analysis(analyzer, second + 1)
    assert written == [(7, 2, 0.0), (7, 2, 10.0), (7, 2, 20.0), (7, 2, 30.0)]
    assert update.recorded_faces == 8 and update.recording_session == 7 and update.error is None

    def broken_save(session_id, observed_at, faces):
        raise ValueError("Event session 8 does not exist (was it deleted?).")

    analyzer.configure(lambda rgb: [face()], broken_save, 10.0)
    analyzer.set_recording(8)  # a new session: its first frame is due at once
    analyzer.process_frame(numbered(36))
    update = update_after_analysis(analyzer, 37)
    assert update.error == "Recording failed (ValueError): Event session 8 does not exist (was it deleted?)."
    assert update.recorded_faces == 8


def test_analysis_failure_keeps_the_video_running():
    def broken(rgb):
        raise RuntimeError("onnx exploded")

    analyzer = LiveAnalyzer(broken)
    frame = np.zeros((120, 160, 3), dtype=np.uint8)
    for _ in range(5):
        assert analyzer.process_frame(frame).shape == frame.shape
        time.sleep(0.02)
    time.sleep(0.1)
    assert "Analysis failed" in analyzer.snapshot().error


def test_rate_meter():
    meter = RateMeter(window_s=3.0)
    for i in range(11):
        meter.tick(now=100.0 + i * 0.1)
    assert meter.rate(now=101.0) == pytest.approx(10.0)
    assert meter.rate(now=103.95) == pytest.approx(1 / 3.0)  # one event left: averaged over the window
    assert meter.rate(now=105.0) == 0.0


# -- model report -------------------------------------------------------------------------------------


def test_model_report_reads_the_committed_metrics():
    from fer_core.config import DEFAULT_SERVED_MODEL, METRICS_PATH, SERVED_MODELS, TRAINED_ON

    metrics = json.loads(METRICS_PATH.read_text())
    report = load_report()
    assert report is not None and report.default == DEFAULT_SERVED_MODEL
    assert set(report.models) == set(metrics["models"]) <= set(SERVED_MODELS)
    for name, model in report.models.items():
        assert model.trained_on == TRAINED_ON[name] and model.served is not None
        for label_set, scores in model.scores.items():
            figures = metrics["models"][name]["splits"]["PrivateTest"][label_set]
            assert (scores.accuracy, scores.n) == (figures["accuracy"], figures["n"])
            assert list(scores.per_class["expression"]) == list(EMOTIONS)
            assert np.asarray(scores.confusion_counts).sum() == scores.n
    table = report.scores_table()
    assert len(table) == 2 * len(report.models)
    assert report.label_agreement == metrics["label_agreement"]["fer2013_vs_ferplus_majority_privatetest"]


def test_model_report_missing_or_malformed(tmp_path: Path):
    assert load_report(tmp_path / "missing.json") is None
    (tmp_path / "bad.json").write_text('{"splits": {}}')  # the layout before two label sets
    assert load_report(tmp_path / "bad.json") is None
    (tmp_path / "empty.json").write_text('{"default": "consensus", "models": {}}')
    assert load_report(tmp_path / "empty.json") is None
    assert load_history(tmp_path / "missing.csv") is None
    (tmp_path / "history.csv").write_text("epoch,accuracy,val_accuracy,loss,val_loss\n0,0.3,0.35,1.8,1.7\n")
    assert len(load_history(tmp_path / "history.csv")) == 1
    # A model's runs in order (training, then fine-tuning), epochs numbered through.
    (tmp_path / "finetune.csv").write_text(
        "epoch,val_accuracy,loss,val_loss\n0,0.4,1.5,1.4\n1,0.42,1.4,1.3\n"
    )
    both = load_history((tmp_path / "history.csv", tmp_path / "missing.csv", tmp_path / "finetune.csv"))
    assert list(both["epoch"]) == [0, 1, 2] and list(both["val_accuracy"]) == [0.35, 0.4, 0.42]


def test_card_section():
    card = "# Card\n\n## Observations\n- one\n- two\n\n## Limits\nSome limits.\n"
    assert card_section(card, "Observations") == "- one\n- two"
    assert card_section(card, "Limits") == "Some limits."
    assert card_section(card, "Missing") is None
