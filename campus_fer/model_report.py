"""Read the committed evaluation files in models/ (metrics.json, training history, MODEL_CARD.md) for display.

metrics.json (written by `python -m training.evaluate`) holds every servable model scored against
both label sets: FER2013's single labels and the FER+ raters' majority. Each loader returns None
when its file is missing or unreadable, so the page can show an empty state for that part and still
draw the rest.
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
#: The label sets every model is scored against, in the order the page shows them.
LABEL_SETS: dict[str, str] = {
    "ferplus": "FER+ majority (10 raters)",
    "fer2013": "FER2013 label (1 annotator)",
}
#: Keys a model needs for the calibration and small-faces figures.
_SERVED_KEYS = ("temperature", "calibration_before", "calibration_after", "resolution", "readable_floor")
#: Per-epoch histories of each servable model's training runs, in the order they ran.
HISTORIES: dict[str, tuple[Path, ...]] = {
    "consensus": (config.FERPLUS_HISTORY_PATH,),
    "fer2013": (config.HISTORY_PATH, config.FINETUNE_HISTORY_PATH),
}


@dataclass(frozen=True)
class LabelSetScores:
    """One model's PrivateTest figures against one label set."""

    n: int
    accuracy: float
    macro_f1: float
    negative_share_predicted: float
    negative_share_labelled: float
    negative_share_bias: float
    neutral_read_sad_or_angry: float
    per_class: pd.DataFrame  # expression, precision, recall, f1, support
    confusion_counts: list[list[int]]
    confusion_normalised: list[list[float]]


@dataclass(frozen=True)
class ModelEntry:
    """One servable model as evaluated."""

    name: str  # the CAMPUS_FER_MODEL setting that selects it
    id: str
    file: str
    trained_on: str  # "ferplus" or "fer2013"
    scores: dict[str, LabelSetScores]  # by label set, PrivateTest
    training: dict[str, Any]
    served: dict[str, Any] | None  # temperature, class_bias, calibration, resolution, readable floor


@dataclass(frozen=True)
class ModelReport:
    """What the metrics page draws, parsed from metrics.json."""

    default: str
    models: dict[str, ModelEntry]
    label_agreement: float | None  # FER2013 label == FER+ majority, PrivateTest
    class_distribution: dict[str, dict[str, int]]  # by label set: training faces per expression

    def scores_table(self) -> pd.DataFrame:
        """One row per model and label set: the headline PrivateTest figures."""
        rows = [
            {
                "model": f"{m.name} ({m.id})",
                "labels": LABEL_SETS[label_set],
                "accuracy": s.accuracy,
                "macro_f1": s.macro_f1,
                "negative_read": s.negative_share_predicted,
                "negative_labelled": s.negative_share_labelled,
                "negative_bias": s.negative_share_bias,
                "neutral_sad_angry": s.neutral_read_sad_or_angry,
                "faces": s.n,
            }
            for m in self.models.values()
            for label_set, s in m.scores.items()
        ]
        return pd.DataFrame(rows)


def _per_class(split: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(
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


def _label_set_scores(split: dict[str, Any]) -> LabelSetScores:
    return LabelSetScores(
        n=int(split["n"]),
        accuracy=float(split["accuracy"]),
        macro_f1=float(split["macro_f1"]),
        negative_share_predicted=float(split["negative_share_predicted"]),
        negative_share_labelled=float(split["negative_share_labelled"]),
        negative_share_bias=float(split["negative_share_bias"]),
        neutral_read_sad_or_angry=float(split["neutral_read_sad_or_angry"]),
        per_class=_per_class(split),
        confusion_counts=[[int(v) for v in row] for row in split["confusion_counts"]],
        confusion_normalised=[[float(v) for v in row] for row in split["confusion_normalised"]],
    )


def _model_entry(name: str, model: dict[str, Any]) -> ModelEntry:
    served = {k: model[k] for k in (*_SERVED_KEYS, "class_bias", "trained_on") if k in model}
    return ModelEntry(
        name=name,
        id=str(model["id"]),
        file=str(model["file"]),
        trained_on=str(model["trained_on"]),
        scores={
            label_set: _label_set_scores(model["splits"][TEST_SPLIT][label_set]) for label_set in LABEL_SETS
        },
        training=dict(model.get("training") or {}),
        served=served if all(k in served for k in _SERVED_KEYS) else None,
    )


def load_report(path: Path | None = None) -> ModelReport | None:
    """The parsed metrics file, or None if it is missing or not in the expected layout."""
    path = path or config.METRICS_PATH
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        models = {str(name): _model_entry(str(name), m) for name, m in metrics["models"].items()}
        if not models:
            raise ValueError("no models")
        agreement = (metrics.get("label_agreement") or {}).get("fer2013_vs_ferplus_majority_privatetest")
        distribution = metrics.get("class_distribution") or {}
        return ModelReport(
            default=str(metrics.get("default") or next(iter(models))),
            models=models,
            label_agreement=float(agreement) if agreement is not None else None,
            class_distribution={
                label_set: {name: int(counts[name]) for name in EMOTIONS}
                for label_set, counts in distribution.items()
                if isinstance(counts, dict) and all(name in counts for name in EMOTIONS)
            },
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        LOGGER.warning("cannot read %s: %s", path, exc)
        return None


def load_history(path: Path | tuple[Path, ...] | None = None) -> pd.DataFrame | None:
    """Per-epoch training history (runs in order, epochs renumbered), or None if missing or without
    validation accuracy. Defaults to the default served model's runs."""
    if path is None:
        paths = HISTORIES.get(config.DEFAULT_SERVED_MODEL, (config.HISTORY_PATH,))
    else:
        paths = (path,) if isinstance(path, Path) else path
    frames = []
    for one in paths:
        try:
            frames.append(pd.read_csv(one))
        except (OSError, ValueError) as exc:
            LOGGER.info("no training history at %s: %s", one, exc)
    frames = [f for f in frames if "val_accuracy" in f.columns and len(f)]
    if not frames:
        return None
    history = pd.concat(frames, ignore_index=True)
    history["epoch"] = range(len(history))
    return history


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
