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
