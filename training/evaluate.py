"""Evaluate the served (ONNX) model on FER2013 PrivateTest and PublicTest.

    python -m training.evaluate                  # models/fer_cnn.onnx -> models/metrics.json, PNGs, card

Writes metrics.json (accuracy, per-class precision/recall/F1, macro-F1, confusion matrices,
flip-TTA figures, training summary, accuracy of the other servable exports: int8),
confusion_matrix.png, curves.png and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from fer_core.config import (
    CACHE_DIR,
    ENSEMBLE_PATH,
    FER2013_PATH,
    FINETUNE_HISTORY_PATH,
    HISTORY_PATH,
    MODELS_DIR,
    ONNX_MODEL_PATH,
    SERVABLE_EXPORTS,
    served_model_path,
)
from fer_core.data import load_fer2013
from fer_core.labels import EMOTIONS, NUM_CLASSES
from fer_core.preprocess import face_to_uint8
from fer_core.recognizer import Recognizer
from training.calibrate import built_in_temperature, uncalibrated
from training.calibration import reliability
from training.model_card import write_model_card
from training.resolution import readable_floor, resolution_curve

SPLITS: tuple[str, ...] = ("PrivateTest", "PublicTest")


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


def read_history(path: Path) -> list[dict[str, float]]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return [
            {k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)
        ]


def training_summary(history: list[dict[str, float]]) -> dict:
    if not history:
        return {}
    best = max(history, key=lambda row: row.get("val_accuracy", 0.0))
    return {
        "epochs_run": len(history),
        "wall_seconds": float(sum(row.get("epoch_seconds", 0.0) for row in history)),
        "best_epoch": int(best["epoch"]) + 1,
        "best_val_accuracy": best.get("val_accuracy"),
        "train_accuracy_at_best": best.get("accuracy"),
        "final_train_accuracy": history[-1].get("accuracy"),
        "final_val_accuracy": history[-1].get("val_accuracy"),
    }


def plot_confusion(metrics: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, axes = plt.subplots(1, 2, figsize=(15, 6.5))
    for ax, key, fmt, title in (
        (axes[0], "confusion_counts", "d", "counts"),
        (axes[1], "confusion_normalised", ".2f", "row-normalised (recall on the diagonal)"),
    ):
        ConfusionMatrixDisplay(np.array(metrics[key]), display_labels=EMOTIONS).plot(
            ax=ax, values_format=fmt, cmap="Blues", colorbar=False, xticks_rotation=45
        )
        ax.set_title(f"PrivateTest confusion matrix, {title}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_curves(history: list[dict[str, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [int(row["epoch"]) + 1 for row in history]
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    for ax, key in zip(axes, ("accuracy", "loss")):
        ax.plot(epochs, [row[key] for row in history], label=f"train {key} (augmented)")
        ax.plot(epochs, [row[f"val_{key}"] for row in history], label=f"validation {key}")
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def served_figures(path: Path, data) -> dict:
    """What the app serves, on PrivateTest: calibration before/after its built-in temperature,
    and the resolution curve with the readability floor it justifies."""
    test = data.subset("PrivateTest")
    recognizer = Recognizer(path)
    probabilities = recognizer.predict_faces(test.images)
    temperature = built_in_temperature(path)
    curve = resolution_curve(recognizer.predict_faces, test.images, test.labels)
    return {
        "model": path.name,
        "temperature": temperature,
        "calibration_before": reliability(uncalibrated(probabilities, temperature), test.labels),
        "calibration_after": reliability(probabilities, test.labels),
        "resolution": curve,
        "readable_floor": readable_floor(curve),
    }


def plot_served(served: dict, path: Path) -> None:
    """Reliability diagram (before/after temperature) and the resolution curve, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8))
    left.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect calibration")
    for key, name in (("calibration_before", "before"), ("calibration_after", "after")):
        bins = served[key]
        used = [i for i, n in enumerate(bins["count"]) if n]
        left.plot(
            [bins["confidence"][i] for i in used],
            [bins["accuracy"][i] for i in used],
            marker="o",
            label=f"{name} temperature scaling (ECE {bins['ece']:.3f})",
        )
    left.set(xlabel="confidence (top probability)", ylabel="accuracy", title="Reliability, PrivateTest")
    left.legend()
    left.grid(alpha=0.3)
    sides = [row["side"] for row in served["resolution"]]
    right.plot(sides, [row["accuracy"] for row in served["resolution"]], marker="o", label="accuracy")
    right.plot(
        sides, [row["predicted_sad_share"] for row in served["resolution"]], marker="s", label="predicted sad"
    )
    right.axhline(served["resolution"][0]["true_sad_share"], color="grey", linestyle=":", label="true sad")
    right.axvline(
        served["readable_floor"]["crop_side"], color="red", linestyle="--", label="readability floor"
    )
    right.set(xlabel="face crop side (px)", title="Accuracy as faces shrink, PrivateTest")
    right.invert_xaxis()
    right.legend()
    right.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def served_variants(main_model: Path) -> dict[str, Path]:
    """Every other committed model the app can serve, labelled "<served name>, <precision>"."""
    return {
        f"{name}, {precision}": path
        for name, precision, path in SERVABLE_EXPORTS
        if path.exists() and path.resolve() != main_model.resolve()
    }


