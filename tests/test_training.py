"""A tiny end-to-end run of the real CLIs on FER2013: train, interrupt, resume, export, serve.

TensorFlow runs only in child processes, as it does for users (the serving process never loads it).
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.config import PROJECT_ROOT

pytestmark = pytest.mark.dataset


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_train_resume_export_and_serve(fer2013_path: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    train = _cli(
        "training.train",
        "--run-dir",
        str(run_dir),
        "--data",
        str(fer2013_path),
        "--epochs",
        "3",
        "--limit",
        "320",
        "--batch-size",
        "64",
    )
    # Interrupt the run as a user would (kill) once epoch 3 has started, then resume it.
    process = subprocess.Popen(
        train, cwd=PROJECT_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Epoch 3/3"):
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(lines)
    assert len(_history(run_dir)) == 2 and (run_dir / "backup").is_dir()

    resumed = subprocess.run(train, cwd=PROJECT_ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Epoch 1/3" not in resumed.stdout and "Epoch 3/3" in resumed.stdout
    history = _history(run_dir)
    assert [row["epoch"] for row in history] == ["0", "1", "2"]
    assert all(0.0 <= float(row["val_accuracy"]) <= 1.0 for row in history)

    keras_out, onnx_out = tmp_path / "m.keras", tmp_path / "m.onnx"
    exported = subprocess.run(
        _cli(
            "training.export",
            "--run-dir",
            str(run_dir),
            "--keras-out",
            str(keras_out),
            "--onnx-out",
            str(onnx_out),
        ),
        cwd=PROJECT_ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr

    from fer_core.recognizer import Recognizer

    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    probabilities = Recognizer(onnx_out).predict_faces(faces)
    assert probabilities.shape == (4, 7)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
