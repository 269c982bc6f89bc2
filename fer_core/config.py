"""Filesystem locations: the one place that knows where models and data live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
#: Committed artefacts the app reads (ONNX models, metrics, plots, model card).
MODELS_DIR: Path = Path(os.environ.get("FER_MODELS_DIR", PROJECT_ROOT / "models"))
#: Model v3, the consensus model served by default: fitted to the FER+ raters' votes (10 per face).
FERPLUS_ONNX_PATH: Path = MODELS_DIR / "ferplus_cnn.onnx"
FERPLUS_INT8_PATH: Path = MODELS_DIR / "ferplus_cnn.int8.onnx"
FERPLUS_KERAS_PATH: Path = MODELS_DIR / "ferplus_cnn.keras"
FERPLUS_HISTORY_PATH: Path = MODELS_DIR / "ferplus_cnn.history.csv"
#: Model v2, fitted to FER2013's single labels (the seed's benchmark; reads serious faces as negative
#: far more often than people do). Kept servable for comparison and for databases read by it.
ONNX_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.onnx"
#: The same model quantised to int8 (faster on CPUs with VNNI; accuracy loss in metrics.json).
INT8_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.int8.onnx"
KERAS_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.keras"
#: The models the app can serve, by the name an operator sets (CAMPUS_FER_MODEL), each as
#: (int8 export, float32 original): the int8 export is served, its original is the fallback.
SERVED_MODELS: dict[str, tuple[Path, Path]] = {
    "consensus": (FERPLUS_INT8_PATH, FERPLUS_ONNX_PATH),
    "fer2013": (INT8_MODEL_PATH, ONNX_MODEL_PATH),
}
#: Names older settings used: "accurate" was model v2 (FER2013 labels) until v3 became the default.
MODEL_ALIASES: dict[str, str] = {"accurate": "fer2013"}
DEFAULT_SERVED_MODEL = "consensus"
#: Which labels each served model was fitted to (training.evaluate reports both label sets for each).
TRAINED_ON: dict[str, str] = {"consensus": "ferplus", "fer2013": "fer2013"}
#: Every servable model file as (served name, precision, path).
SERVABLE_EXPORTS: tuple[tuple[str, str, Path], ...] = tuple(
    (name, precision, path)
    for name, (int8, float32) in SERVED_MODELS.items()
    for precision, path in (("float32", float32), ("int8", int8))
)


def resolve_model_name(name: str) -> str:
    """The served model a setting names (aliases of older versions included); KeyError if none."""
    key = name.strip().lower()
    key = MODEL_ALIASES.get(key, key)
    if key not in SERVED_MODELS:
        raise KeyError(name)
    return key


def served_model_path(name: str = DEFAULT_SERVED_MODEL) -> Path:
    """The int8 export of a servable model when present (as accurate as float32, ~3x faster
    on CPU: models/metrics.json, benchmarks/results/vs_fer.txt), else its float32 original."""
    int8, float32 = SERVED_MODELS[resolve_model_name(name)]
    return int8 if int8.exists() else float32


METRICS_PATH: Path = MODELS_DIR / "metrics.json"
HISTORY_PATH: Path = MODELS_DIR / "history.csv"
#: The small-face fine-tuning of the accurate model (training.train --init-weights), after HISTORY_PATH's run.
FINETUNE_HISTORY_PATH: Path = MODELS_DIR / "fer_cnn.finetune_history.csv"
#: How the served model was assembled from several trained CNNs (training.ensemble): one entry per member.
ENSEMBLE_PATH: Path = MODELS_DIR / "ensemble.json"
MODEL_CARD_PATH: Path = MODELS_DIR / "MODEL_CARD.md"

#: Where FER2013 is looked for when no path is given (the shared dataset beside the repo).
FER2013_PATH: Path = Path(
    os.environ.get("FER2013_PATH", PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013" / "fer2013.csv.gz")
)
#: FER+ crowd votes for the same rows (10 raters per image), in FER2013's row order.
FERPLUS_PATH: Path = Path(
    os.environ.get("FERPLUS_PATH", PROJECT_ROOT.parent / "shared" / "datasets" / "ferplus" / "fer2013new.csv")
)
#: Local scratch space (parsed-data cache, training runs); never committed.
CACHE_DIR: Path = Path(os.environ.get("FER_CACHE_DIR", PROJECT_ROOT / ".cache"))
RUNS_DIR: Path = PROJECT_ROOT / "runs"
