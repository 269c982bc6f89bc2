"""Should a trained candidate replace the served model? Its readings beside the served model's.

    python -m benchmarks.candidate /tmp/pkd/pkd.int8.onnx
    python -m benchmarks.candidate /tmp/a.int8.onnx /tmp/b.int8.onnx --splits PublicTest PrivateTest

A new model restarts every campus's wellbeing baseline, so a candidate is served only if it passes
the serve rule in docs/model-experiments.md (agreement above the served model's on PublicTest, the
selection split, and readings close to the FER+ raters'). This prints the figures the rule reads,
computed as `training.evaluate` computes them, for the served model and each candidate. PublicTest
only by default: PrivateTest is the test set, to be read once, after the choice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH, served_model_path
from fer_core.data import load_fer2013, load_ferplus
from fer_core.recognizer import Recognizer
from training.evaluate import affect_bias, labelled_rows, split_metrics
from training.resolution import resolution_curve

SMALL_SIDE = 16
RECALLED: tuple[str, ...] = ("angry", "fear", "sad")


def readings(path: Path, faces: np.ndarray, labels: np.ndarray) -> dict[str, str]:
    """The serve-or-not figures of one model on one split, as printable cells."""
    predict = Recognizer(path).predict_faces
    probabilities = predict(faces)
    metrics = split_metrics(labels, probabilities)
    bias = affect_bias(labels, probabilities.argmax(axis=1))
    small = resolution_curve(predict, faces, labels, sides=(SMALL_SIDE,))[0]
    recall = " / ".join(f"{metrics['per_class'][name]['recall']:.1%}" for name in RECALLED)
    return {
        "agreement with the FER+ majority": f"{metrics['accuracy']:.2%}",
        "macro-F1": f"{metrics['macro_f1']:.3f}",
        "negative share read (raters)": (
            f"{bias['negative_share_predicted']:.1%} ({bias['negative_share_labelled']:.1%})"
        ),
        "raters' neutral read sad or angry": f"{bias['neutral_read_sad_or_angry']:.1%}",
        f"recall {' / '.join(RECALLED)}": recall,
        f"{SMALL_SIDE} px: agreement": f"{small['accuracy']:.2%}",
        f"{SMALL_SIDE} px: negative share read (raters)": (
            f"{small['predicted_negative_share']:.1%} ({small['true_negative_share']:.1%})"
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("candidates", type=Path, nargs="+", help="ONNX exports (int8, as served)")
    parser.add_argument("--served", type=Path, default=served_model_path())
    parser.add_argument("--splits", nargs="+", default=["PublicTest"], choices=["PublicTest", "PrivateTest"])
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--ferplus", type=Path, default=FERPLUS_PATH)
    args = parser.parse_args()
    data = load_fer2013(args.data, CACHE_DIR)
    votes = load_ferplus(args.ferplus)
    models = [args.served, *args.candidates]
    for split in args.splits:
        rows, labels = labelled_rows(data, votes, split, "ferplus")
        table = {path: readings(path, data.images[rows], labels) for path in models}
        print(f"\n{split}, {len(rows)} faces with a FER+ majority; int8 as given, one run")
        print("| | " + " | ".join(f"`{path.name}`" for path in models) + " |")
        print("|---|" + "---:|" * len(models))
        for figure in table[args.served]:
            print(f"| {figure} | " + " | ".join(table[path][figure] for path in models) + " |", flush=True)


if __name__ == "__main__":
    main()
