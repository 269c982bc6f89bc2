"""Per-face latency and throughput of the committed recognizer, and its accuracy table.

    python -m benchmarks.recognizer [--repeats 200]
Latency is classification only (48x48 faces in, probabilities out) through ONNX Runtime;
the accuracy table is recomputed on FER2013 when present, else read from models/metrics.json.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from fer_core.config import CACHE_DIR, FER2013_PATH, METRICS_PATH
from fer_core.labels import EMOTIONS
from fer_core.recognizer import Recognizer


def time_batches(recognizer: Recognizer, batch: int, repeats: int) -> np.ndarray:
    """Seconds per call for `repeats` calls at the given batch size (after warm-up)."""
    faces = np.random.default_rng(0).integers(0, 256, (batch, 48, 48), dtype=np.uint8)
    for _ in range(10):
        recognizer.predict_faces(faces)
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        recognizer.predict_faces(faces)
        times[i] = time.perf_counter() - start
    return times


def accuracy_table() -> dict:
    if FER2013_PATH.exists():
        from fer_core.data import load_fer2013
        from training.evaluate import split_metrics

        data = load_fer2013(FER2013_PATH, CACHE_DIR)
        plain, tta = Recognizer(), Recognizer(tta=True)
        table = {}
        for split in ("PrivateTest", "PublicTest"):
            subset = data.subset(split)
            table[split] = split_metrics(subset.labels, plain.predict_faces(subset.images))
            table[split + " +flip-TTA"] = split_metrics(subset.labels, tta.predict_faces(subset.images))
        return table
    metrics = json.loads(METRICS_PATH.read_text())
    table = dict(metrics["splits"])
    table.update({f"{k} +flip-TTA": v for k, v in metrics["flip_tta"].items()})
    return table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = all cores)"
    )
    args = parser.parse_args()
    recognizer = Recognizer(threads=args.threads)
    print("| batch | ms per call (median) | ms per face | p95 ms per face | faces/s |")
    print("|---:|---:|---:|---:|---:|")
    for batch in (1, 64):
        times = time_batches(recognizer, batch, args.repeats if batch == 1 else max(20, args.repeats // 4))
        per_face = times / batch
        print(
            f"| {batch} | {np.median(times) * 1e3:.2f} | {np.median(per_face) * 1e3:.3f} | "
            f"{np.percentile(per_face, 95) * 1e3:.3f} | {batch / np.median(times):,.0f} |"
        )
    print()
    table = accuracy_table()
    print("| FER2013 split | accuracy | macro-F1 | " + " | ".join(f"F1 {e}" for e in EMOTIONS) + " |")
    print("|---|---:|---:|" + "---:|" * len(EMOTIONS))
    for split, m in table.items():
        per_class = m.get("per_class")
        f1s = (
            " | ".join(f"{per_class[e]['f1-score']:.3f}" for e in EMOTIONS)
            if per_class
            else " | ".join("-" * 7)
        )
        print(f"| {split} | {m['accuracy']:.4f} | {m['macro_f1']:.4f} | {f1s} |")


if __name__ == "__main__":
    main()
