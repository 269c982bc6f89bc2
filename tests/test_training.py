"""A tiny end-to-end run of the real CLIs on FER2013: train, interrupt, resume, export, serve.

TensorFlow runs only in child processes, as it does for users (the serving process never loads it).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_core.config import PROJECT_ROOT
from fer_core.data import FaceDataset

pytestmark = pytest.mark.dataset


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _run_cli(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        _cli(*args), cwd=PROJECT_ROOT, env=_env(), capture_output=True, text=True, timeout=timeout
    )


def _history(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "history.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _log(run_dir: Path) -> list[dict[str, str]]:
    with open(run_dir / "log.csv", newline="") as handle:
        return list(csv.DictReader(handle))


#: Child process (TensorFlow never loads into the test process): the exported Keras model's
#: probabilities for argv[2]'s model inputs, and the largest weight difference from argv[4] (the
#: run's trained model) when given.
_KERAS_PREDICT = """
import sys, numpy as np, keras
exported = keras.models.load_model(sys.argv[1], compile=False)
np.save(sys.argv[3], exported.predict_on_batch(np.load(sys.argv[2])))
trained = keras.models.load_model(sys.argv[4], compile=False)
pairs = zip(trained.get_weights(), exported.get_weights(), strict=True)
print(max(float(np.abs(np.float32(a) - np.float32(b)).max()) for a, b in pairs))
"""


def assert_onnx_reproduces_keras(onnx_out: Path, keras_out: Path, trained: Path, faces: np.ndarray) -> None:
    """The export is this run's model: the Keras file training.export wrote holds the trained
    weights, and the ONNX graph gives its probabilities on real faces within 1e-4."""
    from fer_core.preprocess import to_model_input
    from fer_core.recognizer import Recognizer

    x, y = keras_out.with_suffix(".x.npy"), keras_out.with_suffix(".y.npy")
    np.save(x, to_model_input(faces))
    child = subprocess.run(
        [sys.executable, "-c", _KERAS_PREDICT, str(keras_out), str(x), str(y), str(trained)],
        cwd=PROJECT_ROOT, env=_env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert child.returncode == 0, child.stdout + child.stderr
    assert float(child.stdout.split()[-1]) == 0.0  # the trained weights, unchanged
    keras_probs, onnx_probs = np.load(y), Recognizer(onnx_out).predict_faces(faces)
    assert keras_probs.shape == onnx_probs.shape == (len(faces), 7)
    assert np.abs(keras_probs - onnx_probs).max() < 1e-4


def test_sigterm_then_resume_ends_like_an_uninterrupted_run(
    fer2013_path: Path, fer2013: FaceDataset, tmp_path: Path
) -> None:
    """A run stopped by SIGTERM saves a checkpoint and exits; the same command resumes it at the same
    step with the same batches and learning-rate schedule, and the loss carries on where it was."""
    common = ["--data", str(fer2013_path), "--labels", "ferplus", "--epochs", "3", "--limit", "960"]
    common += ["--batch-size", "64", "--log-every", "1", "--val", "publictest", "--precision", "float32"]
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    done = _run_cli("training.train", "--run-dir", str(straight), *common)
    assert done.returncode == 0, done.stdout + done.stderr

    train = _cli("training.train", "--run-dir", str(interrupted), *common)
    process = subprocess.Popen(
        train, cwd=PROJECT_ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Epoch 2/3"):
            process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    output = "".join(lines)
    assert process.returncode == 0 and "stopped by signal 15 at epoch 2" in output, output
    assert "Epoch 3/3" not in output
    state = json.loads((interrupted / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 1 and 1 <= state["step"] < 15
    stopped_at = 15 + state["step"]
    assert [int(r["global_step"]) for r in _log(interrupted)] == list(range(1, stopped_at + 1))

    resumed = _run_cli(*train[2:])
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resuming at epoch 2, step {state['step']} of 15" in resumed.stdout
    assert "Epoch 1/3" not in resumed.stdout and "Epoch 3/3" in resumed.stdout

    # Same end: every step logged once, same step count, same schedule position and learning rate.
    log_a, log_b = _log(straight), _log(interrupted)
    assert (
        [int(r["global_step"]) for r in log_b] == [int(r["global_step"]) for r in log_a] == list(range(1, 46))
    )
    np.testing.assert_allclose([float(r["lr"]) for r in log_b], [float(r["lr"]) for r in log_a], rtol=1e-6)
    assert [r["epoch"] for r in _history(interrupted)] == ["0", "1", "2"]
    end_a = json.loads((straight / "checkpoint" / "state.json").read_text())
    end_b = json.loads((interrupted / "checkpoint" / "state.json").read_text())
    assert (end_b["epoch"], end_b["step"]) == (end_a["epoch"], end_a["step"]) == (3, 0)
    # The loss continues: the resumed steps see the same batches from the restored weights, so
    # their losses follow the uninterrupted run's (dropout differs), not a fresh start's.
    after = slice(stopped_at, None)
    loss_a = np.array([float(r["loss"]) for r in log_a])
    loss_b = np.array([float(r["loss"]) for r in log_b])
    assert abs(loss_b[after].mean() - loss_a[after].mean()) < 0.1 * loss_a[after].mean()
    assert loss_b[after].mean() < loss_b[0] and loss_a[after].mean() < loss_a[0]

    keras_out, onnx_out = tmp_path / "m.keras", tmp_path / "m.onnx"
    exported = _run_cli(
        "training.export",
        "--run-dir",
        str(interrupted),
        "--keras-out",
        str(keras_out),
        "--onnx-out",
        str(onnx_out),
        "--model-id",
        "test-v0",
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr

    from fer_core.recognizer import Recognizer

    faces = np.random.default_rng(0).integers(0, 256, (4, 48, 48), dtype=np.uint8)
    recognizer = Recognizer(onnx_out)
    probabilities = recognizer.predict_faces(faces)
    assert probabilities.shape == (4, 7) and recognizer.model_id == "test-v0"
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    real_faces = fer2013.subset("PrivateTest").images[:64]
    assert_onnx_reproduces_keras(onnx_out, keras_out, interrupted / "best.keras", real_faces)


def test_distil_a_smaller_student_from_the_committed_model(
    fer2013_path: Path, fer2013: FaceDataset, tmp_path: Path
) -> None:
    import onnx
    from onnx import numpy_helper

    from fer_core.config import INT8_MODEL_PATH
    from fer_core.recognizer import Recognizer

    run_dir, onnx_out = tmp_path / "student", tmp_path / "student.onnx"
    args = ["--run-dir", str(run_dir), "--data", str(fer2013_path), "--epochs", "1", "--limit", "256"]
    args += ["--widths", "8", "16", "--convs", "1", "1", "--teacher", str(INT8_MODEL_PATH)]
    args += ["--mixup-alpha", "0.4"]  # the teacher labels the blended faces
    trained = _run_cli("training.train", *args)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    config = json.loads((run_dir / "config.json").read_text())
    assert config["teacher"] == str(INT8_MODEL_PATH) and config["widths"] == [8, 16]
    assert config["mixup_alpha"] == 0.4

    exported = _run_cli(
        "training.export",
        "--run-dir",
        str(run_dir),
        "--keras-out",
        str(tmp_path / "s.keras"),
        "--onnx-out",
        str(onnx_out),
    )
    assert exported.returncode == 0, exported.stdout + exported.stderr
    kernels = [
        numpy_helper.to_array(t).shape for t in onnx.load(str(onnx_out)).graph.initializer if len(t.dims) == 4
    ]
    assert sorted(shape[0] for shape in kernels) == [8, 16]  # the student's two convolutions
    assert Recognizer(onnx_out).predict_faces(np.zeros((2, 48, 48), np.uint8)).shape == (2, 7)
    assert_onnx_reproduces_keras(
        onnx_out, tmp_path / "s.keras", run_dir / "best.keras", fer2013.subset("PrivateTest").images[:64]
    )

    # An ensemble of the student with itself: since the mean of two equal logit vectors is that
    # vector (a sum would sharpen the softmax), exactly the student's probabilities.
    ensemble_onnx, record = tmp_path / "ensemble.onnx", tmp_path / "ensemble.json"
    member = str(run_dir / "best.keras")
    built = _run_cli(
        "training.ensemble", "--members", member, member, "--keras-out", str(tmp_path / "e.keras"),
        "--onnx-out", str(ensemble_onnx), "--record-out", str(record),
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    graph = onnx.load(str(ensemble_onnx)).graph
    assert [n.op_type for n in graph.node].count("Softmax") == 1  # one softmax: one temperature fits
    faces = np.random.default_rng(1).integers(0, 256, (16, 48, 48), dtype=np.uint8)
    np.testing.assert_allclose(
        Recognizer(ensemble_onnx).predict_faces(faces), Recognizer(onnx_out).predict_faces(faces), atol=1e-5
    )
    members = json.loads(record.read_text())["members"]
    assert [m["run"] for m in members] == [str(run_dir)] * 2
    assert (members[0]["epochs"], members[0]["epochs_run"]) == (1, 1)


def test_widths_and_convs_must_pair_up(tmp_path: Path) -> None:
    result = _run_cli(
        "training.train", "--run-dir", str(tmp_path / "r"), "--widths", "8", "16", "--convs", "1"
    )
    assert result.returncode == 2 and "one number per block" in result.stderr


def test_a_separable_network_trains_exports_and_serves_the_same(
    fer2013_path: Path, fer2013: FaceDataset, tmp_path: Path
) -> None:
    import onnx

    run_dir, onnx_out, keras_out = tmp_path / "sep", tmp_path / "sep.onnx", tmp_path / "sep.keras"
    args = ["--run-dir", str(run_dir), "--data", str(fer2013_path), "--epochs", "1", "--limit", "256"]
    trained = _run_cli("training.train", *args, "--widths", "8", "16", "--convs", "2", "1", "--separable")
    assert trained.returncode == 0, trained.stdout + trained.stderr
    assert json.loads((run_dir / "config.json").read_text())["separable"] is True

    outputs = ["--keras-out", str(keras_out), "--onnx-out", str(onnx_out)]
    exported = _run_cli("training.export", "--run-dir", str(run_dir), *outputs)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    # Every convolution after the first is depthwise (one group per channel) then pointwise.
    groups = [
        attribute.i
        for node in onnx.load(str(onnx_out)).graph.node
        if node.op_type == "Conv"
        for attribute in node.attribute
        if attribute.name == "group" and attribute.i > 1
    ]
    assert sorted(groups) == [8, 8], groups  # b1c2 and b2c1 depthwise over their 8 input channels
    assert_onnx_reproduces_keras(
        onnx_out, keras_out, run_dir / "best.keras", fer2013.subset("PrivateTest").images[:64]
    )
