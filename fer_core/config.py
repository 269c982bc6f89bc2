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
METRICS_PATH: Path = MODELS_DIR / "metrics.json"
HISTORY_PATH: Path = MODELS_DIR / "history.csv"
MODEL_CARD_PATH: Path = MODELS_DIR / "MODEL_CARD.md"

#: Where FER2013 is looked for when no path is given (the shared dataset beside the repo).
FER2013_PATH: Path = Path(
    os.environ.get("FER2013_PATH", PROJECT_ROOT.parent / "shared" / "datasets" / "fer2013" / "fer2013.csv.gz")
)
#: Local scratch space (parsed-data cache, training runs); never committed.
CACHE_DIR: Path = Path(os.environ.get("FER_CACHE_DIR", PROJECT_ROOT / ".cache"))
RUNS_DIR: Path = PROJECT_ROOT / "runs"
