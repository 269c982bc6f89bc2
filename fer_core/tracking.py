"""Live video: detect faces every few frames and follow them with optical flow in between.

Detection is most of a frame's cost (YuNet, ~25-30 ms at 480 px); classifying a face takes under a
millisecond. So a full detection runs every `detect_every` frames, and between detections each
box is moved by the median Lucas-Kanade flow of a grid of points inside it and its crop is
classified again: the boxes keep following faces and the expressions stay current, at a few
milliseconds per frame. A followed face's five landmarks move with its box (the same shift), so its
crop is framed and levelled as at the detection (fer_core.framing); a tilt that changes between
detections is caught up at the next one.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from fer_core.detect import Box, Detection
from fer_core.framing import shift_landmarks
from fer_core.preprocess import to_gray
from fer_core.recognizer import FaceResult, Recognizer, frame_detections

#: Full detection once every this many frames: at 30 fps a new face is boxed within 0.8 s, and
#: detection frames (~35-40 ms at 480 px on 2 cores) stay under 5% of frames, so the p95 frame
#: time is a followed frame's (benchmarks/results/live_latency.txt).
DETECT_EVERY: int = 24
#: Points per box side followed by optical flow.
_GRID = 5
#: A box is dropped when fewer than this share of its points were followed (face left or hidden).
_MIN_TRACKED_SHARE = 0.5
#: A point counts as followed when its window changed by less than this mean grey level
#: (a followed face: ~0.05; the face gone and background in its place: ~25).
_MAX_PATCH_ERROR = 12.0
#: 21 px windows over 4 pyramid levels follow a jump of ~30 px between analysed frames (frames the
#: live view skips while the model is busy, a looping test video), not only smooth motion.
_LK_PARAMS = {
    "winSize": (21, 21),
    "maxLevel": 3,
    "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 10, 0.03),
}


def _grid_points(box: Box) -> np.ndarray:
    """A _GRID x _GRID grid over the central part of the box (float32 (n, 1, 2) for OpenCV)."""
    x, y, w, h = box
    xs = np.linspace(x + 0.2 * w, x + 0.8 * w, _GRID)
    ys = np.linspace(y + 0.2 * h, y + 0.8 * h, _GRID)
    return np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 1, 2).astype(np.float32)


def follow_boxes(previous: np.ndarray, current: np.ndarray, boxes: Sequence[Box]) -> list[Box | None]:
    """Each box moved by the median optical flow of its points from the previous to the current
    gray frame (None where the face could not be followed). One Lucas-Kanade call for all boxes:
    the image pyramids are built once per frame, not once per face."""
    if not boxes:
        return []
    points = np.concatenate([_grid_points(box) for box in boxes])
    moved, status, error = cv2.calcOpticalFlowPyrLK(previous, current, points, None, **_LK_PARAMS)
    ok = (status.ravel() == 1) & (error.ravel() < _MAX_PATCH_ERROR)
    per_box = _GRID * _GRID
    height, width = current.shape[:2]
    followed: list[Box | None] = []
    for i, (x, y, w, h) in enumerate(boxes):
        mine = slice(i * per_box, (i + 1) * per_box)
        if ok[mine].sum() < _MIN_TRACKED_SHARE * per_box:
            followed.append(None)
            continue
        dx, dy = np.median((moved[mine] - points[mine])[ok[mine]].reshape(-1, 2), axis=0)
        new_x, new_y = int(round(x + dx)), int(round(y + dy))
        outside = new_x + w <= 0 or new_y + h <= 0 or new_x >= width or new_y >= height
        followed.append(None if outside else (new_x, new_y, w, h))  # None: followed out of the frame
    return followed


class FaceTracker:
    """Per video stream: `analyze(frame)` gives the faces of every frame, detecting only every
    `detect_every` frames. Not thread-safe: one tracker per stream, fed frames in order."""

    def __init__(self, recognizer: Recognizer, detect_every: int = DETECT_EVERY) -> None:
        if detect_every < 1:
            raise ValueError("detect_every must be at least 1")
        self.recognizer, self.detect_every = recognizer, detect_every
        self._previous: np.ndarray | None = None
        self._faces: list[FaceResult] = []
        self._detections: list[Detection] = []  # what framed each face in _faces (landmarks followed)
        self._since_detection = 0

    def analyze(self, rgb: np.ndarray) -> list[FaceResult]:
        gray = to_gray(rgb)
        previous = self._previous
        if previous is None or previous.shape != gray.shape or self._since_detection >= self.detect_every - 1:
            detections, crops = self.recognizer.detect_framed(rgb)
            self._since_detection = 0
        else:
            moved = follow_boxes(previous, gray, [d.box for d in self._detections])
            detections = [
                Detection(box, d.score, shift_landmarks(d.landmarks, box[0] - d.box[0], box[1] - d.box[1]))
                for d, box in zip(self._detections, moved, strict=True)
                if box is not None
            ]
            crops = frame_detections(gray, detections)
            self._since_detection += 1
        probabilities = self.recognizer.predict_faces(crops)
        self._detections = detections
        self._faces = [FaceResult(d.box, p, d.score) for d, p in zip(detections, probabilities, strict=True)]
        self._previous = gray
        return self._faces
