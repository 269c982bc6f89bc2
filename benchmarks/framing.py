"""Where YuNet's box and landmarks fall on FER2013's faces, the serving crop that reproduces that
framing, and how closely re-framing gives the training faces back.

    python -m benchmarks.framing [--faces 3000] > benchmarks/results/framing.txt
FER2013 Training faces (seeded sample) are upscaled 4x (bicubic) and set in the middle of a canvas
whose border continues the face's edge pixels, blurred (a plain mid-gray border and a replicated one
are measured too, on fewer faces: the border moves the box more than the landmarks). YuNet runs on
each canvas as serving runs it; the box and the five landmarks are expressed in the 48x48 frame.
The derived constants are what fer_core.labels commits (tests/test_framing.py checks they still
agree). Reconstruction: each canvas is framed again by serving's crop (fer_core.framing.frame_face)
and by the old square crop (box + FACE_MARGIN each side) and compared with the original 48x48 face.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from fer_core import labels
from fer_core.config import CACHE_DIR, FER2013_PATH
from fer_core.data import load_fer2013
from fer_core.detect import Detection, YuNetDetector
from fer_core.framing import EYE_DISTANCE_PER_WIDTH, crop_geometry, eye_line, plausible_landmarks, warp_crop
from fer_core.labels import INPUT_SIZE
from fer_core.preprocess import face_to_uint8

#: FER2013 faces are enlarged this many times before detection (192 px: YuNet's comfortable size).
UPSCALE: int = 4
#: Border around the enlarged face, in canvas pixels (the canvas is 320 px).
PAD: int = 64
BORDERS: tuple[str, ...] = ("blurred", "gray", "replicate")


def fer_canvas(face: np.ndarray, border: str = "blurred") -> np.ndarray:
    """A 48x48 face enlarged UPSCALE times in the middle of a gray canvas PAD px wider each side."""
    big = cv2.resize(face, (INPUT_SIZE * UPSCALE,) * 2, interpolation=cv2.INTER_CUBIC)
    if border == "gray":
        return cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=128)
    canvas = cv2.copyMakeBorder(big, PAD, PAD, PAD, PAD, cv2.BORDER_REPLICATE)
    if border == "replicate":
        return canvas
    if border != "blurred":
        raise ValueError(f"border must be one of {BORDERS}")
    blurred = cv2.GaussianBlur(canvas, (0, 0), 12)
    inside = np.zeros(canvas.shape, np.float32)
    inside[PAD:-PAD, PAD:-PAD] = 1.0
    inside = cv2.GaussianBlur(inside, (0, 0), 4)
    return (inside * canvas + (1.0 - inside) * blurred).round().astype(np.uint8)


@dataclass(frozen=True)
class Measurement:
    """Per face: the detection in canvas pixels (None: not found) and its geometry in 48x48 units."""

    detections: list[Detection | None]
    boxes: np.ndarray  # (N, 4) x, y, w, h in the 48x48 frame (NaN: not found)
    landmarks: np.ndarray  # (N, 5, 2) in the 48x48 frame (NaN: not found)

    @property
    def found(self) -> np.ndarray:
        return ~np.isnan(self.boxes[:, 0])


def measure(faces: np.ndarray, border: str = "blurred", detector: YuNetDetector | None = None) -> Measurement:
    """Run YuNet on every face's canvas; keep the detection nearest the canvas centre."""
    detector = detector or YuNetDetector(tiling="never")
    centre = PAD + INPUT_SIZE * UPSCALE / 2.0
    boxes = np.full((len(faces), 4), np.nan)
    points = np.full((len(faces), 5, 2), np.nan)
    kept: list[Detection | None] = []
    for i, face in enumerate(faces):
        canvas = fer_canvas(face, border)
        found = [d for d in detector.detect(np.dstack([canvas] * 3)) if d.landmarks is not None]
        if not found:
            kept.append(None)
            continue
        best = min(
            found,
            key=lambda d: math.hypot(d.box[0] + d.box[2] / 2 - centre, d.box[1] + d.box[3] / 2 - centre),
        )
        kept.append(best)
        x, y, w, h = best.box
        boxes[i] = ((x - PAD) / UPSCALE, (y - PAD) / UPSCALE, w / UPSCALE, h / UPSCALE)
        points[i] = (np.asarray(best.landmarks) - PAD) / UPSCALE
    return Measurement(kept, boxes, points)


