"""Accuracy and the drift towards "sad" as faces shrink, for the served model and others.

    python -m benchmarks.resolution [--models models/fer_cnn.int8.onnx other.onnx ...]
FER2013 PrivateTest faces are shrunk to s px and scaled back to 48 (what a small detected face
becomes, `fer_core.preprocess.as_small_face`); every model sees the same faces. Prints one table
per model and the readability floor each would justify (training.resolution.readable_floor).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fer_core.config import CACHE_DIR, FER2013_PATH, served_model_path
from fer_core.data import load_fer2013
from fer_core.labels import READABLE_MIN_ACCURACY
from fer_core.recognizer import Recognizer
from training.resolution import CURVE_SIDES, readable_floor, resolution_curve


def print_table(name: str, curve: list[dict]) -> None:
    print(f"\n{name}")
    print("| face size | " + " | ".join(f"{row['side']} px" for row in curve) + " |")
    print("|---|" + "---:|" * len(curve))
    print("| accuracy | " + " | ".join(f"{row['accuracy']:.1%}" for row in curve) + " |")
    print("| macro-F1 | " + " | ".join(f"{row['macro_f1']:.3f}" for row in curve) + " |")
    true_share = curve[0]["true_sad_share"]
    print(
        f"| share predicted sad (true {true_share:.0%}) | "
        + " | ".join(f"{row['predicted_sad_share']:.0%}" for row in curve)
        + " |"
    )
    floor = readable_floor(curve)
    print(
        f"readability floor at {READABLE_MIN_ACCURACY:.0%} accuracy: crops of {floor['crop_side']} px, "
        f"i.e. detector boxes of {floor['face_size']} px and more"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, nargs="+", default=[served_model_path()])
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    args = parser.parse_args()
    test = load_fer2013(args.data, CACHE_DIR).subset("PrivateTest")
    print(f"FER2013 PrivateTest, {len(test)} faces, crop sides {list(CURVE_SIDES)}")
    for path in args.models:
        recognizer = Recognizer(path)
        print_table(str(path), resolution_curve(recognizer.predict_faces, test.images, test.labels))


if __name__ == "__main__":
    main()
