"""Draw face boxes and "label 87%" captions on a copy of an RGB image (pure OpenCV, for display only).

The annotated image is never stored: it exists so a person can check what the model saw. A caption
is drawn only where it fits: in a crowd (hundreds of faces under 25 px) a caption is taller than the
face and covers its neighbours, so those faces get a box in their expression's colour (grey: too
small to read, or uncertain) and the counts go in a legend beside the image (`face_counts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from fer_core.labels import EMOTION_COLORS, is_readable, is_uncertain

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FALLBACK_COLOR = (255, 255, 255)
#: Faces that are not read: too small (dashed-looking thin grey box) or uncertain (grey caption).
_NOT_READ_COLOR = (160, 160, 160)
NOT_READ_HEX = "#a0a0a0"  # the same grey, for legends
TOO_SMALL_TEXT = "too small"
#: A box's line is at most this fraction of the face's short side: a 4 px line (a 1920 px photo's
#: width) would fill a 16 px face; 1/10 keeps faces under 20 px at 1 px and large faces unchanged.
MAX_LINE_PER_FACE: float = 0.1

#: A caption may cover this share of another face's box (an edge, not the face); none of a caption.
MAX_COVERED_SHARE: float = 0.2

#: A caption is drawn only for a face at least 1/2 as tall as the caption (on the drawn image): a
#: preview 960 px wide has captions ~30 px tall, and a crowd's faces there are 6-20 px.
MAX_CAPTION_PER_FACE: float = 2.0

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


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


def label_rect(
    shape: tuple[int, int], text: str, origin: tuple[int, int], font_scale: float, thickness: int
) -> Rect:
    """Where `draw_label` puts `text` (x0, y0, x1, y1) in an image of `shape` (height, width)."""
    height, width = shape
    text_thickness = max(1, thickness - 1)
    (text_w, text_h), baseline = cv2.getTextSize(text, _FONT, font_scale, text_thickness)
    pad = max(2, thickness)
    box_w, box_h = text_w + 2 * pad, text_h + baseline + 2 * pad
    x = int(min(max(0, origin[0]), max(0, width - box_w)))
    y = int(min(max(box_h, origin[1]), height))
    return x, y - box_h, x + box_w, y


def draw_label(
    image: np.ndarray,
    text: str,
    origin: tuple[int, int],
    color: tuple[int, int, int],
    font_scale: float,
    thickness: int,
) -> None:
    """Draw `text` on a filled box whose bottom-left corner is `origin` (in place), kept inside the image."""
    x0, y0, x1, y = label_rect(image.shape[:2], text, origin, font_scale, thickness)
    text_thickness = max(1, thickness - 1)
    _, baseline = cv2.getTextSize(text, _FONT, font_scale, text_thickness)
    pad = max(2, thickness)
    x = x0
    cv2.rectangle(image, (x0, y0), (x1, y), color, thickness=-1)
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


@dataclass(frozen=True)
class FaceCounts:
    """What the boxes of one image say, for the legend beside it: faces drawn in each expression's
    colour (readable and certain), faces drawn grey as uncertain, and faces too small to read."""

    by_expression: dict[str, int] = field(default_factory=dict)
    uncertain: int = 0
    too_small: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_expression.values()) + self.uncertain + self.too_small


@dataclass(frozen=True)
class Annotation:
    """An annotated copy of an image and, per face (input order), whether its caption was drawn."""

    image: np.ndarray
    captioned: tuple[bool, ...]

    @property
    def crowded(self) -> bool:
        """Some captions did not fit: the boxes alone cannot be read without a legend and a zoom."""
        return not all(self.captioned)


def _face_color(face: AnnotatedFace, readable: bool) -> tuple[int, int, int]:
    if not readable or is_uncertain(face.confidence):
        return _NOT_READ_COLOR
    return hex_to_rgb(EMOTION_COLORS[face.label]) if face.label in EMOTION_COLORS else _FALLBACK_COLOR


def face_counts(faces: Sequence[AnnotatedFace]) -> FaceCounts:
    """Counts that match the box colours `annotate` draws (readability from each box's short side)."""
    by_expression: dict[str, int] = {}
    uncertain = too_small = 0
    for face in faces:
        if not is_readable(min(int(face.box[2]), int(face.box[3]))):
            too_small += 1
        elif is_uncertain(face.confidence):
            uncertain += 1
        else:
            by_expression[face.label] = by_expression.get(face.label, 0) + 1
    return FaceCounts(by_expression, uncertain, too_small)


def _overlap(a: Rect, b: Rect) -> int:
    """Area (px) that rectangles a and b share."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def _area(r: Rect) -> int:
    return max(0, r[2] - r[0]) * max(0, r[3] - r[1])


def annotate_faces(image: np.ndarray, faces: Sequence[AnnotatedFace], *, scale: float = 1.0) -> Annotation:
    """A copy of the RGB uint8 `image` with each face's box in its expression's colour, and its caption
    where it fits. `image` may be the photo resized by `scale` (boxes are in the photo's pixels, so
    readability is judged on the photo, drawing on the smaller copy keeps lines sharp).

    The rule, measured on crowds (tests.photos.crowd_photo: 300 faces of 12-40 px in 1920x1080, a
    960 px preview): a caption is 30 px tall and ~150 px wide there, 1.5-5 face heights, so drawn
    everywhere they hide the photo. A face gets one only if it is at least half as tall as its
    caption (MAX_CAPTION_PER_FACE); captions are placed largest face first, above the box (else
    below it), and only where they cover no caption already placed and at most MAX_COVERED_SHARE of
    another face's box.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image, got {image.dtype} {image.shape}")
    out = np.ascontiguousarray(image).copy()
    font_scale, thickness = _scale(out)
    shape = out.shape[:2]
    boxes: list[Rect] = []
    for face in faces:
        x, y, w, h = (round(float(v) * scale) for v in face.box)
        boxes.append((x, y, x + w, y + h))
    readable = [is_readable(min(int(face.box[2]), int(face.box[3]))) for face in faces]
    for face, box, ok in zip(faces, boxes, readable, strict=True):
        x0, y0, x1, y1 = box
        line = max(1, min(thickness, round(MAX_LINE_PER_FACE * min(x1 - x0, y1 - y0))))
        if not ok:
            line = max(1, line // 2)  # counted, not read: a thin grey box
        cv2.rectangle(out, (x0, y0), (x1, y1), _face_color(face, ok), line)
    placed: list[Rect] = []
    captioned = [False] * len(faces)
    for i in sorted(range(len(faces)), key=lambda j: -min(faces[j].box[2], faces[j].box[3])):
        face, (x0, y0, x1, y1) = faces[i], boxes[i]
        if readable[i]:
            text, size, line = caption(face.label, face.confidence), font_scale, thickness
        else:
            text, size, line = TOO_SMALL_TEXT, font_scale * 0.7, max(1, thickness - 1)
        label_h = label_rect(shape, text, (0, 0), size, line)[3]
        if label_h > MAX_CAPTION_PER_FACE * (y1 - y0):
            continue  # the caption would dwarf the face it names
        others = [b for j, b in enumerate(boxes) if j != i]
        for origin in ((x0, y0), (x0, y1 + label_h)):  # above the box, else below it
            rect = label_rect(shape, text, origin, size, line)
            if not any(_overlap(rect, r) for r in placed) and all(
                _overlap(rect, b) <= MAX_COVERED_SHARE * _area(b) for b in others
            ):
                placed.append(rect)
                captioned[i] = True
                draw_label(out, text, origin, _face_color(face, readable[i]), size, line)
                break
    return Annotation(out, tuple(captioned))


def annotate(image: np.ndarray, faces: Sequence[AnnotatedFace]) -> np.ndarray:
    """A copy of the RGB uint8 `image` with each face's box, and its caption where it fits."""
    return annotate_faces(image, faces).image


def draw_status(image: np.ndarray, text: str) -> np.ndarray:
    """Write a status line (e.g. frames per second) in the bottom-left corner of `image`, in place."""
    font_scale, thickness = _scale(image)
    draw_label(image, text, (0, image.shape[0]), (0, 0, 0), font_scale, thickness)
    return image
