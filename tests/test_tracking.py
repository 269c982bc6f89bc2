"""Live tracking: detection every few frames, optical flow in between, boxes that follow faces."""

from __future__ import annotations

import numpy as np

from fer_core.config import served_model_path
from fer_core.detect import YuNetDetector
from fer_core.recognizer import Recognizer
from fer_core.tracking import FaceTracker
from tests.photos import group_photo


class CountingDetector:
    def __init__(self) -> None:
        self.inner, self.calls = YuNetDetector(max_side=480), 0

    def detect(self, rgb):
        self.calls += 1
        return self.inner.detect(rgb)


def iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The scene moved right by dx and down by dy (edges filled with the background colour)."""
    out = np.empty_like(image)
    out[:] = image[0, 0]
    h, w = image.shape[:2]
    out[max(0, dy) : h + min(0, dy), max(0, dx) : w + min(0, dx)] = image[
        max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)
    ]
    return out


def test_boxes_follow_moving_faces_between_detections() -> None:
    scene, _ = group_photo(3, size=(640, 480), seed=2)
    detector = CountingDetector()
    recognizer = Recognizer(served_model_path(), detector=detector)
    tracker = FaceTracker(recognizer, detect_every=8)
    reference = Recognizer(served_model_path(), detector=YuNetDetector(max_side=480))
    for frame_index in range(8):
        frame = shifted(scene, 5 * frame_index, 3 * frame_index)  # 5 px right, 3 px down per frame
        faces = tracker.analyze(frame)
        truth = [f.box for f in reference.analyze(frame)]
        assert len(faces) == len(truth) == 3
        for face in faces:  # every followed box still sits on a face found from scratch
            assert max(iou(face.box, box) for box in truth) > 0.7, (frame_index, face.box, truth)
            np.testing.assert_allclose(face.probabilities.sum(), 1.0, atol=1e-5)
    assert detector.calls == 1  # frames 1-7 were followed, not detected
    tracker.analyze(shifted(scene, 40, 24))
    assert detector.calls == 2  # the 9th frame detects again


def test_a_face_that_leaves_is_dropped_and_an_empty_scene_is_cheap() -> None:
    scene, _ = group_photo(1, size=(640, 480), seed=4)
    detector = CountingDetector()
    tracker = FaceTracker(Recognizer(served_model_path(), detector=detector), detect_every=5)
    assert len(tracker.analyze(scene)) == 1
    empty = np.full_like(scene, scene[0, 0])
    assert tracker.analyze(empty) == []  # the face vanished: not followed onto the background
    for _ in range(3):
        assert tracker.analyze(empty) == []
    assert detector.calls == 1


def test_a_jump_of_thirty_pixels_keeps_every_face() -> None:
    """A looping webcam clip jumps back 28 px at each loop; no face may drop out until the next detection."""
    scene, _ = group_photo(3, size=(640, 480), seed=3)
    frames = [np.roll(scene, shift, axis=1) for shift in range(0, 30, 2)]
    tracker = FaceTracker(Recognizer(served_model_path(), detector=YuNetDetector(max_side=480)))
    counts = [len(tracker.analyze(frames[i % len(frames)])) for i in range(60)]
    assert counts == [3] * 60, counts