def evaluate(
    model_path: Path,
    data_path: Path,
    out_dir: Path,
    history_path: Path,
    variants: dict[str, Path] | None = None,
) -> dict:
    data = load_fer2013(data_path, CACHE_DIR)
    plain, flipped = Recognizer(model_path), Recognizer(model_path, tta=True)
    results: dict = {"model": model_path.name, "splits": {}, "flip_tta": {}}
    for split in SPLITS:
        subset = data.subset(split)
        faces = np.stack([face_to_uint8(face) for face in subset.images])
        results["splits"][split] = split_metrics(subset.labels, plain.predict_faces(faces))
        tta = split_metrics(subset.labels, flipped.predict_faces(faces))
        results["flip_tta"][split] = {"accuracy": tta["accuracy"], "macro_f1": tta["macro_f1"]}
        print(
            f"{split}: accuracy {results['splits'][split]['accuracy']:.4f} "
            f"macro-F1 {results['splits'][split]['macro_f1']:.4f} | flip-TTA accuracy "
            f"{tta['accuracy']:.4f} macro-F1 {tta['macro_f1']:.4f}",
            flush=True,
        )
    results["variants"] = {}
    for label, path in (variants or {}).items():
        variant = Recognizer(path)
        results["variants"][label] = {"model": path.name}
        for split in SPLITS:
            subset = data.subset(split)
            m = split_metrics(subset.labels, variant.predict_faces(subset.images))
            results["variants"][label][split] = {"accuracy": m["accuracy"], "macro_f1": m["macro_f1"]}
            print(f"{split} {label}: accuracy {m['accuracy']:.4f} macro-F1 {m['macro_f1']:.4f}", flush=True)
    train_labels = data.subset("Training").labels
    results["class_distribution"] = dict(
        zip(EMOTIONS, np.bincount(train_labels, minlength=NUM_CLASSES).tolist())
    )
    served = served_model_path()
    if served.exists():
        results["served"] = served_figures(served, data)
        print(
            f"served {served.name}: T {results['served']['temperature']:.3f}, PrivateTest ECE "
            f"{results['served']['calibration_before']['ece']:.4f} -> "
            f"{results['served']['calibration_after']['ece']:.4f}; readability floor "
            f"{results['served']['readable_floor']}",
            flush=True,
        )
    history = read_history(history_path)
    results["training"] = training_summary(history)
    results["fine_tuning"] = training_summary(read_history(FINETUNE_HISTORY_PATH))
    if ENSEMBLE_PATH.exists() and model_path == ONNX_MODEL_PATH:
        results["ensemble"] = json.loads(ENSEMBLE_PATH.read_text())
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(results, indent=2))
    plot_confusion(results["splits"]["PrivateTest"], out_dir / "confusion_matrix.png")
    if history:
        plot_curves(history, out_dir / "curves.png")
    if "served" in results:
        plot_served(results["served"], out_dir / "calibration_resolution.png")
    write_model_card(results, out_dir / "MODEL_CARD.md")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ONNX_MODEL_PATH)
    parser.add_argument("--data", type=Path, default=FER2013_PATH)
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR)
    parser.add_argument("--history", type=Path, default=HISTORY_PATH)
    args = parser.parse_args()
    evaluate(args.model, args.data, args.out_dir, args.history, served_variants(args.model))


if __name__ == "__main__":
    main()