def geometry(m: Measurement) -> dict[str, np.ndarray]:
    """Per detected face, in 48x48 units: box and landmark quantities and the FER2013 frame's centre
    relative to them (the frame is the 48x48 square, centre (24, 24), pixel edges at integers)."""
    rows: dict[str, list[float]] = {}

    def put(key: str, value: float) -> None:
        rows.setdefault(key, []).append(value)

    half = INPUT_SIZE / 2.0
    for box, marks in zip(m.boxes[m.found], m.landmarks[m.found]):
        x, y, w, h = box
        landmarks = tuple(map(tuple, marks))
        (mx, my), eyes, angle = eye_line(landmarks)
        mouth = ((marks[3] + marks[4]) / 2.0).tolist()
        capped = math.radians(float(np.clip(angle, -labels.MAX_LEVEL_ANGLE_DEG, labels.MAX_LEVEL_ANGLE_DEG)))
        vx, vy = half - mx, half - my  # frame centre from the eye midpoint, in the image's axes ...
        along = math.cos(capped) * vx + math.sin(capped) * vy  # ... and in the levelled face's axes
        across = -math.sin(capped) * vx + math.cos(capped) * vy
        for key, value in {
            "box width": w,
            "box height": h,
            "box centre x": x + w / 2.0,
            "box centre y": y + h / 2.0,
            "eye distance": eyes,
            "eye midpoint x": mx,
            "eye midpoint y": my,
            "eye-line angle (deg)": angle,
            "eye-to-mouth distance": math.hypot(mouth[0] - mx, mouth[1] - my),
            "eye distance / box width": eyes / w,
            "frame dx from eyes (levelled)": along,
            "frame dy from eyes (levelled)": across,
        }.items():
            put(key, value)
    return {key: np.asarray(values) for key, values in rows.items()}


def relative_spread(values: np.ndarray) -> float:
    """Interquartile range over median: how much a size varies from face to face."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return float((q3 - q1) / median)


#: Sizes the crop side could be proportional to; the steadiest (lowest relative spread of
#: 48 / size over FER2013's faces) frames most faithfully.
SIZE_CANDIDATES: tuple[str, ...] = ("eye distance", "eye-to-mouth distance", "box width", "box height")


def derive(g: dict[str, np.ndarray]) -> dict[str, float]:
    """Serving's framing constants (fer_core.labels) from the measured geometry: medians of per-face
    ratios. Offsets are fractions of the side serving will compute for that face (k x box width), so
    that serving's formula, not an ideal 48 px side, puts the centre where FER2013's frame has it."""
    k = float(np.median(INPUT_SIZE / g["box width"]))
    side = k * g["box width"]
    half = INPUT_SIZE / 2.0
    return {
        "CROP_SIDE_PER_BOX_WIDTH": k,
        "EYES_CENTER_DX": float(np.median(g["frame dx from eyes (levelled)"] / side)),
        "EYES_CENTER_DY": float(np.median(g["frame dy from eyes (levelled)"] / side)),
        "BOX_CENTER_DX": float(np.median((half - g["box centre x"]) / side)),
        "BOX_CENTER_DY": float(np.median((half - g["box centre y"]) / side)),
    }


def reconstruction(faces: np.ndarray, m: Measurement, border: str = "blurred") -> dict[str, np.ndarray]:
    """Mean absolute grey-level difference between each found face and its re-framed canvas, per framing."""
    errors: dict[str, list[float]] = {"old: box + 0.15 margin": [], "new: landmarks, levelled": [],
                                      "new: landmarks, not levelled": [], "new: box only": []}  # fmt: skip
    for face, detection in zip(faces, m.detections):
        if detection is None:
            continue
        canvas = fer_canvas(face, border)
        crops = {
            "old: box + 0.15 margin": face_to_uint8(canvas, detection.box),
            "new: landmarks, levelled": warp_crop(canvas, crop_geometry(detection)),
            "new: landmarks, not levelled": warp_crop(canvas, crop_geometry(detection, level=False)),
            "new: box only": warp_crop(canvas, crop_geometry(Detection(detection.box, detection.score))),
        }
        for key, crop in crops.items():
            errors[key].append(float(np.abs(crop.astype(np.int16) - face.astype(np.int16)).mean()))
    return {key: np.asarray(values) for key, values in errors.items()}


def framing_errors(m: Measurement) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """Per framing: crop side / FER2013's frame side, and the crop centre's offset from the frame's
    centre (48x48 px), per found face; the old framing and serving's (not levelled, like the frame)."""
    frame_centre = PAD + INPUT_SIZE * UPSCALE / 2.0
    old, new = [], []
    for d in m.detections:
        if d is None:
            continue
        x, y, w, h = d.box
        old.append(((1.0 + 2.0 * labels.FACE_MARGIN) * max(w, h) / UPSCALE, x + w / 2.0, y + h / 2.0))
        geometry = crop_geometry(d, level=False)
        new.append((geometry.side / UPSCALE, *geometry.center))
    rows = []
    for name, values in (("old: box + 0.15 margin", old), ("new: serving's crop", new)):
        side, cx, cy = np.asarray(values).T
        rows.append((name, side / INPUT_SIZE, (cx - frame_centre) / UPSCALE, (cy - frame_centre) / UPSCALE))
    return rows


