"""Accuracy as faces get smaller: the resolution curve behind the readability floor.

A face of s px is simulated by `fer_core.preprocess.as_small_face` (shrunk, then scaled back to
48 exactly as serving upscales a small crop), so the curve describes what the app sees in a
crowded hall. `s` is the side of the square crop the model reads; a detector box of b px gives a
crop of `fer_core.labels.crop_side(b)` px.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from fer_core.labels import EMOTIONS, INPUT_SIZE, NEGATIVE_AFFECT, READABLE_RELATIVE_ACCURACY, crop_side
from fer_core.preprocess import as_small_face

#: Crop sides measured (px); 48 is the model's own input size.
CURVE_SIDES: tuple[int, ...] = (48, 40, 32, 28, 24, 20, 16, 14, 12, 10)
_SAD = EMOTIONS.index("sad")
_NEGATIVE = np.array([name in NEGATIVE_AFFECT for name in EMOTIONS])


def shrink_all(faces: np.ndarray, side: int) -> np.ndarray:
    """Every (N, 48, 48) uint8 face as if it had been `side` px in the photo."""
    if side >= INPUT_SIZE:
        return faces
    return np.stack([as_small_face(face, side) for face in faces])


def resolution_curve(
    predict: Callable[[np.ndarray], np.ndarray],
    faces: np.ndarray,
    labels: np.ndarray,
    sides: Sequence[int] = CURVE_SIDES,
) -> list[dict]:
    """Per crop side: accuracy, macro-F1, and the predicted vs true share of "sad" and of negative
    affect (the drift small faces would add to every chart)."""
    from sklearn.metrics import f1_score

    rows = []
    for side in sides:
        predicted = predict(shrink_all(faces, side)).argmax(axis=1)
        rows.append(
            {
                "side": int(side),
                "accuracy": float(np.mean(predicted == labels)),
                "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
                "predicted_sad_share": float(np.mean(predicted == _SAD)),
                "true_sad_share": float(np.mean(labels == _SAD)),
                "predicted_negative_share": float(np.mean(_NEGATIVE[predicted])),
                "true_negative_share": float(np.mean(_NEGATIVE[labels])),
            }
        )
    return rows


def readable_floor(curve: list[dict], relative: float = READABLE_RELATIVE_ACCURACY) -> dict:
    """The smallest crop side from which accuracy stays at or above `relative` x the full-size
    accuracy for every larger side measured, and the detector-box size (short side) that gives
    such a crop."""
    ordered = sorted(curve, key=lambda row: -row["side"])
    min_accuracy = relative * ordered[0]["accuracy"]
    smallest = ordered[0]["side"]
    for row in ordered:
        if row["accuracy"] < min_accuracy:
            break
        smallest = row["side"]
    box = int(np.ceil(smallest / crop_side(1.0)))
    return {"relative": relative, "min_accuracy": min_accuracy, "crop_side": int(smallest), "face_size": box}
