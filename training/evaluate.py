"""Evaluate every servable model on PrivateTest and PublicTest against both label sets.

    python -m training.evaluate        # -> models/metrics.json, confusion_matrix.png, curves.png,
                                       #    calibration_resolution.png, MODEL_CARD.md

Each model is scored against FER2013's single labels (every row) and against the FER+ majority
(the plurality of 10 raters' votes, ties broken in FER+'s column order; rows whose plurality is
contempt, unknown or not-a-face, or that FER+ dropped, are left out). Against FER+ it also reports
the negative-affect share the model reads vs the raters' (the bias every chart would carry), and
what the model makes of faces the raters call neutral. The served (int8) exports are the ones
scored; their float32 originals are listed alongside. Calibration, the resolution curve and the
readability floor are measured against the labels each model was fitted to.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from fer_core.config import (
    CACHE_DIR,
    DEFAULT_SERVED_MODEL,
    FER2013_PATH,
    FERPLUS_HISTORY_PATH,
    FERPLUS_PATH,
    FINETUNE_HISTORY_PATH,
    HISTORY_PATH,
    MODELS_DIR,
    SERVED_MODELS,
    TRAINED_ON,
    served_model_path,
)
from fer_core.data import FaceDataset, FerPlusVotes, load_fer2013, load_ferplus
from fer_core.labels import EMOTIONS, NEGATIVE_AFFECT, NUM_CLASSES
from fer_core.model_info import read_model_id
from fer_core.recognizer import Recognizer
from training.calibrate import built_in_class_bias, built_in_temperature, uncalibrated
from training.calibration import reliability
from training.model_card import write_model_card
from training.resolution import readable_floor, resolution_curve

SPLITS: tuple[str, ...] = ("PrivateTest", "PublicTest")
LABEL_SETS: tuple[str, ...] = ("ferplus", "fer2013")
_NEGATIVE = np.array([name in NEGATIVE_AFFECT for name in EMOTIONS])
_NEUTRAL = EMOTIONS.index("neutral")
#: Histories of each model's training runs, in the order they ran.
HISTORIES: dict[str, tuple[Path, ...]] = {
    "consensus": (FERPLUS_HISTORY_PATH,),
    "fer2013": (HISTORY_PATH, FINETUNE_HISTORY_PATH),
}


def split_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro-F1, per-class report and confusion matrices (scikit-learn)."""
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix, f1_score

    predicted = probabilities.argmax(axis=1)
    classes = list(range(NUM_CLASSES))
    report = classification_report(
        labels, predicted, labels=classes, target_names=list(EMOTIONS), output_dict=True, zero_division=0
    )
    counts = confusion_matrix(labels, predicted, labels=classes)
    normalised = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    return {
        "n": int(len(labels)),
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, labels=classes, average="macro", zero_division=0)),
        "per_class": {name: {k: float(v) for k, v in report[name].items()} for name in EMOTIONS},
        "confusion_counts": counts.tolist(),
        "confusion_normalised": np.round(normalised, 4).tolist(),
    }


def affect_bias(labels: np.ndarray, predicted: np.ndarray) -> dict:
    """The negative-affect share read vs labelled, and how labelled-neutral faces are read."""
    neutral = labels == _NEUTRAL
    read_as = {
        name: float(np.mean(predicted[neutral] == i)) if neutral.any() else 0.0
        for i, name in enumerate(EMOTIONS)
    }
    predicted_share, labelled_share = float(np.mean(_NEGATIVE[predicted])), float(np.mean(_NEGATIVE[labels]))
    return {
        "negative_share_predicted": predicted_share,
        "negative_share_labelled": labelled_share,
        "negative_share_bias": predicted_share - labelled_share,
        "neutral_read_as": read_as,
        "neutral_read_sad_or_angry": read_as["sad"] + read_as["angry"],
    }


