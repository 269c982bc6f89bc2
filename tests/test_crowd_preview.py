"""Crowd previews people can read: boxes only where captions would hide the photo, a legend with the
counts, zoom tiles, and verdicts that count only the faces big enough to read (issue 16, item 4)."""

from __future__ import annotations

import cv2
import numpy as np

from campus_fer.photo_analysis import preview_jpeg, preview_legend, readable_summary
from db import queries
from fer_core.annotate import (
    MAX_CAPTION_PER_FACE,
    NOT_READ_HEX,
    annotate_faces,
    caption,
    face_counts,
    label_rect,
)
from fer_core.labels import EMOTION_COLORS, EMOTIONS, READABLE_MIN_FACE_PX, UNCERTAIN_BELOW
from fer_core.recognizer import FaceResult
from tests.actors import ADMIN
from tests.photos import crowd_photo, encode, group_photo
from tests.test_app_pages import db_url, engine, open_page, texts  # noqa: F401 (fixtures)


def face(box: tuple[int, int, int, int], label: str, confidence: float) -> FaceResult:
    p = np.full(len(EMOTIONS), (1 - confidence) / (len(EMOTIONS) - 1), dtype=np.float32)
    p[EMOTIONS.index(label)] = confidence
    return FaceResult(box, p)


def crowd_faces(n: int, seed: int = 0) -> tuple[np.ndarray, list[FaceResult]]:
    """A synthetic lecture hall and recognizer-shaped faces at its placed boxes (a third uncertain)."""
    image, boxes = crowd_photo(n, seed=seed)
    rng = np.random.default_rng(seed)
    out = []
    for i, box in enumerate(boxes):
        confidence = UNCERTAIN_BELOW - 0.1 if i % 3 == 0 else 0.8
        out.append(face(box, EMOTIONS[int(rng.integers(len(EMOTIONS)))], confidence))
    return image, out


def box_outlines(
    shape: tuple[int, int], faces: list[FaceResult], scale: float, margin: int = 4
) -> np.ndarray:
    """Mask of the pixels near each box's outline (where its line may be drawn)."""
    mask = np.zeros(shape, dtype=np.uint8)
    for f in faces:
        x, y, w, h = (round(v * scale) for v in f.box)
        cv2.rectangle(mask, (x, y), (x + w, y + h), 1, 2 * margin + 1)
    return mask.astype(bool)


def test_a_crowd_gets_boxes_only_and_captions_only_where_they_fit():
    image, faces = crowd_faces(250)
    small = cv2.resize(image, (960, 540), interpolation=cv2.INTER_AREA)
    result = annotate_faces(small, faces, scale=0.5)
    assert result.crowded and sum(result.captioned) <= 10  # a handful of front-row faces at most
    font_scale, line = 0.96, 2  # fer_core.annotate._scale of a 960 px image
    caption_rects = []
    for f, drawn in zip(faces, result.captioned, strict=True):
        readable = f.readable
        text = caption(f.label, f.confidence) if readable else "too small"
        size, width = (font_scale, line) if readable else (font_scale * 0.7, 1)
        caption_h = label_rect(small.shape[:2], text, (0, 0), size, width)[3]
        if caption_h > MAX_CAPTION_PER_FACE * round(f.box[3] * 0.5):
            assert not drawn  # a caption would dwarf this face
        if drawn:
            x, y = round(f.box[0] * 0.5), round(f.box[1] * 0.5)
            h = round(f.box[3] * 0.5)
            caption_rects += [
                label_rect(small.shape[:2], text, o, size, width) for o in ((x, y), (x, y + h + caption_h))
            ]
    # Every changed pixel is on a box outline or in a drawn caption: no other text over the photo.
    allowed = box_outlines(small.shape[:2], faces, 0.5)
    for x0, y0, x1, y1 in caption_rects:
        allowed[y0 : y1 + 1, x0 : x1 + 1] = True
    changed = (result.image != small).any(axis=2)
    assert changed.any() and not (changed & ~allowed).any()


