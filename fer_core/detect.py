"""Face detection behind a small interface; the default is libfacedetection's YuNet (yuface)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

# yuface's OpenMP pool spins both cores per call and is ~15x slower than one thread;
# the variable must be set before the library is first loaded.
os.environ.setdefault("OMP_NUM_THREADS", "1")

Box = tuple[int, int, int, int]  # x, y, width, height in the input image's pixels

#: Longest side photos are detected at: small faces in group photos stay findable.
PHOTO_MAX_SIDE: int = 960
#: Longest side webcam frames are detected at: people face a kiosk camera from close by, and
#: YuNet's cost grows steeply with size (640x480: ~4x the time of 480x360 here).
LIVE_MAX_SIDE: int = 480


@dataclass(frozen=True)
class Detection:
    box: Box
    score: float  # detector confidence in [0, 1]


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB uint8 image can serve the recognizer."""

    def detect(self, rgb: np.ndarray) -> list[Detection]: ...


class YuNetDetector:
    """libfacedetection's CNN detector (weights compiled into the yuface wheel).

    Images are downscaled so the longer side is at most `max_side` before detection
    (its accuracy and speed are best there); boxes are returned in input coordinates.
    """

    def __init__(self, min_score: float = 0.6, max_side: int = PHOTO_MAX_SIDE, min_face: int = 12) -> None:
        import yuface  # imported here so OMP_NUM_THREADS above is in place first

        self._detect = yuface.detect
        self.min_score, self.max_side, self.min_face = min_score, max_side, min_face

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        import cv2

        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        small = (
            rgb
            if scale == 1.0
            else cv2.resize(
                rgb,
                (max(1, round(width * scale)), max(1, round(height * scale))),
                interpolation=cv2.INTER_AREA,
            )
        )
        bgr = np.ascontiguousarray(small[:, :, ::-1])
        scores, boxes, _ = self._detect(bgr, conf=self.min_score)
        # Boxes come back as uint16; a face cut by the left/top edge wraps around.
        boxes = boxes.astype(np.int32)
        boxes[boxes > 32767] -= 65536
        found = []
        for score, (x, y, w, h) in zip(scores, boxes):
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(small.shape[1], x + w), min(small.shape[0], y + h)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            box = tuple(int(round(v / scale)) for v in (x0, y0, x1 - x0, y1 - y0))
            if min(box[2], box[3]) >= self.min_face:
                found.append(Detection(box=box, score=float(score) / 100.0))
        return found