def training_sample(n: int, seed: int = 0) -> np.ndarray:
    """A seeded sample of n FER2013 Training faces."""
    train = load_fer2013(FER2013_PATH, CACHE_DIR).subset("Training")
    index = np.random.default_rng(seed).choice(len(train), size=min(n, len(train)), replace=False)
    return train.images[np.sort(index)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=3000, help="Training faces measured (blurred border)")
    parser.add_argument("--border-faces", type=int, default=500, help="faces measured with the other borders")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    faces = training_sample(args.faces, args.seed)
    m = measure(faces)
    g = geometry(m)
    print(f"FER2013 Training, {len(faces)} faces (seed {args.seed}), upscaled {UPSCALE}x into a "
          f"{INPUT_SIZE * UPSCALE + 2 * PAD} px canvas, blurred border; YuNet (min score 0.6) found "
          f"{m.found.sum()} ({m.found.mean():.1%})")  # fmt: skip
    print("\nGeometry in the 48x48 frame (pixel edges at integers; frame centre 24, 24)")
    print("| quantity | median | p10 | p25 | p75 | p90 |")
    print("|---|---:|---:|---:|---:|---:|")
    for key, values in g.items():
        p10, p25, p50, p75, p90 = np.percentile(values, [10, 25, 50, 75, 90])
        print(f"| {key} | {p50:.2f} | {p10:.2f} | {p25:.2f} | {p75:.2f} | {p90:.2f} |")
    plausible = [plausible_landmarks(d.box, d.landmarks) for d in m.detections if d is not None]
    print(f"\nLandmarks plausible (eye midpoint in the box, eye distance {EYE_DISTANCE_PER_WIDTH} x box "
          f"width): {np.mean(plausible):.1%} of found faces; the rest are framed from the box")  # fmt: skip
    print(f"|eye-line angle| over 5 deg: {np.mean(np.abs(g['eye-line angle (deg)']) > 5):.1%}, "
          f"over 10 deg: {np.mean(np.abs(g['eye-line angle (deg)']) > 10):.1%}")  # fmt: skip
    print(
        "\nHow steadily each size predicts the 48 px frame (IQR / median of 48 / size; lower frames better)"
    )
    print("| size | median 48 / size | relative spread |")
    print("|---|---:|---:|")
    for key in SIZE_CANDIDATES:
        ratio = INPUT_SIZE / g[key]
        print(f"| {key} | {np.median(ratio):.3f} | {relative_spread(ratio):.1%} |")
    print("\nHow steadily each reference predicts the frame's centre (IQR, fraction of the 48 px side)")
    dx_box, dy_box = (24.0 - g["box centre x"]) / 48, (24.0 - g["box centre y"]) / 48
    dx_eye, dy_eye = g["frame dx from eyes (levelled)"] / 48, g["frame dy from eyes (levelled)"] / 48
    for name, dx, dy in (("box centre", dx_box, dy_box), ("eye midpoint (levelled)", dx_eye, dy_eye)):
        iqr = [float(np.subtract(*np.percentile(v, [75, 25]))) for v in (dx, dy)]
        print(f"- {name}: x {iqr[0]:.3f}, y {iqr[1]:.3f}")

    derived = derive(g)
    print("\nDerived constants (fer_core.labels commits them):")
    for key, value in derived.items():
        print(f"{key} = {value:.3f}  (committed {getattr(labels, key):.3f})")

    print("\nHow far each framing's crop is from FER2013's frame (medians over found faces, 48 px frame)")
    print("| framing | crop side / 48 | abs. side error | centre error (px of 48) |")
    print("|---|---:|---:|---:|")
    for name, side, dx, dy in framing_errors(m):
        cells = (
            f"{np.median(side):.2f} | {np.median(np.abs(side - 1)):.1%} | {np.median(np.hypot(dx, dy)):.2f}"
        )
        print(f"| {name} | {cells} |")

    print(
        "\nRe-framing the canvases: mean absolute difference from the original 48x48 face (grey levels 0-255)"
    )
    errors = reconstruction(faces, m)
    angles = np.abs(g["eye-line angle (deg)"])
    print("| framing | mean | median | p90 | median, faces with eye line within 5 deg |")
    print("|---|---:|---:|---:|---:|")
    for key, values in errors.items():
        p50, p90 = np.percentile(values, [50, 90])
        print(
            f"| {key} | {values.mean():.2f} | {p50:.2f} | {p90:.2f} | {np.median(values[angles <= 5]):.2f} |"
        )

    if args.border_faces:
        print(f"\nThe canvas border's effect ({args.border_faces} of the faces; medians)")
        print(
            "| border | found | box width | box height | box centre y | eye dist. | eye mid y | eye-mouth |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        keys = (
            "box width",
            "box height",
            "box centre y",
            "eye distance",
            "eye midpoint y",
            "eye-to-mouth distance",
        )
        for border in BORDERS:
            mb = measure(faces[: args.border_faces], border)
            gb = geometry(mb)
            cells = " | ".join(f"{np.median(gb[k]):.2f}" for k in keys)
            print(f"| {border} | {mb.found.mean():.1%} | {cells} |")
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