def test_box_colours_follow_expression_and_grey_for_too_small_or_uncertain():
    image = np.full((300, 400, 3), 255, dtype=np.uint8)
    tiny = READABLE_MIN_FACE_PX - 1
    faces = [
        face((20, 20, tiny, tiny), "happy", 0.9),
        face((60, 20, 20, 20), "sad", UNCERTAIN_BELOW - 0.05),
        face((100, 20, 20, 20), "angry", 0.9),
    ]
    out = annotate_faces(image, faces).image
    grey = tuple(int(NOT_READ_HEX[i : i + 2], 16) for i in (1, 3, 5))
    assert tuple(out[20 + tiny // 2, 20]) == grey
    assert tuple(out[30, 60]) == grey
    assert tuple(out[30, 100]) == tuple(int(EMOTION_COLORS["angry"][i : i + 2], 16) for i in (1, 3, 5))


def test_legend_counts_match_the_boxes():
    _, faces = crowd_faces(220, seed=4)
    counts = face_counts(faces)
    small = [f for f in faces if min(f.box[2:]) < READABLE_MIN_FACE_PX]
    unsure = [f for f in faces if f not in small and f.confidence < UNCERTAIN_BELOW]
    assert small and unsure  # the crowd has both kinds
    assert (counts.too_small, counts.uncertain, counts.total) == (len(small), len(unsure), len(faces))
    for name in EMOTIONS:
        expected = sum(f.label == name and f not in small and f not in unsure for f in faces)
        assert counts.by_expression.get(name, 0) == expected
    rows = {row.meaning: row.faces for row in preview_legend(faces)}
    assert rows["too small to read (thin box)"] == len(small)
    assert rows["uncertain (no expression stands out)"] == len(unsure)
    assert sum(rows.values()) == len(faces)


def test_ordinary_photo_keeps_its_captions_and_gets_no_zoom():
    image, boxes = group_photo(4, size=(1280, 720), seed=2)
    faces = [face(tuple(b), "happy", 0.87) for b in boxes]
    result = annotate_faces(image, faces)
    assert result.captioned == (True,) * 4 and not result.crowded
    assert caption("happy", 0.87) == "happy 87%"
    assert preview_jpeg(image, faces).zoom_tiles == []


def test_crowd_preview_has_full_resolution_zoom_tiles():
    image, faces = crowd_faces(200, seed=1)
    preview = preview_jpeg(image, faces)
    shown = cv2.imdecode(np.frombuffer(preview.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert max(shown.shape[:2]) == 960
    names = [name for name, _ in preview.zoom_tiles]
    assert names[0] == "row 1, column 1" and len(names) == 8  # 1920x1080 in ~480 px cells: 2 x 4
    tile = cv2.imdecode(np.frombuffer(preview.zoom_tiles[0][1], np.uint8), cv2.IMREAD_COLOR)
    assert tile.shape[:2] == (540 + 540 // 8, 480 + 480 // 8)  # full resolution, grown by 1/8


def test_readable_summary_counts_only_readable_faces():
    faces = [face((0, 0, 40, 40), "angry", 0.9)] * 2 + [face((0, 0, 30, 30), "sad", 0.3)]
    faces += [face((0, 0, 10, 10), "sad", 0.9)] * 3
    assert readable_summary(faces) == "3 readable (angry 2, sad 1), 3 too small to read"
    assert readable_summary(faces[:2]) == "2 readable (angry 2)"


def test_crowd_upload_verdict_excludes_too_small_faces(db_url, engine):  # noqa: F811
    session_id = queries.create_event_session(engine, "Lecture hall", actor=ADMIN)
    at = open_page()
    image, _ = crowd_photo(220, seed=7)
    at.file_uploader[0].set_value([("hall.jpg", encode(image, quality=95), "image/jpeg")]).run()
    at.button(key="analyse").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [photo] = queries.photo_results(engine, session_id)
    stored = photo["faces"]
    readable = [f["label"] for f in stored if f["readable"]]
    small = len(stored) - len(readable)
    assert len(stored) > 100 and small > 0 and readable  # the crowd has both kinds of face
    [row] = at.dataframe[0].value.to_dict("records")
    expected = [f"{name} ×{readable.count(name)}" for name in EMOTIONS if name in readable]
    assert row["apparent expressions"] == ", ".join([*expected, f"{small} too small to read"])
    counted = [f"{name} {readable.count(name)}" for name in EMOTIONS if name in readable]
    assert row["details"].startswith(
        f"Saved {len(stored)} faces: {len(readable)} readable ({', '.join(counted)}), "
        f"{small} too small to read;"
    )
    legend = texts(at.markdown)
    assert f'too small to read (thin box)</td><td style="text-align:right">{small}<' in legend
    zoom = at.selectbox(key="photos_zoom_0_hall.jpg")
    assert zoom.options[0] == "row 1, column 1" and len(zoom.options) == 8
