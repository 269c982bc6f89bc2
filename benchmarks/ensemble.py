"""Would an ensemble of trained CNNs be worth serving? Every combination of the given members.

    python -m benchmarks.ensemble --members runs/v2a/fer_cnn.onnx runs/m2/m2.onnx runs/m3/m3.onnx
    python -m benchmarks.ensemble --labels ferplus --members models/ferplus_cnn.onnx runs/b/b.onnx

Each member reads the FER2013 PublicTest (selection) and PrivateTest (test) faces at 48 px and
shrunk to 24 and 16 px (`training.resolution.shrink_all`, as serving sees small faces); a
combination averages its members' log-probabilities, which is what `training.ensemble`'s mean of
logits gives up to each member's built-in temperature. Prints accuracy / macro-F1 per split, size
and combination, so a k-member ensemble (k times the classification cost) can be weighed against
its gain before it is built. `--labels ferplus` scores against the FER+ majority, on the rows
that have one (as `training.evaluate` does); an ensemble that wins there can teach one network
(`training.train --teacher`).
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from fer_core.config import CACHE_DIR, FER2013_PATH, FERPLUS_PATH
from fer_core.data import load_fer2013, load_ferplus
from fer_core.recognizer import Recognizer
from training.resolution import shrink_all

SPLITS: tuple[str, ...] = ("PublicTest", "PrivateTest")
SIDES: tuple[int, ...] = (48, 24, 16)


def member_log_probabilities(path: Path, faces: dict[tuple[str, int], np.ndarray]) -> dict:
    recognizer = Recognizer(path)
    return {key: np.log(recognizer.predict_faces(x) + 1e-9) for key, x in faces.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", type=Path, nargs="+", required=True)
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--labels", choices=["fer2013", "ferplus"], default="fer2013")
    parser.add_argument("--ferplus", type=Path, default=FERPLUS_PATH)
    args = parser.parse_args()
    data = load_fer2013(args.data, CACHE_DIR)
    if args.labels == "ferplus":
        votes = load_ferplus(args.ferplus)
        rows = {split: np.flatnonzero((data.splits == split) & votes.usable) for split in SPLITS}
        labels = {split: votes.majority[rows[split]] for split in SPLITS}
    else:
        rows = {split: np.flatnonzero(data.splits == split) for split in SPLITS}
        labels = {split: data.labels[rows[split]] for split in SPLITS}
    faces = {(split, side): shrink_all(data.images[rows[split]], side) for split in SPLITS for side in SIDES}
    members = {path.stem if path.stem != "fer_cnn" else path.parent.name: path for path in args.members}
    scores = {name: member_log_probabilities(path, faces) for name, path in members.items()}
    for split in SPLITS:
        print(f"\n{split} ({len(labels[split])} faces, {args.labels} labels): accuracy / macro-F1")
        print("| members | " + " | ".join(f"{side} px" for side in SIDES) + " |")
        print("|---|" + "---:|" * len(SIDES))
        for k in range(1, len(members) + 1):
            for combo in itertools.combinations(members, k):
                cells = []
                for side in SIDES:
                    predicted = np.mean([scores[m][(split, side)] for m in combo], axis=0).argmax(axis=1)
                    y = labels[split]
                    f1 = f1_score(y, predicted, average="macro")
                    cells.append(f"{np.mean(predicted == y):.2%} / {f1:.3f}")
                print(f"| {' + '.join(combo)} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
