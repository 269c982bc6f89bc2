"""One preprocessing path: training faces and detected faces reach the model the same way."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_core.preprocess import crop_square, face_to_uint8, square_crop_box, to_model_input
from tests.photos import portrait


def test_training_face_passes_through_unchanged() -> None:
    face = np.random.default_rng(0).integers(0, 256, (48, 48), dtype=np.uint8)
    np.testing.assert_array_equal(face_to_uint8(face), face)
    x = to_model_input(face[None])
    assert x.shape == (1, 48, 48, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0], face / 255.0, atol=1e-7)


def test_face_in_a_photo_reaches_the_same_input_as_the_training_crop() -> None:
    """A 48x48 face enlarged 4x into a photo, cropped at its box, gives back the same face."""
    gray = cv2.cvtColor(portrait(), cv2.COLOR_RGB2GRAY)
    face = cv2.resize(gray, (48, 48), interpolation=cv2.INTER_AREA)
    photo = np.full((600, 800), 90, np.uint8)
    photo[100:292, 300:492] = cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)
    rgb_photo = np.dstack([photo] * 3)
    served = face_to_uint8(rgb_photo, box=(300, 100, 192, 192), margin=0.0)
    assert np.abs(served.astype(int) - face.astype(int)).mean() < 3.0
    difference = np.abs(to_model_input(served[None]) - to_model_input(face[None]))
    assert difference.mean() < 0.012 and difference.max() < 0.15  # resampling noise only


def test_square_box_grows_by_margin_around_the_centre() -> None:
    assert square_crop_box((100, 100, 40, 60), margin=0.0) == (90, 100, 60, 60)
    x, y, w, h = square_crop_box((100, 100, 40, 60), margin=0.25)
    assert w == h == 90 and (x + w / 2, y + h / 2) == (120, 130)


def test_crop_beyond_the_image_edge_replicates_border() -> None:
    gray = np.arange(100, dtype=np.uint8).reshape(10, 10)
    crop = crop_square(gray, (-3, -3, 6, 6))
    assert crop.shape == (6, 6)
    assert crop[0, 0] == gray[0, 0] and crop[3, 3] == gray[0, 0] and crop[5, 5] == gray[2, 2]


@pytest.mark.parametrize(
    "faces",
    [np.zeros((2, 48, 48), np.float32), np.zeros((2, 64, 64), np.uint8), np.zeros((48, 48), np.uint8)],
)
def test_model_input_rejects_wrong_dtype_and_shape(faces: np.ndarray) -> None:
    with pytest.raises(ValueError, match="faces must"):
        to_model_input(faces)
