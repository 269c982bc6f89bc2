"""Shared fixtures: the FER2013 copy (when present), the committed recognizer, test photos, and
`db_url`: each test once on a SQLite file and once on PostgreSQL.

PostgreSQL runs read CAMPUS_FER_TEST_POSTGRES_URL (scripts/start_postgres.sh exports it); each
test gets a fresh schema that is dropped afterwards. Without the variable they skip locally and
fail in CI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.engine import scratch_postgres_schema
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


POSTGRES_URL_ENV = "CAMPUS_FER_TEST_POSTGRES_URL"


def _postgres_base_url() -> str:
    url = os.environ.get(POSTGRES_URL_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_URL_ENV} must be set in CI (source scripts/start_postgres.sh)")
        pytest.skip(f"{POSTGRES_URL_ENV} not set (source scripts/start_postgres.sh)")
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database: a SQLite file in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'campus_fer.sqlite3'}"
        return
    with scratch_postgres_schema(_postgres_base_url(), prefix="test") as url:
        yield url
