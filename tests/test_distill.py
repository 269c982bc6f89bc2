"""Distillation targets: the committed teacher's predictions blended with the labels."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.config import INT8_MODEL_PATH
from fer_core.labels import NUM_CLASSES
from tests.photos import group_photo
from training.distill import blend_targets, onnx_teacher


def one_hot(labels: list[int]) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def test_blend_is_a_distribution_between_label_and_teacher(recognizer) -> None:
    teacher = onnx_teacher(INT8_MODEL_PATH)
    faces = recognizer.detect_faces(group_photo(4)[0])[2]
    assert len(faces) == 4
    soft = teacher(faces)
    labels = one_hot([3, 0, 6, 4])
    np.testing.assert_allclose(blend_targets(labels, soft, 0.0), labels)
    np.testing.assert_allclose(blend_targets(labels, soft, 1.0), soft, atol=1e-6)
    blended = blend_targets(labels, soft, 0.7)
    np.testing.assert_allclose(blended.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(blended, 0.7 * soft + 0.3 * labels, atol=1e-6)
    assert blended.dtype == np.float32 and (blended > 0).all()  # the teacher spreads mass to every class


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_weight_outside_unit_interval_is_refused(weight: float) -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        blend_targets(one_hot([0]), one_hot([1]), weight)


def test_teacher_output_must_match_the_batch() -> None:
    with pytest.raises(ValueError, match="does not match"):
        blend_targets(one_hot([0, 1]), one_hot([1]), 0.5)
