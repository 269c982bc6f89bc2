"""Which model read a face: a short id stored in each ONNX graph's metadata.

Readings of different models are never mixed silently (db rows, trends, wellbeing, reports say which
model read them), so every servable graph carries `campus_fer.model_id`. Graphs exported before ids
existed are the FER2013-label model v2, hence the fallback.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

#: ONNX metadata key holding the model's short id.
MODEL_ID_KEY: str = "campus_fer.model_id"
#: The FER2013-label model served until model v3 (every row stored before ids were recorded).
FER2013_V2_ID: str = "fer2013-v2"
#: The FER+ consensus model (crowd votes) served from v3 on.
FERPLUS_V3_ID: str = "ferplus-v3"


def model_id_from_metadata(metadata: dict[str, str]) -> str:
    """The id in a graph's custom metadata map (onnxruntime's `get_modelmeta().custom_metadata_map`)."""
    return metadata.get(MODEL_ID_KEY, FER2013_V2_ID)


@lru_cache(maxsize=16)
def _cached_model_id(path: str, mtime_ns: int) -> str:
    import onnxruntime as ort  # the run-time set has no `onnx` package

    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return model_id_from_metadata(session.get_modelmeta().custom_metadata_map)


def read_model_id(path: str | Path) -> str:
    """The short id of the ONNX model at `path` (FER2013_V2_ID for graphs exported before ids)."""
    path = Path(path)
    return _cached_model_id(str(path), path.stat().st_mtime_ns)


def write_model_id(path: str | Path, model_id: str) -> None:
    """Stamp `model_id` into the ONNX graph at `path` (replacing any earlier id; training only)."""
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != MODEL_ID_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    entry = model.metadata_props.add()
    entry.key, entry.value = MODEL_ID_KEY, model_id
    onnx.save(model, str(path))
