"""Filesystem locations: the one place that knows where models and data live."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT: Path = Path(__file__).resolve().parent.parent
#: Committed artefacts the app reads (ONNX model, metrics, plots, model card).
MODELS_DIR: Path = Path(os.environ.get("FER_MODELS_DIR", PROJECT_ROOT / "models"))
ONNX_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.onnx"
#: The same model quantised to int8 (faster on CPUs with VNNI; accuracy loss in metrics.json).
INT8_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.int8.onnx"
KERAS_MODEL_PATH: Path = MODELS_DIR / "fer_cnn.keras"
#: The models the app can serve, by the name an operator sets (CAMPUS_FER_MODEL):
#: the int8 export first, its float32 original as the fallback. The distilled "fast" model was
#: retired with model v2 (README "Small faces, calibration and crowds"): it was never trained for
#: small faces (34% of 16 px faces read "sad") and on CPUs without VNNI it is no faster than fer's.
SERVED_MODELS: dict[str, tuple[Path, Path]] = {
    "accurate": (INT8_MODEL_PATH, ONNX_MODEL_PATH),
}
DEFAULT_SERVED_MODEL = "accurate"
#: Every servable model file as (served name, precision, path).
SERVABLE_EXPORTS: tuple[tuple[str, str, Path], ...] = tuple(
    (name, precision, path)
    for name, (int8, float32) in SERVED_MODELS.items()
    for precision, path in (("float32", float32), ("int8", int8))
)


def served_model_path(name: str = DEFAULT_SERVED_MODEL) -> Path:
    """The int8 export of a servable model when present (as accurate as float32, ~3x faster
    on CPU: models/metrics.json, benchmarks/results/vs_fer.txt), else its float32 original."""
    int8, float32 = SERVED_MODELS[name]
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
