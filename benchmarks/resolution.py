"""Agreement and the drift towards negative expressions as faces shrink, for the servable models and others.

    python -m benchmarks.resolution [--models models/ferplus_cnn.int8.onnx other.onnx ...]
FER2013 PrivateTest faces are shrunk to s px and scaled back to 48 (what a small detected face
becomes, `fer_core.preprocess.as_small_face`); every model sees the same faces. Each model is scored
against the FER+ majority (the ten raters' plurality; the common basis that makes models
comparable) and, for a servable export fitted to FER2013's labels, against those labels too
(`fer_core.config.TRAINED_ON`). Prints one table per model and label set, and the readability floor
each model would justify against the labels it was fitted to (training.resolution.readable_floor),
as training.evaluate does.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from fer_core.config import (
    CACHE_DIR,
    FER2013_PATH,
    FERPLUS_PATH,
    SERVABLE_EXPORTS,
    SERVED_MODELS,
    TRAINED_ON,
    served_model_path,
)
from fer_core.data import load_fer2013, load_ferplus
from fer_core.recognizer import Recognizer
from training.resolution import CURVE_SIDES, readable_floor, resolution_curve

TRUTH = {"ferplus": "FER+ majority", "fer2013": "FER2013 label"}


def label_sets(path: Path) -> tuple[str, ...]:
    """The label sets a model is scored against: FER+ always, then its own when it is a servable
    export fitted to another (its floor is measured against the last)."""
    resolved = path.resolve()
    for name, _, export in SERVABLE_EXPORTS:
        if export.resolve() == resolved and TRAINED_ON[name] != "ferplus":
            return ("ferplus", TRAINED_ON[name])
    return ("ferplus",)


def print_table(name: str, label_set: str, curve: list[dict]) -> None:
    print(f"\n{name} against the {TRUTH[label_set]}")
    print("| face crop side | " + " | ".join(f"{row['side']} px" for row in curve) + " |")
    print("|---|" + "---:|" * len(curve))
    print(
        f"| agreement with the {TRUTH[label_set]} | "
        + " | ".join(f"{r['accuracy']:.1%}" for r in curve)
        + " |"
    )
    print("| macro-F1 | " + " | ".join(f"{row['macro_f1']:.3f}" for row in curve) + " |")
    print(
        f"| negative share read (labelled {curve[0]['true_negative_share']:.0%}) | "
        + " | ".join(f"{row['predicted_negative_share']:.0%}" for row in curve)
        + " |"
    )
    print(
        f"| sad share read (labelled {curve[0]['true_sad_share']:.0%}) | "
        + " | ".join(f"{row['predicted_sad_share']:.0%}" for row in curve)
        + " |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    present = [served_model_path(name) for name in SERVED_MODELS if served_model_path(name).exists()]
    parser.add_argument("--models", type=Path, nargs="+", default=present)
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--ferplus", type=Path, default=FERPLUS_PATH)
    args = parser.parse_args()
    data = load_fer2013(args.data, CACHE_DIR)
    votes = load_ferplus(args.ferplus)
    in_split = data.splits == "PrivateTest"
    rows = {"fer2013": np.flatnonzero(in_split), "ferplus": np.flatnonzero(in_split & votes.usable)}
    labels = {"fer2013": data.labels[rows["fer2013"]], "ferplus": votes.majority[rows["ferplus"]]}
    print(
        f"FER2013 PrivateTest: {len(rows['fer2013'])} faces, {len(rows['ferplus'])} with a FER+ majority; "
        f"crop sides {list(CURVE_SIDES)}"
    )
    for path in args.models:
        recognizer = Recognizer(path)
        for label_set in label_sets(path):
            curve = resolution_curve(
                recognizer.predict_faces, data.images[rows[label_set]], labels[label_set]
            )
            print_table(str(path), label_set, curve)
        floor = readable_floor(curve)
        print(
            f"readability floor at {floor['min_accuracy']:.1%} agreement with the {TRUTH[label_set]}: crops "
            f"of {floor['crop_side']} px, i.e. detector boxes of {floor['face_size']} px and more"
        )


if __name__ == "__main__":
    main()
