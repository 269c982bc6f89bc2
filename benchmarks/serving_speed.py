"""Time candidate CNN sizes as they would be served: exported to ONNX, quantised to int8.

    python -m benchmarks.serving_speed
Untrained weights and random calibration faces: the speed of an int8 graph does not depend
on its weight values, so this picks an architecture before paying for its training.
Prints params, multiply-adds per face and int8 ms/face at batch 64 (2 threads).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from fer_core.labels import INPUT_SIZE  # noqa: E402
from fer_core.model import build_cnn  # noqa: E402
from fer_core.preprocess import to_model_input  # noqa: E402
from training.export import export_onnx  # noqa: E402
from training.quantize import quantize  # noqa: E402

#: (widths, convolutions per block): the first is the accurate model, the third the fast one.
CANDIDATES: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
    ((32, 64, 128, 256), (1, 2, 3, 3)),
    ((32, 64, 128, 256), (1, 1, 2, 2)),
    ((16, 48, 96, 192), (1, 2, 2, 2)),
    ((16, 32, 96, 192), (1, 2, 2, 2)),
    ((16, 48, 128, 256), (1, 1, 2, 2)),
    ((16, 32, 64, 128), (1, 2, 3, 3)),
    ((24, 48, 96, 192), (1, 2, 3, 3)),
]


def multiply_adds(widths: tuple[int, ...], convs_per_block: tuple[int, ...]) -> int:
    total, side, channels = 0, INPUT_SIZE, 1
    for filters, n in zip(widths, convs_per_block):
        for _ in range(n):
            total += side * side * 9 * channels * filters
            channels = filters
        side //= 2
    return total + side * side * channels * 256 + 256 * 7


def int8_ms_per_face(model_path: Path, batch: int, seconds: float) -> float:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    x = to_model_input(np.random.default_rng(0).integers(0, 256, (batch, INPUT_SIZE, INPUT_SIZE), np.uint8))
    for _ in range(5):
        session.run(None, {name: x})
    times, start = [], time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        session.run(None, {name: x})
        times.append(time.perf_counter() - t)
    return float(np.median(times)) / batch * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    faces = np.random.default_rng(1).integers(0, 256, (256, INPUT_SIZE, INPUT_SIZE), np.uint8)
    print("| widths, convolutions per block | params | M multiply-adds/face | int8 ms/face batch 64 |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for widths, convs in CANDIDATES:
            model = build_cnn(widths=widths, convs_per_block=convs)
            name = f"{'-'.join(map(str, widths))}, {'-'.join(map(str, convs))}"
            fp32, int8 = Path(tmp) / "m.onnx", Path(tmp) / "m.int8.onnx"
            export_onnx(model, fp32)
            quantize(fp32, int8, faces)
            ms = int8_ms_per_face(int8, args.batch, args.seconds)
            macs = multiply_adds(widths, convs) / 1e6
            print(f"| {name} | {model.count_params():,} | {macs:.0f} | {ms:.3f} |", flush=True)


if __name__ == "__main__":
    main()
