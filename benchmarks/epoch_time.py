"""Time training steps of candidate CNN sizes (float32 vs bfloat16) to choose one that fits.

    python -m benchmarks.epoch_time --steps 30
Prints seconds per epoch of 28,709 faces for each candidate.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from fer_core.labels import INPUT_SIZE, NUM_CLASSES  # noqa: E402
from fer_core.model import build_cnn  # noqa: E402

CANDIDATES = {
    "w32-64-128-256 x2": dict(widths=(32, 64, 128, 256), convs_per_block=(2, 2, 2, 2)),
    "w48-96-192-384 x2": dict(widths=(48, 96, 192, 384), convs_per_block=(2, 2, 2, 2)),
    "w64-128-256-512 x2": dict(widths=(64, 128, 256, 512), convs_per_block=(2, 2, 2, 2)),
    "w64-128-256-512 x2 separable": dict(
        widths=(64, 128, 256, 512), convs_per_block=(2, 2, 2, 2), separable=True
    ),
    "w32-64-128-256 x1,2,3,3": dict(widths=(32, 64, 128, 256), convs_per_block=(1, 2, 3, 3)),
}


def time_candidate(kwargs: dict, policy: str, steps: int, batch: int) -> float:
    keras.mixed_precision.set_global_policy(policy)
    model = build_cnn(**kwargs)
    model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
    x = np.random.rand(batch, INPUT_SIZE, INPUT_SIZE, 1).astype("float32")
    y = keras.utils.to_categorical(np.random.randint(0, NUM_CLASSES, batch), NUM_CLASSES)
    for _ in range(3):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    per_step = (time.perf_counter() - start) / steps
    return per_step * 28709 / batch, model.count_params()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--policies", default="float32,mixed_bfloat16")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    print(f"{'candidate':28s} {'policy':16s} {'params':>9s} {'s/epoch':>8s}")
    for name, kwargs in CANDIDATES.items():
        if args.only and args.only not in name:
            continue
        for policy in args.policies.split(","):
            seconds, params = time_candidate(kwargs, policy, args.steps, args.batch)
            print(f"{name:28s} {policy:16s} {params:9,d} {seconds:8.1f}", flush=True)


if __name__ == "__main__":
    main()
