"""Real-face test photos built at run time from scikit-image's bundled astronaut portrait."""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image

# The astronaut's head and shoulders in skimage.data.astronaut() (512x512 RGB).
_PORTRAIT_BOX = (120, 0, 300, 300)  # x, y, w, h


def portrait() -> np.ndarray:
    """RGB head-and-shoulders crop of a real face."""
    from skimage import data

    x, y, w, h = _PORTRAIT_BOX
    return np.ascontiguousarray(data.astronaut()[y : y + h, x : x + w])


def group_photo(n_faces: int, size: tuple[int, int] = (1280, 720), seed: int = 0) -> tuple[np.ndarray, list]:
    """RGB photo of `n_faces` people at different sizes on a plain background.

    Returns the image and each pasted portrait's (x, y, w, h), so tests know where faces are.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    canvas = np.full((height, width, 3), rng.integers(90, 200, size=3), dtype=np.uint8)
    source = portrait()
    columns = max(1, int(np.ceil(np.sqrt(n_faces * width / height))))
    rows = max(1, int(np.ceil(n_faces / columns)))
    cell_w, cell_h = width // columns, height // rows
    placed = []
    for i in range(n_faces):
        r, c = divmod(i, columns)
        side = int(min(cell_w, cell_h) * rng.uniform(0.55, 0.95))
        person = cv2.resize(source, (side, side), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            person = person[:, ::-1]
        person = np.clip(person.astype(np.int16) + rng.integers(-30, 30), 0, 255).astype(np.uint8)
        x = c * cell_w + int(rng.integers(0, cell_w - side + 1))
        y = r * cell_h + int(rng.integers(0, cell_h - side + 1))
        canvas[y : y + side, x : x + side] = person
        placed.append((x, y, side, side))
    return canvas, placed


def encode(rgb: np.ndarray, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format=fmt, **params)
    return buffer.getvalue()


# The astronaut's head in portrait() and her face box inside that head crop (YuNet's box on the portrait).
_HEAD_BOX = (40, 40, 125, 150)  # x, y, w, h in portrait()
_FACE_IN_HEAD = (18, 25, 89, 110)  # x, y, w, h in the head crop


def crowd_photo(
    n_faces: int, size: tuple[int, int] = (1920, 1080), face_px: tuple[int, int] = (12, 40), seed: int = 0
) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """A lecture hall seen from the stage: `n_faces` heads in jittered rows, faces `face_px` wide
    (short side of the face box), smallest at the back (top), on a textured background.

    Returns the image and every face's expected box (x, y, w, h), for recall measurements.
    """
    rng = np.random.default_rng(seed)
    width, height = size
    canvas = rng.normal(128, 18, (height, width, 3)).clip(0, 255).astype(np.uint8)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 3)
    hx, hy, hw, hh = _HEAD_BOX
    head = portrait()[hy : hy + hh, hx : hx + hw]
    fx, fy, fw, fh = _FACE_IN_HEAD
    columns = max(1, int(np.ceil(np.sqrt(n_faces * width / height))))
    rows = max(1, int(np.ceil(n_faces / columns)))
    cell_w, cell_h = width / columns, height / rows
    low, high = face_px
    faces = []
    for i in range(n_faces):
        r, c = divmod(i, columns)
        depth = r / max(1, rows - 1)  # 0 at the back, 1 at the front
        face_side = int(round(rng.uniform(low, high) * 0.5 + (low + depth * (high - low)) * 0.5))
        face_side = min(face_side, int(min(cell_w, cell_h) * fw / hh))  # the head fits its seat
        scale = face_side / fw
        head_w, head_h = max(2, round(hw * scale)), max(2, round(hh * scale))
        person = cv2.resize(head, (head_w, head_h), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.5:
            person = person[:, ::-1]
        person = np.clip(person.astype(np.int16) + rng.integers(-35, 35), 0, 255).astype(np.uint8)
        x = int(c * cell_w + rng.uniform(0, max(0.0, cell_w - head_w)))
        y = int(r * cell_h + rng.uniform(0, max(0.0, cell_h - head_h)))
        canvas[y : y + head_h, x : x + head_w] = person
        faces.append((x + round(fx * scale), y + round(fy * scale), round(fw * scale), round(fh * scale)))
    return canvas, faces


def match_faces(found: list, expected: list, min_iou: float = 0.3) -> int:
    """How many expected face boxes a detection covers (greedy one-to-one matching by IoU)."""
    unused = list(found)
    matched = 0
    for ex, ey, ew, eh in expected:
        best, best_iou = None, min_iou
        for box in unused:
            x, y, w, h = box
            iw = max(0, min(x + w, ex + ew) - max(x, ex))
            ih = max(0, min(y + h, ey + eh) - max(y, ey))
            iou = iw * ih / (w * h + ew * eh - iw * ih)
            if iou >= best_iou:
                best, best_iou = box, iou
        if best is not None:
            unused.remove(best)
            matched += 1
    return matched
