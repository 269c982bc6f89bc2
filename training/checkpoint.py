"""A training run's resumable state in small files a session can commit.

    checkpoint/weights.npz     every model variable in float32 (BN statistics included)
    checkpoint/optimizer.npz   the optimizer's slots in bfloat16, its step counter exact
    checkpoint/state.json      where the run stands: epoch, step within it, best score, wall time

Each file stays under 10 MB for the committed CNN (2.5M parameters: 9.5 MiB + 9.5 MiB), so a run
spread over several sessions travels in git. The folder is replaced atomically (written aside, then
renamed), so a run killed while saving keeps the previous checkpoint.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import keras
import numpy as np

CHECKPOINT_DIR = "checkpoint"
_BF16_TAG = "bf16:"


def _to_bfloat16_bits(array: np.ndarray) -> np.ndarray:
    """float32 -> the upper 16 bits, rounded to nearest even (what bfloat16 keeps)."""
    bits = np.ascontiguousarray(array, dtype=np.float32).view(np.uint32)
    rounding = ((bits >> 16) & 1) + 0x7FFF
    return ((bits + rounding) >> 16).astype(np.uint16)


def _from_bfloat16_bits(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def save_checkpoint(run_dir: Path, model: keras.Model, state: dict[str, Any]) -> Path:
    """Write weights, optimizer slots and `state` to run_dir/checkpoint, replacing the previous one."""
    final = run_dir / CHECKPOINT_DIR
    scratch = run_dir / f"{CHECKPOINT_DIR}.saving"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    weights = {f"w{i}": np.asarray(v.numpy(), np.float32) for i, v in enumerate(model.weights)}
    np.savez_compressed(scratch / "weights.npz", **weights)
    slots = {}
    for i, variable in enumerate(model.optimizer.variables):
        value = np.asarray(variable.numpy())
        if value.dtype.kind == "f" and value.size > 1:
            slots[f"{_BF16_TAG}{i}"] = _to_bfloat16_bits(value)
        else:  # the step counter and scalars stay exact
            slots[f"v{i}"] = value
    np.savez_compressed(scratch / "optimizer.npz", **slots)
    (scratch / "state.json").write_text(json.dumps(state, indent=2))
    old = run_dir / f"{CHECKPOINT_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    scratch.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def checkpoint_state(run_dir: Path) -> dict[str, Any] | None:
    """The saved state of the run in run_dir, or None when it has no checkpoint."""
    path = run_dir / CHECKPOINT_DIR / "state.json"
    if not path.exists() and (run_dir / f"{CHECKPOINT_DIR}.old" / "state.json").exists():
        # Killed between the two renames of a save: the previous checkpoint is whole.
        (run_dir / f"{CHECKPOINT_DIR}.old").rename(run_dir / CHECKPOINT_DIR)
    return json.loads(path.read_text()) if path.exists() else None


def restore_checkpoint(run_dir: Path, model: keras.Model) -> dict[str, Any]:
    """Load weights and optimizer slots into a compiled model; returns the saved state."""
    state = checkpoint_state(run_dir)
    if state is None:
        raise FileNotFoundError(f"no checkpoint in {run_dir}")
    folder = run_dir / CHECKPOINT_DIR
    with np.load(folder / "weights.npz") as saved:
        for i, variable in enumerate(model.weights):
            variable.assign(saved[f"w{i}"].astype(variable.dtype))
    model.optimizer.build(model.trainable_variables)
    with np.load(folder / "optimizer.npz") as saved:
        for i, variable in enumerate(model.optimizer.variables):
            if f"{_BF16_TAG}{i}" in saved:
                variable.assign(_from_bfloat16_bits(saved[f"{_BF16_TAG}{i}"]).astype(variable.dtype))
            else:
                variable.assign(saved[f"v{i}"])
    return state


def save_weights(path: Path, model: keras.Model) -> None:
    """The model's variables alone in float32 (the best epoch so far; under 10 MB)."""
    tmp = path.with_suffix(".saving.npz")
    np.savez_compressed(
        tmp, **{f"w{i}": np.asarray(v.numpy(), np.float32) for i, v in enumerate(model.weights)}
    )
    tmp.replace(path)


def load_weights(path: Path, model: keras.Model) -> None:
    with np.load(path) as saved:
        for i, variable in enumerate(model.weights):
            variable.assign(saved[f"w{i}"].astype(variable.dtype))
