"""Knowledge distillation targets: a trained teacher's view of each augmented batch, blended with the labels.

The teacher runs through ONNX Runtime exactly as the app serves models, on the same augmented
faces the student sees (a consistent teacher), so it costs a fraction of a training step.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

Teacher = Callable[[np.ndarray], np.ndarray]  # uint8 faces (N, 48, 48) -> probabilities (N, 7)


def onnx_teacher(path: str | Path, threads: int = 2) -> Teacher:
    """The classifier of a committed ONNX model (float32 or int8)."""
    from fer_core.recognizer import Recognizer

    return Recognizer(path, threads=threads).predict_faces


def blend_targets(one_hot: np.ndarray, teacher_probabilities: np.ndarray, weight: float) -> np.ndarray:
    """weight * teacher + (1 - weight) * label: still a distribution over the 7 classes."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"distillation weight must be in [0, 1], got {weight}")
    if one_hot.shape != teacher_probabilities.shape:
        raise ValueError(
            f"teacher output {teacher_probabilities.shape} does not match the labels {one_hot.shape}"
        )
    return (weight * teacher_probabilities + (1.0 - weight) * one_hot).astype(np.float32)
