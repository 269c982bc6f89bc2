"""The recognizer on real photos, bad inputs, batching and TTA; ONNX agrees with Keras."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.config import KERAS_MODEL_PATH, PROJECT_ROOT
from fer_core.images import ImageError
from fer_core.labels import EMOTIONS
from tests.photos import encode, group_photo, portrait
from training.calibrate import built_in_temperature
from training.calibration import apply_temperature


def _centre_inside(box: tuple[int, int, int, int], region: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    rx, ry, rw, rh = region
    return rx <= x + w / 2 <= rx + rw and ry <= y + h / 2 <= ry + rh


@pytest.mark.parametrize(
    ("n_faces", "size"), [(1, (640, 480)), (4, (1280, 720)), (9, (1920, 1080)), (16, (1920, 1080))]
)
def test_group_photo_gives_one_result_per_face(recognizer, n_faces: int, size: tuple[int, int]) -> None:
    photo, placed = group_photo(n_faces, size=size, seed=n_faces)
    results = recognizer.analyze(photo)
    assert len(results) == n_faces
    for region in placed:  # every person found exactly once, box on the head
        hits = [r for r in results if _centre_inside(r.box, region)]
        assert len(hits) == 1
        face_side = hits[0].box[2]
        assert 0.15 * region[2] < face_side < 0.7 * region[2]
    for result in results:
        assert result.probabilities.shape == (7,)
        assert abs(float(result.probabilities.sum()) - 1.0) < 1e-4
        assert result.label in EMOTIONS and 0.0 < result.confidence <= 1.0
        assert set(result.as_dict()["probabilities"]) == set(EMOTIONS)


def test_all_input_kinds_give_the_same_faces(recognizer, tmp_path: Path) -> None:
    photo, _ = group_photo(3, seed=5)
    png = encode(photo, "PNG")
    path = tmp_path / "group.png"
    path.write_bytes(png)
    from_array = recognizer.analyze(photo)
    for other in (
        recognizer.analyze(png),
        recognizer.analyze(path),
        recognizer.analyze(np.ascontiguousarray(photo[:, :, ::-1]), color_order="bgr"),
    ):
        assert [r.box for r in other] == [r.box for r in from_array]
        np.testing.assert_allclose(
            [r.probabilities for r in other], [r.probabilities for r in from_array], atol=1e-5
        )


def test_no_face_gives_empty_list(recognizer) -> None:
    assert recognizer.analyze(np.full((480, 640, 3), 127, np.uint8)) == []


def test_huge_photo_is_downscaled_before_detection(recognizer) -> None:
    photo, _ = group_photo(4, size=(4000, 3000), seed=2)
    results = recognizer.analyze(encode(photo))
    assert len(results) == 4
    assert all(r.box[0] + r.box[2] <= 1920 for r in results)  # boxes in the decoded (<=1920) image


@pytest.mark.parametrize(
    "bad", [b"", b"GIF89a broken", encode(portrait())[:500], np.zeros((0, 10, 3), np.uint8)]
)
def test_bad_inputs_raise_clear_errors(recognizer, bad) -> None:
    with pytest.raises(ImageError):
        recognizer.analyze(bad)


def test_predict_faces_batches_and_validates(recognizer) -> None:
    faces = np.random.default_rng(1).integers(0, 256, (130, 48, 48), dtype=np.uint8)
    batched = recognizer.predict_faces(faces)
    assert batched.shape == (130, 7)
    one_by_one = np.concatenate([recognizer.predict_faces(faces[i : i + 1]) for i in range(0, 130, 13)])
    np.testing.assert_allclose(batched[::13], one_by_one, atol=1e-5)
    assert recognizer.predict_faces(np.zeros((0, 48, 48), np.uint8)).shape == (0, 7)
    with pytest.raises(ValueError, match="uint8"):
        recognizer.predict_faces(faces.astype(np.float64))


def test_flip_tta_averages_the_mirrored_face(recognizer) -> None:
    from fer_core.recognizer import Recognizer

    faces = np.random.default_rng(2).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    tta = Recognizer(tta=True).predict_faces(faces)
    expected = (recognizer.predict_faces(faces) + recognizer.predict_faces(faces[:, :, ::-1].copy())) / 2
    np.testing.assert_allclose(tta, expected, atol=1e-5)


def test_analyze_many_matches_analyze(recognizer) -> None:
    photos = [group_photo(n, seed=n)[0] for n in (2, 0, 3)]
    many = recognizer.analyze_many(photos)
    assert [len(r) for r in many] == [2, 0, 3]
    for photo, results in zip(photos, many):
        single = recognizer.analyze(photo)
        np.testing.assert_allclose(
            [r.probabilities for r in results] or np.zeros((0, 7)),
            [r.probabilities for r in single] or np.zeros((0, 7)),
            atol=1e-5,
        )


_KERAS_SCRIPT = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1], compile=False)
x = np.load(sys.argv[2])
np.save(sys.argv[3], model.predict_on_batch(x))
"""


def test_onnx_agrees_with_keras_on_real_faces(recognizer, tmp_path: Path, request) -> None:
    """Keras runs in a child process: TensorFlow must never load into the serving process."""
    from fer_core.config import FER2013_PATH
    from fer_core.preprocess import to_model_input

    if FER2013_PATH.exists():
        data = request.getfixturevalue("fer2013").subset("PrivateTest")
        faces = data.images[:256]
    else:
        photo, _ = group_photo(16, size=(1920, 1080), seed=7)
        faces = recognizer.detect_faces(photo)[2]
    x = to_model_input(faces)
    np.save(tmp_path / "x.npy", x)
    subprocess.run(
        [
            sys.executable,
            "-c",
            _KERAS_SCRIPT,
            str(KERAS_MODEL_PATH),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        check=True,
        cwd=PROJECT_ROOT,
        capture_output=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    keras_probs = np.load(tmp_path / "y.npy")
    onnx_probs = recognizer.predict_faces(faces)
    assert keras_probs.shape == onnx_probs.shape == (len(faces), 7)
    # The ONNX graph adds only its calibration temperature (training.calibrate) to the Keras model.
    temperature = built_in_temperature(recognizer.model_path)
    assert np.abs(apply_temperature(keras_probs, temperature) - onnx_probs).max() < 1e-4
