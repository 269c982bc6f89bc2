"""Shared fixtures: the FER2013 copy (when present), the committed recognizer, test photos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fer_core.config import CACHE_DIR, FER2013_PATH, ONNX_MODEL_PATH
from fer_core.data import FaceDataset, load_fer2013


@pytest.fixture(scope="session")
def fer2013_path() -> Path:
    """The dataset beside the repo; tests needing it skip on a user's fresh clone, never in CI."""
    if not FER2013_PATH.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have FER2013 at {FER2013_PATH}")
        pytest.skip(f"FER2013 not found at {FER2013_PATH}")
    return FER2013_PATH


@pytest.fixture(scope="session")
def fer2013(fer2013_path: Path) -> FaceDataset:
    return load_fer2013(fer2013_path, CACHE_DIR)


@pytest.fixture(scope="session")
def recognizer():
    from fer_core.recognizer import Recognizer

    assert ONNX_MODEL_PATH.exists(), "the trained model must be committed at models/fer_cnn.onnx"
    return Recognizer()
