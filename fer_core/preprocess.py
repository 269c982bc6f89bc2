"""48x48 grayscale faces -> [0, 1] model input: shared by training and serving.

Serving crops detected faces with `fer_core.framing.frame_face` (framed like FER2013, eyes level);
the plain square crop here (`face_to_uint8` with a box) is kept for already-framed images and tests.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_core.labels import FACE_MARGIN, INPUT_SIZE, PIXEL_SCALE

Box = tuple[int, int, int, int]  # x, y, width, height in pixels


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 grayscale from a uint8 gray (H,W), (H,W,1) or RGB (H,W,3) array."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise ValueError(f"expected a gray or RGB image, got shape {image.shape}")


def square_crop_box(box: Box, margin: float = FACE_MARGIN) -> Box:
    """A square around the box's centre, each side grown by `margin` of the longer side."""
    x, y, w, h = box
    side = max(w, h) * (1.0 + 2.0 * margin)
    cx, cy = x + w / 2.0, y + h / 2.0
    half = side / 2.0
    return int(round(cx - half)), int(round(cy - half)), int(round(side)), int(round(side))


def crop_square(gray: np.ndarray, box: Box) -> np.ndarray:
    """Crop `box` from `gray`, replicating edge pixels where the box leaves the image."""
    x, y, w, h = box
    height, width = gray.shape[:2]
    if x >= 0 and y >= 0 and x + w <= width and y + h <= height:
        return gray[y : y + h, x : x + w]
    # Clamped indices replicate the edge, touching only the crop's pixels (not a padded copy of the photo).
    rows = np.clip(np.arange(y, y + h), 0, height - 1)
    cols = np.clip(np.arange(x, x + w), 0, width - 1)
    return gray[np.ix_(rows, cols)]


def face_to_uint8(image: np.ndarray, box: Box | None = None, margin: float = FACE_MARGIN) -> np.ndarray:
    """48x48 uint8 face: from a detected `box` in a photo, or the whole image when box is None
    (FER2013 training faces are already 48x48 crops and pass through unchanged)."""
    gray = to_gray(image)
    if box is not None:
        gray = crop_square(gray, square_crop_box(box, margin))
    if gray.shape == (INPUT_SIZE, INPUT_SIZE):
        return np.ascontiguousarray(gray)
    shrinking = gray.shape[0] > INPUT_SIZE or gray.shape[1] > INPUT_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)


def as_small_face(face: np.ndarray, side: int) -> np.ndarray:
    """What a 48x48 face becomes when it was only `side` px in the photo: the camera's and the
    detector's downscale (area average), then serving's upscale back to 48 (bilinear, as framing.warp_crop).
    Training augments with it and benchmarks.resolution measures with it, so both match serving."""
    if side >= INPUT_SIZE:
        return face
    small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)


def to_model_input(faces: np.ndarray) -> np.ndarray:
    """uint8 faces (N,48,48) -> float32 (N,48,48,1) in [0, 1], the CNN's input."""
    faces = np.asarray(faces)
    if faces.dtype != np.uint8:
        raise ValueError(f"faces must be uint8, got {faces.dtype}")
    if faces.ndim != 3 or faces.shape[1:] != (INPUT_SIZE, INPUT_SIZE):
        raise ValueError(f"faces must have shape (N, {INPUT_SIZE}, {INPUT_SIZE}), got {faces.shape}")
    return (faces.astype(np.float32) / PIXEL_SCALE)[..., None]
