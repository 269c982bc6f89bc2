"""Draw face boxes and "label 87%" captions on a copy of an RGB image (pure OpenCV, for display only).

The annotated image is never stored: it exists so a person can check what the model saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np

from fer_core.labels import EMOTION_COLORS, is_readable, is_uncertain

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FALLBACK_COLOR = (255, 255, 255)
#: Faces that are not read: too small (dashed-looking thin grey box) or uncertain (grey caption).
_NOT_READ_COLOR = (160, 160, 160)
TOO_SMALL_TEXT = "too small"


class AnnotatedFace(Protocol):
    """Anything with a box and a top expression (fer_core.recognizer.FaceResult fits)."""

    @property
    def box(self) -> tuple[int, int, int, int]: ...

    @property
    def label(self) -> str: ...

    @property
    def confidence(self) -> float: ...


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#2ca02c' -> (44, 160, 44)."""
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"expected a #rrggbb colour, got {color!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def caption(label: str, confidence: float) -> str:
    """'happy 87%' above a face, or 'uncertain (happy 31%)' under the confidence floor."""
    text = f"{label} {round(100 * confidence):d}%"
    return f"uncertain ({text})" if is_uncertain(confidence) else text


def _text_color(background: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black on light colours, white on dark ones, so captions stay readable."""
    r, g, b = background
    return (0, 0, 0) if 0.299 * r + 0.587 * g + 0.114 * b > 150 else (255, 255, 255)


def _scale(image: np.ndarray) -> tuple[float, int]:
    """Font scale and line thickness that look the same on a 320px frame and a 1920px photo."""
    side = max(image.shape[:2])
    font_scale = max(0.45, side / 1000)
    return font_scale, max(1, round(side / 450))


def draw_label(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    color: tuple[int, int, int],
    font_scale: float,
    thickness: int,
) -> None:
    """Draw `text` on a filled box whose bottom-left corner is `origin` (in place), kept inside the image."""
    height, width = image.shape[:2]
    text_thickness = max(1, thickness - 1)
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, font_scale, text_thickness)
    pad = max(2, thickness)
    box_w, box_h = text_w + 2 * pad, text_h + baseline + 2 * pad
    x = int(min(max(0, origin[0]), max(0, width - box_w)))
    y = int(min(max(box_h, origin[1]), height))
    cv2.rectangle(image, (x, y - box_h), (x + box_w, y), color, thickness=-1)
    cv2.putText(
        image,
        text,
        (x + pad, y - pad - baseline),
        _FONT,
        font_scale,
        _text_color(color),
        text_thickness,
        cv2.LINE_AA,
    )


def annotate(image: np.ndarray, faces: Sequence[AnnotatedFace]) -> np.ndarray:
    """A copy of the RGB uint8 `image` with each face's box and caption in its expression's colour."""
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    out = np.ascontiguousarray(image).copy()
    font_scale, thickness = _scale(out)
    for face in faces:
        x, y, w, h = (int(v) for v in face.box)
        if not is_readable(min(w, h)):  # counted, not read: a thin grey box with a short note
            cv2.rectangle(out, (x, y), (x + w, y + h), _NOT_READ_COLOR, max(1, thickness // 2))
            draw_label(out, TOO_SMALL_TEXT, (x, y), _NOT_READ_COLOR, font_scale * 0.7, max(1, thickness - 1))
            continue
        if is_uncertain(face.confidence):
            color = _NOT_READ_COLOR
        elif face.label in EMOTION_COLORS:
            color = hex_to_rgb(EMOTION_COLORS[face.label])
        else:
            color = _FALLBACK_COLOR
        cv2.rectangle(out, (x, y), (x + w, y + h), color, thickness)
        draw_label(out, caption(face.label, face.confidence), (x, y), color, font_scale, thickness)
    return out


def draw_status(image: np.ndarray, text: str) -> np.ndarray:
    """Write a status line (e.g. frames per second) in the bottom-left corner of `image`, in place."""
    font_scale, thickness = _scale(image)
    draw_label(image, text, (0, image.shape[0]), (0, 0, 0), font_scale, thickness)
    return image
