"""Checkpoints of the served CNN's size fit in git (< 10 MB a file) and restore the run exactly."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MAX_FILE_BYTES = 10 * 1000 * 1000


def _trained_model(seed: int):
    import keras

    from training.train import TrainConfig, compile_model

    keras.utils.set_random_seed(seed)
    model = compile_model(TrainConfig(epochs=2, precision="float32"), steps_per_epoch=10)
    rng = np.random.default_rng(seed)
    x = rng.random((16, 48, 48, 1), dtype=np.float32)
    y = np.eye(7, dtype=np.float32)[rng.integers(0, 7, 16)]
    for _ in range(3):
        model.train_on_batch(x, y)
    return model


def test_checkpoint_of_the_served_architecture_is_small_and_restores(tmp_path: Path) -> None:
    from training.checkpoint import checkpoint_state, restore_checkpoint, save_checkpoint

    model = _trained_model(0)
    assert model.count_params() > 2_000_000  # the served CNN's size, not a toy
    folder = save_checkpoint(tmp_path, model, {"epoch": 1, "step": 3})
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    # ~10.0 MB of float32 weights and of bfloat16 slots (two per weight): two files of each
    assert set(sizes) == {"weights.npz", "weights-1.npz", "optimizer.npz", "optimizer-1.npz", "state.json"}
    assert max(sizes.values()) < MAX_FILE_BYTES, sizes

    fresh = _trained_model(1)  # different weights and slots until restored
    assert not np.allclose(fresh.weights[0].numpy(), model.weights[0].numpy())
    state = restore_checkpoint(tmp_path, fresh)
    assert state == {"epoch": 1, "step": 3} == checkpoint_state(tmp_path)
    for saved, restored in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(saved.numpy(), restored.numpy())  # weights exact
    assert int(fresh.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 3
    for saved, restored in zip(model.optimizer.variables, fresh.optimizer.variables):
        a, b = np.asarray(saved.numpy(), np.float64), np.asarray(restored.numpy(), np.float64)
        np.testing.assert_allclose(b, a, rtol=1e-2, atol=1e-30)  # moments to bfloat16's 3 digits


def test_a_save_killed_between_renames_keeps_the_previous_checkpoint(tmp_path: Path) -> None:
    from training.checkpoint import checkpoint_state

    old = tmp_path / "checkpoint.old"
    old.mkdir()
    (old / "state.json").write_text('{"epoch": 4, "step": 0}')
    assert checkpoint_state(tmp_path) == {"epoch": 4, "step": 0}
    assert (tmp_path / "checkpoint" / "state.json").exists() and not old.exists()


def test_arrays_are_split_into_files_under_the_limit_and_stale_parts_removed(tmp_path: Path) -> None:
    from training.checkpoint import MAX_PART_BYTES, load_arrays, save_arrays

    rng = np.random.default_rng(0)
    third = MAX_PART_BYTES // 3 // 4  # float32 values filling a third of a file
    arrays = {f"a{i}": rng.standard_normal(third).astype(np.float32) for i in range(7)}
    path = tmp_path / "best.weights.npz"
    save_arrays(path, arrays)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best.weights-1.npz", "best.weights-2.npz", "best.weights.npz"]  # 3 + 3 + 1
    assert all(p.stat().st_size < MAX_FILE_BYTES for p in tmp_path.iterdir())
    loaded = load_arrays(path)
    assert list(loaded) == list(arrays)
    for key, value in arrays.items():
        np.testing.assert_array_equal(loaded[key], value)

    save_arrays(path, {"a0": arrays["a0"]})  # a smaller save leaves no part of the larger one behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.weights.npz"]
    assert list(load_arrays(path)) == ["a0"]
    with pytest.raises(ValueError, match="more than one file may hold"):
        save_arrays(path, {"huge": np.zeros(MAX_PART_BYTES // 4 + 1, np.float32)})
