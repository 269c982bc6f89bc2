"""A training run's resumable state in small files a session can commit.

    checkpoint/weights.npz     every model variable in float32 (BN statistics included)
    checkpoint/optimizer.npz   the optimizer's slots in bfloat16, its step counter exact
    checkpoint/state.json      where the run stands: epoch, step within it, best score, wall time

Each file stays under 10 MB, so a run spread over several sessions travels in git: arrays are
split over `weights.npz`, `weights-1.npz`, ... (likewise the optimizer and best.weights) so that no
file holds more than MAX_PART_BYTES of them (the committed CNN: two files of
each). The folder is replaced atomically (written aside, then renamed), so a run killed while
saving keeps the previous checkpoint.
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
#: The largest file a run writes (what a session may commit).
MAX_FILE_BYTES = 10 * 1000 * 1000
#: Most raw array bytes in one file: room left for the npz headers and deflate's worst case (+0.03%).
MAX_PART_BYTES = MAX_FILE_BYTES - 64 * 1024


def _part_path(path: Path, number: int) -> Path:
    """path itself for the first part, then `<stem>-1.npz`, `<stem>-2.npz`, ..."""
    return path if number == 0 else path.with_name(f"{path.name.removesuffix('.npz')}-{number}.npz")


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write `arrays` to `path` and as many numbered siblings as keep each file under MAX_FILE_BYTES
    (one array larger than that is refused);
    each file is written aside and renamed, and parts left from a larger earlier save are removed."""
    parts: list[dict[str, np.ndarray]] = [{}]
    size = 0
    for key, value in arrays.items():
        if value.nbytes > MAX_PART_BYTES:
            raise ValueError(f"{key}: {value.nbytes:,} bytes, more than one file may hold")
        if parts[-1] and size + value.nbytes > MAX_PART_BYTES:
            parts.append({})
            size = 0
        parts[-1][key] = value
        size += value.nbytes
    for number, part in enumerate(parts):
        final = _part_path(path, number)
        tmp = final.with_name(final.name.removesuffix(".npz") + ".saving.npz")
        np.savez_compressed(tmp, **part)
        tmp.replace(final)
    number = len(parts)
    while _part_path(path, number).exists():
        _part_path(path, number).unlink()
        number += 1


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """Every array saved by save_arrays at `path` (all its parts)."""
    arrays: dict[str, np.ndarray] = {}
    number = 0
    while number == 0 or _part_path(path, number).exists():
        with np.load(_part_path(path, number)) as saved:
            arrays.update({key: saved[key] for key in saved.files})
        number += 1
    return arrays


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
    save_arrays(scratch / "weights.npz", weights)
    slots = {}
    for i, variable in enumerate(model.optimizer.variables):
        value = np.asarray(variable.numpy())
        if value.dtype.kind == "f" and value.size > 1:
            slots[f"{_BF16_TAG}{i}"] = _to_bfloat16_bits(value)
        else:  # the step counter and scalars stay exact
            slots[f"v{i}"] = value
    save_arrays(scratch / "optimizer.npz", slots)
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
    saved = load_arrays(folder / "weights.npz")
    for i, variable in enumerate(model.weights):
        variable.assign(saved[f"w{i}"].astype(variable.dtype))
    model.optimizer.build(model.trainable_variables)
    saved = load_arrays(folder / "optimizer.npz")
    for i, variable in enumerate(model.optimizer.variables):
        if f"{_BF16_TAG}{i}" in saved:
            variable.assign(_from_bfloat16_bits(saved[f"{_BF16_TAG}{i}"]).astype(variable.dtype))
        else:
            variable.assign(saved[f"v{i}"])
    return state


def save_weights(path: Path, model: keras.Model) -> None:
    """The model's variables alone in float32 (the best epoch so far; files under 10 MB)."""
    save_arrays(path, {f"w{i}": np.asarray(v.numpy(), np.float32) for i, v in enumerate(model.weights)})


def load_weights(path: Path, model: keras.Model) -> None:
    saved = load_arrays(path)
    for i, variable in enumerate(model.weights):
        variable.assign(saved[f"w{i}"].astype(variable.dtype))
