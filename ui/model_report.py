"""Read the committed evaluation files in models/ (metrics.json, history.csv, MODEL_CARD.md) for display.

Each loader returns None when its file is missing or unreadable, so the page can show an
empty state for that part and still draw the rest.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fer_core import config
from fer_core.labels import EMOTIONS

LOGGER = logging.getLogger(__name__)
TEST_SPLIT = "PrivateTest"


@dataclass(frozen=True)
class SplitScores:
    """Headline scores of one split."""

    n: int
    accuracy: float
    macro_f1: float
    tta_accuracy: float | None
    tta_macro_f1: float | None


@dataclass(frozen=True)
class ModelReport:
    """What the metrics page draws, parsed from metrics.json."""

    test: SplitScores
    per_class: pd.DataFrame  # expression, precision, recall, f1, support
    confusion_counts: list[list[int]]
    confusion_normalised: list[list[float]]
    class_distribution: dict[str, int]
    training: dict[str, Any]
    variants: pd.DataFrame  # model, file, accuracy, macro_f1: the other servable exports
    served: dict[str, Any] | None = None  # calibration and resolution curve of the served model


def _variants(metrics: dict[str, Any]) -> pd.DataFrame:
    rows = [
        {
            "model": label,
            "file": str(v["model"]),
            "accuracy": float(v[TEST_SPLIT]["accuracy"]),
            "macro_f1": float(v[TEST_SPLIT]["macro_f1"]),
        }
        for label, v in (metrics.get("variants") or {}).items()
    ]
    return pd.DataFrame(rows, columns=["model", "file", "accuracy", "macro_f1"])


def _served(metrics: dict[str, Any]) -> dict[str, Any] | None:
    """The served model's calibration and resolution figures, or None when absent or malformed."""
    served = metrics.get("served")
    keys = ("temperature", "calibration_before", "calibration_after", "resolution", "readable_floor")
    if not isinstance(served, dict) or not all(k in served for k in keys):
        return None
    return served


def _split_scores(metrics: dict[str, Any], split: str) -> SplitScores:
    scores = metrics["splits"][split]
    tta = (metrics.get("flip_tta") or {}).get(split) or {}
    return SplitScores(
        n=int(scores.get("n", 0)),
        accuracy=float(scores["accuracy"]),
        macro_f1=float(scores["macro_f1"]),
        tta_accuracy=float(tta["accuracy"]) if "accuracy" in tta else None,
        tta_macro_f1=float(tta["macro_f1"]) if "macro_f1" in tta else None,
    )


def load_report(path: Path | None = None) -> ModelReport | None:
    """The parsed metrics file, or None if it is missing or not in the expected layout."""
    path = path or config.METRICS_PATH
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        split = metrics["splits"][TEST_SPLIT]
        per_class = pd.DataFrame(
            [
                {
                    "expression": name,
                    "precision": float(split["per_class"][name]["precision"]),
                    "recall": float(split["per_class"][name]["recall"]),
                    "f1": float(split["per_class"][name]["f1-score"]),
                    "support": int(split["per_class"][name]["support"]),
                }
                for name in EMOTIONS
            ]
        )
        return ModelReport(
            test=_split_scores(metrics, TEST_SPLIT),
            per_class=per_class,
            confusion_counts=[[int(v) for v in row] for row in split["confusion_counts"]],
            confusion_normalised=[[float(v) for v in row] for row in split["confusion_normalised"]],
            class_distribution={name: int(metrics["class_distribution"][name]) for name in EMOTIONS},
            training=dict(metrics.get("training") or {}),
            variants=_variants(metrics),
            served=_served(metrics),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        LOGGER.warning("cannot read %s: %s", path, exc)
        return None


def load_history(path: Path | None = None) -> pd.DataFrame | None:
    """Per-epoch training history, or None if missing or without accuracy columns."""
    path = path or config.HISTORY_PATH
    try:
        history = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        LOGGER.info("no training history at %s: %s", path, exc)
        return None
    return history if {"accuracy", "val_accuracy"} <= set(history.columns) and len(history) else None


def load_model_card(path: Path | None = None) -> str | None:
    path = path or config.MODEL_CARD_PATH
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def card_section(card: str, heading: str) -> str | None:
    """The body of the '## heading' section of a markdown document, if present."""
    match = re.search(rf"^##\s+{re.escape(heading)}\s*$(.*?)(?=^##\s|\Z)", card, flags=re.M | re.S)
    return match.group(1).strip() if match else None
