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
#: Five facial landmarks (x, y) in the input image's pixels, in YuNet's order: the person's right eye
#: (left in the image), left eye, nose tip, right and left mouth corners.
Landmarks = tuple[tuple[float, float], ...]

#: Longest side photos are detected at: small faces in group photos stay findable.
PHOTO_MAX_SIDE: int = 960
#: Longest side webcam frames are detected at: people face a kiosk camera from close by, and
#: YuNet's cost grows steeply with size (640x480: ~4x the time of 480x360 here).
LIVE_MAX_SIDE: int = 480


@dataclass(frozen=True)
class Detection:
    box: Box
    score: float  # detector confidence in [0, 1]
    #: The five landmarks when the detector gives them (YuNet does): the crop is framed and
    #: levelled from the eyes (fer_core.framing); None falls back to framing from the box.
    landmarks: Landmarks | None = None


class FaceDetector(Protocol):
    """Anything that finds faces in an RGB uint8 image can serve the recognizer."""

    def detect(self, rgb: np.ndarray) -> list[Detection]: ...


#: Tiled detection (crowds): "auto" tiles a photo when the first pass finds a crowd of small faces,
#: "always" tiles every photo larger than `max_side`, "never" keeps the single downscaled pass.
TILING_MODES: tuple[str, ...] = ("auto", "never", "always")
#: "auto" tiles when the first pass finds at least this many faces ...
CROWD_MIN_FACES: int = 12
#: ... of which at least half are this small (short side, in pixels of the downscaled pass):
#: faces that small lose most of their detail at `max_side`, and their neighbours are often missed.
CROWD_SMALL_FACE_PX: int = 24
#: Tiles overlap by this share of their side, so a face on a seam is whole in one of them.
TILE_OVERLAP: float = 0.2
#: Boxes of the same face found by several passes are merged above this intersection-over-union.
MERGE_IOU: float = 0.3


class YuNetDetector:
    """libfacedetection's CNN detector (weights compiled into the yuface wheel).

    Images are downscaled so the longer side is at most `max_side` before detection
    (its accuracy and speed are best there); boxes are returned in input coordinates.
    For crowds (see TILING_MODES) the image is also cut into overlapping tiles of at most
    `max_side`, each detected at full resolution, and all boxes are merged with NMS: small
    faces that the downscaled pass loses are found again, at the cost of one pass per tile.
    """

    def __init__(
        self,
        min_score: float = 0.6,
        max_side: int = PHOTO_MAX_SIDE,
        min_face: int = 12,
        tiling: str = "auto",
    ) -> None:
        import yuface  # imported here so OMP_NUM_THREADS above is in place first

        if tiling not in TILING_MODES:
            raise ValueError(f"tiling must be one of {TILING_MODES}, not {tiling!r}")
        self._detect = yuface.detect
        self.min_score, self.max_side, self.min_face, self.tiling = min_score, max_side, min_face, tiling

    def detect(self, rgb: np.ndarray) -> list[Detection]:
        first = self._detect_scaled(rgb, 0, 0)
        if not self._should_tile(rgb, first):
            return [d for d in first if min(d.box[2], d.box[3]) >= self.min_face]
        found = list(first)
        for x0, y0, x1, y1 in tile_grid(rgb.shape[1], rgb.shape[0], self.max_side):
            found += self._detect_scaled(rgb[y0:y1, x0:x1], x0, y0)
        return [d for d in merge_detections(found) if min(d.box[2], d.box[3]) >= self.min_face]

    def would_tile(self, rgb: np.ndarray) -> bool:
        """Whether `detect` tiles this image (runs the first pass to decide)."""
        return self._should_tile(rgb, self._detect_scaled(rgb, 0, 0))

    def _should_tile(self, rgb: np.ndarray, first: list[Detection]) -> bool:
        if self.tiling == "never" or max(rgb.shape[:2]) <= self.max_side:
            return False  # already detected at full resolution: tiles would find nothing new
        if self.tiling == "always":
            return True
        scale = min(1.0, self.max_side / max(rgb.shape[:2]))
        small = sum(1 for d in first if min(d.box[2], d.box[3]) * scale < CROWD_SMALL_FACE_PX)
        return len(first) >= CROWD_MIN_FACES and small * 2 >= len(first)

    def _detect_scaled(self, rgb: np.ndarray, offset_x: int, offset_y: int) -> list[Detection]:
        """Detect in `rgb` downscaled to at most max_side; boxes shifted by the offset (a tile's corner)."""
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
        scores, boxes, points = self._detect(bgr, conf=self.min_score)
        # Boxes come back as uint16; a face cut by the left/top edge wraps around.
        boxes = boxes.astype(np.int32)
        boxes[boxes > 32767] -= 65536
        found = []
        points = points.astype(np.int32)
        points[points > 32767] -= 65536
        for score, (x, y, w, h), marks in zip(scores, boxes, points):
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(small.shape[1], x + w), min(small.shape[0], y + h)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            bx, by, bw, bh = (int(round(v / scale)) for v in (x0, y0, x1 - x0, y1 - y0))
            landmarks = tuple(
                (float(px) / scale + offset_x, float(py) / scale + offset_y) for px, py in marks.reshape(5, 2)
            )
            found.append(
                Detection(
                    box=(bx + offset_x, by + offset_y, bw, bh),
                    score=float(score) / 100.0,
                    landmarks=landmarks,
                )
            )
        return found


def tile_grid(width: int, height: int, tile: int, overlap: float = TILE_OVERLAP) -> list[Box]:
    """Corners (x0, y0, x1, y1) of overlapping tiles of at most `tile` px covering a width x height image."""

    def starts(length: int) -> list[int]:
        if length <= tile:
            return [0]
        n = int(np.ceil((length - tile * overlap) / (tile * (1 - overlap))))
        return [round(i * (length - tile) / (n - 1)) for i in range(n)] if n > 1 else [0]

    return [
        (x, y, min(width, x + tile), min(height, y + tile)) for y in starts(height) for x in starts(width)
    ]


def merge_detections(detections: list[Detection], iou: float = MERGE_IOU) -> list[Detection]:
    """One detection per face: non-maximum suppression over boxes found by overlapping passes.

    Intersection over the smaller box also merges a face cut by a tile edge with its whole box.
    """
    if not detections:
        return []
    boxes = np.array([d.box for d in detections], dtype=np.float64)
    scores = np.array([d.score for d in detections])
    x0, y0 = boxes[:, 0], boxes[:, 1]
    x1, y1 = x0 + boxes[:, 2], y0 + boxes[:, 3]
    areas = boxes[:, 2] * boxes[:, 3]
    # Prefer confident and large boxes: a face cut by a tile edge scores lower and is smaller.
    order = list(np.lexsort((-areas, -np.round(scores, 2))))
    kept: list[int] = []
    while order:
        best, order = order[0], order[1:]
        kept.append(best)
        if not order:
            break
        rest = np.array(order)
        w = np.clip(np.minimum(x1[best], x1[rest]) - np.maximum(x0[best], x0[rest]), 0, None)
        h = np.clip(np.minimum(y1[best], y1[rest]) - np.maximum(y0[best], y0[rest]), 0, None)
        inter = w * h
        union = areas[best] + areas[rest] - inter
        overlap = np.maximum(
            inter / np.maximum(union, 1e-9),
            inter / np.maximum(np.minimum(areas[best], areas[rest]), 1e-9) * 0.5,
        )
        order = [i for i, o in zip(order, overlap) if o <= iou]
    return [detections[i] for i in sorted(kept)]
