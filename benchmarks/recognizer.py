"""Per-face latency and throughput of the default served model, and its accuracy table.

    python -m benchmarks.recognizer [--repeats 200]
Latency is classification only (48x48 faces in, probabilities out) through ONNX Runtime; the
accuracy table (against FER2013's labels and the FER+ majority) is recomputed on FER2013 and FER+
when present, else read from models/metrics.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from fer_core.config import (
    CACHE_DIR,
    DEFAULT_SERVED_MODEL,
    FER2013_PATH,
    FERPLUS_PATH,
    METRICS_PATH,
    served_model_path,
)
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


def accuracy_table(model_path: Path) -> dict:
    """Figures per split and label set (FER2013 label, FER+ majority): recomputed when FER2013 and
    FER+ are present, else the default served model's from models/metrics.json (no flip-TTA rows)."""
    if FER2013_PATH.exists() and FERPLUS_PATH.exists():
        from fer_core.data import load_fer2013, load_ferplus
        from training.evaluate import LABEL_SETS, labelled_rows, split_metrics

        data, votes = load_fer2013(FER2013_PATH, CACHE_DIR), load_ferplus(FERPLUS_PATH)
        plain = Recognizer(model_path).predict_faces(data.images)
        tta = Recognizer(model_path, tta=True).predict_faces(data.images)
        table = {}
        for split in ("PrivateTest", "PublicTest"):
            for label_set in LABEL_SETS:
                rows, labels = labelled_rows(data, votes, split, label_set)
                table[f"{split} vs {label_set}"] = split_metrics(labels, plain[rows])
                table[f"{split} vs {label_set} +flip-TTA"] = split_metrics(labels, tta[rows])
        return table
    model = json.loads(METRICS_PATH.read_text())["models"][DEFAULT_SERVED_MODEL]
    return {
        f"{split} vs {label_set}": figures
        for split, by_labels in model["splits"].items()
        for label_set, figures in by_labels.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument(
        "--threads", type=int, default=0, help="ONNX Runtime intra-op threads (0 = all cores)"
    )
    args = parser.parse_args()
    path = served_model_path()
    print(f"{path.name} (the default served model)")
    recognizer = Recognizer(path, threads=args.threads)
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
    table = accuracy_table(path)
    print(
        "| split vs labels (fer2013: FER2013 label; ferplus: FER+ majority) | accuracy | macro-F1 | "
        + " | ".join(f"F1 {e}" for e in EMOTIONS)
        + " |"
    )
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