def labelled_rows(
    data: FaceDataset, votes: FerPlusVotes, split: str, label_set: str
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a split that a label set scores, and their labels."""
    in_split = data.splits == split
    if label_set == "ferplus":
        rows = np.flatnonzero(in_split & votes.usable)
        return rows, votes.majority[rows]
    rows = np.flatnonzero(in_split)
    return rows, data.labels[rows]


def score(probabilities: np.ndarray, data: FaceDataset, votes: FerPlusVotes, split: str) -> dict:
    """One model's figures on one split, against both label sets (`probabilities` for every row)."""
    out = {}
    for label_set in LABEL_SETS:
        rows, labels = labelled_rows(data, votes, split, label_set)
        out[label_set] = split_metrics(labels, probabilities[rows])
        out[label_set].update(affect_bias(labels, probabilities[rows].argmax(axis=1)))
    return out


def read_history(paths: tuple[Path, ...]) -> list[dict[str, float]]:
    rows = []
    for path in paths:
        if path.exists():
            with open(path, newline="") as handle:
                rows += [
                    {k: float(v) for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(handle)
                ]
    return rows


def training_summary(history: list[dict[str, float]]) -> dict:
    if not history:
        return {}
    best = max(range(len(history)), key=lambda i: history[i].get("val_accuracy", 0.0))
    return {
        "epochs_run": len(history),
        "wall_seconds": float(sum(row.get("epoch_seconds", 0.0) for row in history)),
        "best_epoch": best + 1,
        "best_val_accuracy": history[best].get("val_accuracy"),
        "final_val_accuracy": history[-1].get("val_accuracy"),
    }


def predict_scored_rows(predict, data: FaceDataset) -> np.ndarray:
    """Probabilities for the rows of SPLITS (zeros for Training rows, which nothing scores)."""
    rows = np.isin(data.splits, SPLITS)
    probabilities = np.zeros((len(data), NUM_CLASSES), dtype=np.float32)
    probabilities[rows] = predict(data.images[rows])
    return probabilities


def evaluate_model(name: str, data: FaceDataset, votes: FerPlusVotes) -> dict:
    """Everything the model card and the metrics page say about one servable model."""
    int8, float32 = SERVED_MODELS[name]
    path = served_model_path(name)
    recognizer = Recognizer(path)
    probabilities = predict_scored_rows(recognizer.predict_faces, data)
    trained_on = TRAINED_ON[name]
    result: dict = {
        "id": read_model_id(path),
        "file": path.name,
        "trained_on": trained_on,
        "temperature": built_in_temperature(path),
        "class_bias": dict(zip(EMOTIONS, built_in_class_bias(path).round(3).tolist())),
        "splits": {split: score(probabilities, data, votes, split) for split in SPLITS},
    }
    if float32.exists() and float32 != path:
        original = predict_scored_rows(Recognizer(float32).predict_faces, data)
        result["float32"] = {
            "file": float32.name,
            **{
                split: {
                    k: {m: v[m] for m in ("accuracy", "macro_f1")}
                    for k, v in score(original, data, votes, split).items()
                }
                for split in SPLITS
            },
        }
    rows, labels = labelled_rows(data, votes, "PrivateTest", trained_on)
    served = probabilities[rows]
    raw = uncalibrated(served, result["temperature"], built_in_class_bias(path))
    result["calibration_before"] = reliability(raw, labels)
    result["calibration_after"] = reliability(served, labels)
    curve = resolution_curve(recognizer.predict_faces, data.images[rows], labels)
    result["resolution"] = curve
    result["readable_floor"] = readable_floor(curve)
    result["training"] = training_summary(read_history(HISTORIES.get(name, ())))
    for split in SPLITS:
        for label_set in LABEL_SETS:
            m = result["splits"][split][label_set]
            print(
                f"{name} ({result['id']}) {split} vs {label_set}: accuracy {m['accuracy']:.4f} macro-F1 "
                f"{m['macro_f1']:.4f} negative share {m['negative_share_predicted']:.3f} vs "
                f"{m['negative_share_labelled']:.3f} ({m['negative_share_bias']:+.3f}); "
                f"neutral read sad/angry {m['neutral_read_sad_or_angry']:.3f}",
                flush=True,
            )
    print(
        f"{name}: ECE {result['calibration_before']['ece']:.4f} -> {result['calibration_after']['ece']:.4f}"
        f" (vs {trained_on}); floor {result['readable_floor']}",
        flush=True,
    )
    return result


def plot_confusion(models: dict, path: Path) -> None:
    """PrivateTest confusion matrices (row-normalised) of every model against both label sets."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, axes = plt.subplots(len(models), 2, figsize=(14, 6.2 * len(models)), squeeze=False)
    for row, (name, model) in enumerate(models.items()):
        for col, label_set in enumerate(LABEL_SETS):
            m = model["splits"]["PrivateTest"][label_set]
            ax = axes[row][col]
            ConfusionMatrixDisplay(np.array(m["confusion_normalised"]), display_labels=EMOTIONS).plot(
                ax=ax, values_format=".2f", cmap="Blues", colorbar=False, xticks_rotation=45
            )
            truth = "FER+ majority" if label_set == "ferplus" else "FER2013 label"
            ax.set_title(f"{name} ({model['id']}) vs {truth}: accuracy {m['accuracy']:.1%}")
            ax.set_ylabel(f"{truth} (rows sum to 1)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_curves(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [int(row["epoch"]) + 1 for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    axes[0].plot(
        epochs, [row["val_accuracy"] for row in history], label="validation (PublicTest) vs FER+ majority"
    )
    if "val_fer2013_accuracy" in history[0]:
        axes[0].plot(
            epochs, [row["val_fer2013_accuracy"] for row in history], label="validation vs FER2013 label"
        )
    axes[1].plot(epochs, [row["loss"] for row in history], label="training loss (augmented)")
    axes[1].plot(epochs, [row["val_loss"] for row in history], label="validation loss")
    for ax, title in zip(axes, ("accuracy", "loss (cross-entropy against the vote distributions)")):
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_served(served: dict, path: Path) -> None:
    """Reliability diagram (before/after calibration) and the resolution curve, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = "FER+ majority" if served["trained_on"] == "ferplus" else "FER2013 label"
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    left.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for key, label in (("calibration_before", "before"), ("calibration_after", "after")):
        bins = served[key]
        used = [i for i, n in enumerate(bins["count"]) if n]
        left.plot(
            [bins["confidence"][i] for i in used],
            [bins["accuracy"][i] for i in used],
            marker="o",
            label=f"{label} calibration (ECE {bins['ece']:.3f})",
        )
    left.set(
        xlabel="confidence (top probability)",
        ylabel=f"agreement with {truth}",
        title="Reliability, PrivateTest",
    )
    left.legend()
    left.grid(alpha=0.3)
    curve = served["resolution"]
    sides = [row["side"] for row in curve]
    right.plot(sides, [row["accuracy"] for row in curve], marker="o", label=f"agreement with {truth}")
    right.plot(
        sides, [row["predicted_negative_share"] for row in curve], marker="s", label="negative share read"
    )
    right.axhline(
        curve[0]["true_negative_share"], color="grey", linestyle=":", label="negative share labelled"
    )
    right.axvline(
        served["readable_floor"]["crop_side"], color="red", linestyle="--", label="readability floor"
    )
    right.set(xlabel="face crop side (px)", title="As faces shrink, PrivateTest")
    right.invert_xaxis()
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def evaluate(
    data_path: Path, ferplus_path: Path, out_dir: Path, names: tuple[str, ...] | None = None
) -> dict:
    data = load_fer2013(data_path, CACHE_DIR)
    votes = load_ferplus(ferplus_path)
    names = names or tuple(n for n in SERVED_MODELS if served_model_path(n).exists())
    models = {name: evaluate_model(name, data, votes) for name in names}
    private = np.flatnonzero((data.splits == "PrivateTest") & votes.usable)
    train = (data.splits == "Training") & votes.usable
    results = {
        "default": DEFAULT_SERVED_MODEL,
        "models": models,
        "label_agreement": {
            "fer2013_vs_ferplus_majority_privatetest": float(
                np.mean(data.labels[private] == votes.majority[private])
            ),
        },
        "class_distribution": {
            "fer2013": dict(
                zip(
                    EMOTIONS,
                    np.bincount(data.labels[data.splits == "Training"], minlength=NUM_CLASSES).tolist(),
                )
            ),
            "ferplus": dict(
                zip(EMOTIONS, np.bincount(votes.majority[train], minlength=NUM_CLASSES).tolist())
            ),
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(results, indent=2))
    plot_confusion(models, out_dir / "confusion_matrix.png")
    default = models.get(DEFAULT_SERVED_MODEL) or next(iter(models.values()))
    history = read_history(HISTORIES.get(DEFAULT_SERVED_MODEL, ()))
    if history:
        plot_curves(history, out_dir / "curves.png")
    plot_served(default, out_dir / "calibration_resolution.png")
    write_model_card(results, out_dir / "MODEL_CARD.md")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--ferplus", type=Path, default=FERPLUS_PATH)
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--models", nargs="*", default=None, help="served names (default: every one present)")
    args = parser.parse_args()
    evaluate(args.data, args.ferplus, args.out_dir, tuple(args.models) if args.models else None)


if __name__ == "__main__":
    main()
