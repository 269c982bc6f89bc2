"""Detected face -> 48x48 gray crop framed like FER2013's faces, eyes level: the one serving crop.

FER2013's faces are loose crops of a fixed geometry; the model only reads faces well when serving
frames them the same way. `benchmarks.framing` measured that geometry by running YuNet on FER2013
faces (upscaled into a larger canvas) and derived the constants in `fer_core.labels`; here they
become a crop: its side from the box width (the steadiest size measured), its centre from the eye
midpoint, the face rotated about it so the eyes are level, when the detector gives landmarks, and
from the box centre otherwise. `frame_face` does the rotation, scale and crop in one warp, so
serving has one path for photos, tiles, video and live frames. (Training reads FER2013's own
48x48 faces, already framed: `fer_core.preprocess.face_to_uint8`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from fer_core.detect import Box, Detection, Landmarks
from fer_core.labels import (
    BOX_CENTER_DX,
    BOX_CENTER_DY,
    CROP_SIDE_PER_BOX_WIDTH,
    EYES_CENTER_DX,
    EYES_CENTER_DY,
    INPUT_SIZE,
    MAX_LEVEL_ANGLE_DEG,
)
from fer_core.preprocess import crop_square, to_gray

#: Landmarks are trusted only when the eye midpoint lies inside the box and the eye distance is
#: within this range of the box width (FER2013: median 0.46, 10th-90th percentile 0.38-0.49);
#: otherwise a landmark is misplaced (a hand, a profile face) and the box alone frames the face.
EYE_DISTANCE_PER_WIDTH: tuple[float, float] = (0.2, 0.8)


@dataclass(frozen=True)
class CropGeometry:
    """Where the model's square crop lies in the image: centre (x, y) and side in the image's
    pixels (pixel edges at integers, as the detector's boxes), and the rotation (degrees,
    clockwise in the image) that levels the eyes; `from_landmarks` says which rule placed it."""

    center: tuple[float, float]
    side: float
    angle: float
    from_landmarks: bool


def eye_line(landmarks: Landmarks) -> tuple[tuple[float, float], float, float]:
    """Eye midpoint, eye distance and the eye line's angle in degrees (positive: the person's left
    eye, on the image's right, is lower), from YuNet's five landmarks."""
    (rx, ry), (lx, ly) = landmarks[0], landmarks[1]
    angle = math.degrees(math.atan2(ly - ry, lx - rx))
    return ((rx + lx) / 2.0, (ry + ly) / 2.0), math.hypot(lx - rx, ly - ry), angle


def plausible_landmarks(box: Box, landmarks: Landmarks | None) -> bool:
    """Whether the landmarks can place the crop: eye midpoint inside the box, eye distance in range."""
    if landmarks is None:
        return False
    x, y, w, h = box
    (mx, my), eyes, _ = eye_line(landmarks)
    low, high = EYE_DISTANCE_PER_WIDTH
    return x <= mx <= x + w and y <= my <= y + h and low * w <= eyes <= high * w


def crop_geometry(detection: Detection, level: bool = True) -> CropGeometry:
    """The crop for one detection. Its side is CROP_SIDE_PER_BOX_WIDTH box widths; its centre is
    placed from the eye midpoint when the landmarks are plausible (and the face rotated about it so
    the eyes are level, by at most MAX_LEVEL_ANGLE_DEG; `level=False` keeps the image's axes, for
    measurements), else from the box centre."""
    x, y, w, h = detection.box
    side = CROP_SIDE_PER_BOX_WIDTH * w
    if not plausible_landmarks(detection.box, detection.landmarks):
        center = (x + w / 2.0 + BOX_CENTER_DX * side, y + h / 2.0 + BOX_CENTER_DY * side)
        return CropGeometry(center, side, 0.0, False)
    (mx, my), _, angle = eye_line(detection.landmarks)
    angle = float(np.clip(angle, -MAX_LEVEL_ANGLE_DEG, MAX_LEVEL_ANGLE_DEG)) if level else 0.0
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    dx, dy = EYES_CENTER_DX * side, EYES_CENTER_DY * side  # offset in the levelled face's axes
    return CropGeometry((mx + cos * dx - sin * dy, my + sin * dx + cos * dy), side, angle, True)


def shift_landmarks(landmarks: Landmarks | None, dx: float, dy: float) -> Landmarks | None:
    """Landmarks moved with their box (the live tracker moves boxes by optical flow)."""
    if landmarks is None:
        return None
    return tuple((x + dx, y + dy) for x, y in landmarks)


def warp_crop(gray: np.ndarray, geometry: CropGeometry, size: int = INPUT_SIZE) -> np.ndarray:
    """The `size` x `size` crop described by `geometry`: rotation, scale and crop in one affine
    warp (bilinear, edges replicated). Crops over twice `size` are first area-averaged to twice
    `size` (a bilinear warp that shrinks more than 2x aliases); smaller crops are enlarged
    bilinearly, as `fer_core.preprocess.as_small_face` (what training's small faces match)."""
    (cx, cy), side, angle = geometry.center, geometry.side, geometry.angle
    scale = side / size  # source pixels per output pixel
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    source = gray
    origin_x = origin_y = 0.0
    factor_x = factor_y = 1.0
    if scale > 2.0:
        # Area-average the region the rotated crop covers (plus a margin) to twice the output size.
        half = side / 2.0 * (abs(cos) + abs(sin)) + 2.0 * scale
        x0, y0 = math.floor(cx - half), math.floor(cy - half)
        x1, y1 = math.ceil(cx + half), math.ceil(cy + half)
        region = crop_square(gray, (x0, y0, x1 - x0, y1 - y0))  # edges replicated outside the image
        width = max(1, round((x1 - x0) * 2.0 / scale))
        height = max(1, round((y1 - y0) * 2.0 / scale))
        source = cv2.resize(region, (width, height), interpolation=cv2.INTER_AREA)
        origin_x, origin_y = x0, y0
        factor_x, factor_y = width / (x1 - x0), height / (y1 - y0)
    # Inverse map, output pixel index (u, v) -> source pixel index, with pixel edges at integers:
    # source_edge = centre + R(angle) * (output_edge - size / 2) * scale.
    a, b = cos * scale, -sin * scale
    c, d = sin * scale, cos * scale
    offset_u = offset_v = 0.5 - size / 2.0
    tx = cx + a * offset_u + b * offset_v
    ty = cy + c * offset_u + d * offset_v
    matrix = np.array(
        [
            [a * factor_x, b * factor_x, (tx - origin_x) * factor_x - 0.5],
            [c * factor_y, d * factor_y, (ty - origin_y) * factor_y - 0.5],
        ],
        dtype=np.float64,
    )
    return cv2.warpAffine(
        source,
        matrix,
        (size, size),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_REPLICATE,
    )


def frame_face(image: np.ndarray, detection: Detection) -> np.ndarray:
    """48x48 uint8 gray face framed like FER2013's, eyes level: serving's one crop (photos, tiles,
    video, live). `image` is gray or RGB uint8; the detection is in its pixels."""
    return warp_crop(to_gray(image), crop_geometry(detection))
