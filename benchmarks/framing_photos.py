"""FER2013 faces set into synthetic photos and read through the full detect -> frame -> classify
path: does serving read them as the model reads the training-framed 48x48 faces?

    python -m benchmarks.framing_photos [--faces 1500] > benchmarks/results/framing_photos.txt
Each PrivateTest face (seeded sample) is enlarged so the face is 40-200 px wide (its 48 px frame
1.25x that), its surroundings continued (edge pixels, blurred) and feathered into a background of a
gradient and blurred noise, rotated by up to 20 degrees, and the whole photo's brightness and
contrast changed. The served model reads each face directly at 48x48, through serving's framing
(fer_core.framing: landmarks, levelled, and not levelled), through the old square crop (detector
box + 0.15 margin each side), and as the pasted frame itself cut back out of the photo (known place,
side and rotation: what the photo alone costs, framing aside). Agreement with the FER+ majority is
counted over the faces the detector found; tests/test_framing.py asserts the same on fewer faces.
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import cv2
import numpy as np

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH, served_model_path
from fer_core.data import load_fer2013, load_ferplus
from fer_core.detect import Detection
from fer_core.framing import CropGeometry, crop_geometry, warp_crop
from fer_core.labels import CROP_SIDE_PER_BOX_WIDTH
from fer_core.preprocess import face_to_uint8
from fer_core.recognizer import Recognizer

FACE_PX: tuple[int, int] = (40, 200)
MAX_ROTATION_DEG: float = 20.0


def pasted_photo(
    face: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, tuple[float, float], float, float]:
    """An RGB photo holding `face` (48x48 uint8) rotated by up to 20 degrees, the face itself 40-200 px
    wide (the detector box's width, `face_size` in serving: the 48 px frame is 1.25x that); returns
    the photo, the face's centre in it, the frame's side there and the rotation (degrees)."""
    side = round(int(rng.integers(FACE_PX[0], FACE_PX[1] + 1)) * CROP_SIDE_PER_BOX_WIDTH)
    angle = float(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG))
    big = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA if side < 48 else cv2.INTER_CUBIC)
    pad = side // 2
    patch = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    sharp = cv2.GaussianBlur(
        _inside(patch.shape[0], pad, side), (0, 0), side / 48
    )  # face -> its blurred edge
    patch = sharp * patch + (1.0 - sharp) * cv2.GaussianBlur(patch, (0, 0), side / 16)
    alpha = cv2.GaussianBlur(_inside(patch.shape[0], pad // 2, side + pad), (0, 0), side / 10)
    # The photo: a face somewhere in a frame 2.5-4 face sides wide, on a gradient with blurred noise.
    width = max(int(side * rng.uniform(2.5, 4.0)), patch.shape[0] + 8, 320)
    height = max(int(side * rng.uniform(2.5, 3.5)), patch.shape[0] + 8, 240)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, 2 * math.pi)
    gradient = (np.cos(direction) * xs / width + np.sin(direction) * ys / height) * rng.uniform(40, 120)
    noise = cv2.GaussianBlur(rng.normal(0, 40, (height, width)).astype(np.float32), (0, 0), rng.uniform(2, 8))
    background = rng.uniform(60, 190) + gradient - gradient.mean() + noise
    x0 = int(rng.integers(0, width - patch.shape[1] + 1))
    y0 = int(rng.integers(0, height - patch.shape[0] + 1))
    centre = (x0 + patch.shape[1] / 2.0, y0 + patch.shape[0] / 2.0)
    # Rotate face and mask into the photo (about the face's centre), then blend.
    matrix = cv2.getRotationMatrix2D((patch.shape[1] / 2.0, patch.shape[0] / 2.0), angle, 1.0)
    matrix[:, 2] += (x0, y0)
    face_layer = cv2.warpAffine(patch.astype(np.float32), matrix, (width, height), flags=cv2.INTER_LINEAR)
    alpha_layer = cv2.warpAffine(alpha, matrix, (width, height), flags=cv2.INTER_LINEAR)
    photo = alpha_layer * face_layer + (1.0 - alpha_layer) * background
    photo = (photo - 128.0) * rng.uniform(0.75, 1.3) + 128.0 + rng.uniform(-30, 30)  # contrast, brightness
    gray = np.clip(photo, 0, 255).round().astype(np.uint8)
    return np.dstack([gray] * 3), centre, float(side), angle


def _inside(size: int, start: int, side: int) -> np.ndarray:
    """float32 mask of a square `side` px wide at (start, start) in a size x size patch."""
    mask = np.zeros((size, size), np.float32)
    mask[start : start + side, start : start + side] = 1.0
    return mask


@dataclass(frozen=True)
class PhotoReadings:
    """Predicted classes per face: directly at 48x48, through serving's framing (levelled or not)
    and the old crop (-1 where the detector found no face at the pasted place); face widths in px."""

    direct: np.ndarray
    framed: np.ndarray
    unlevelled: np.ndarray
    old: np.ndarray
    face_px: np.ndarray
    angle: np.ndarray
    oracle: np.ndarray  # the pasted frame itself cut back out (known place, side and rotation)

    @property
    def found(self) -> np.ndarray:
        return self.framed >= 0


def read_in_photos(recognizer: Recognizer, faces: np.ndarray, seed: int = 0) -> PhotoReadings:
    """Paste each face into its own photo, detect, and classify it each way."""
    rng = np.random.default_rng(seed)
    direct = recognizer.predict_faces(faces).argmax(axis=1)
    framed, unlevelled, old, oracle = (np.full(len(faces), -1) for _ in range(4))
    face_px, angles = np.zeros(len(faces)), np.zeros(len(faces))
    for i, face in enumerate(faces):
        photo, (cx, cy), side, angles[i] = pasted_photo(face, rng)
        face_px[i] = side / CROP_SIDE_PER_BOX_WIDTH
        detections, crops = recognizer.detect_framed(photo)
        near = [
            (math.hypot(d.box[0] + d.box[2] / 2 - cx, d.box[1] + d.box[3] / 2 - cy), k)
            for k, d in enumerate(detections)
        ]
        near = [(distance, k) for distance, k in near if distance < side / 3]
        if not near:
            continue
        k = min(near)[1]
        detection: Detection = detections[k]
        gray = photo[:, :, 0]
        exact = CropGeometry((cx, cy), side, -angles[i], False)  # counter-clockwise paste, levelled back
        four = np.stack(
            [
                crops[k],
                warp_crop(gray, crop_geometry(detection, level=False)),
                face_to_uint8(gray, detection.box),
                warp_crop(gray, exact),
            ]
        )
        framed[i], unlevelled[i], old[i], oracle[i] = recognizer.predict_faces(four).argmax(axis=1)
    return PhotoReadings(direct, framed, unlevelled, old, face_px, angles, oracle)


def private_test_sample(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n seeded PrivateTest faces with a usable FER+ majority, and that majority."""
    data = load_fer2013(FER2013_PATH, CACHE_DIR)
    votes = load_ferplus(FERPLUS_PATH)
    rows = np.flatnonzero((data.splits == "PrivateTest") & votes.usable)
    rows = np.sort(np.random.default_rng(seed).choice(rows, size=min(n, len(rows)), replace=False))
    return data.images[rows], votes.majority[rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    start = time.perf_counter()
    faces, majority = private_test_sample(args.faces, args.seed)
    model = served_model_path()
    readings = read_in_photos(Recognizer(model), faces, args.seed)
    found = readings.found
    print(
        f"FER2013 PrivateTest, {len(faces)} faces with a usable FER+ majority (seed {args.seed}), each in "
        f"its own synthetic photo (face {FACE_PX[0]}-{FACE_PX[1]} px, rotated up to {MAX_ROTATION_DEG:.0f} "
        f"deg, brightness/contrast changed); model {model.name}"
    )
    print(f"detector found {found.sum()} ({found.mean():.1%})")
    for low, high in ((40, 80), (80, 120), (120, 201)):
        band = (readings.face_px >= low) & (readings.face_px < high)
        print(f"- faces {low}-{min(high, 200)} px wide: found {found[band].mean():.1%} of {band.sum()}")
    print()
    print("| how the face reached the model | FER+ majority agreement (found faces) | same label as direct |")
    print("|---|---:|---:|")
    for name, predicted in (
        ("direct 48x48 (training framing)", readings.direct),
        ("in the photo: serving's framing (landmarks, levelled)", readings.framed),
        ("in the photo: serving's framing, not levelled", readings.unlevelled),
        ("in the photo: old square crop (box + 0.15 margin)", readings.old),
        ("in the photo: the pasted frame itself (known place; photo effects only)", readings.oracle),
    ):
        agree = (predicted[found] == majority[found]).mean()
        same = (predicted[found] == readings.direct[found]).mean()
        print(f"| {name} | {agree:.1%} | {same:.1%} |")
    print("\nFER+ agreement of found faces by face width and rotation: direct / serving's framing / old crop")
    bands = [("face", readings.face_px, ((40, 80), (80, 120), (120, 201)))]
    bands.append(("|rotation|", np.abs(readings.angle), ((0, 7), (7, 14), (14, 21))))
    for name, values, ranges in bands:
        for low, high in ranges:
            band = found & (values >= low) & (values < high)
            cells = " / ".join(
                f"{(p[band] == majority[band]).mean():.1%}"
                for p in (readings.direct, readings.framed, readings.old)
            )
            print(f"- {name} {low}-{high}: {cells} ({band.sum()} faces)")
    print(f"\ndirect 48x48 on all {len(faces)} faces: {(readings.direct == majority).mean():.1%}")
    print(f"{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
