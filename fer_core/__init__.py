"""fer_core: apparent facial-expression recognition as a library (no Streamlit, no SQL).

    from fer_core import Recognizer
    faces = Recognizer().analyze("group.jpg")

The public names load lazily, so `import fer_core.labels` (training, db) does not start ONNX Runtime.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fer_core.detect import Detection, FaceDetector, YuNetDetector
    from fer_core.framing import frame_face
    from fer_core.images import ImageError, capture_time, decode_image, load_image
    from fer_core.labels import EMOTIONS
    from fer_core.pipeline import PhotoAnalysis, analyze_photos
    from fer_core.recognizer import FaceResult, Recognizer

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Recognizer": "fer_core.recognizer",
    "FaceResult": "fer_core.recognizer",
    "ImageError": "fer_core.images",
    "load_image": "fer_core.images",
    "decode_image": "fer_core.images",
    "capture_time": "fer_core.images",
    "Detection": "fer_core.detect",
    "FaceDetector": "fer_core.detect",
    "YuNetDetector": "fer_core.detect",
    "frame_face": "fer_core.framing",
    "EMOTIONS": "fer_core.labels",
    "PhotoAnalysis": "fer_core.pipeline",
    "analyze_photos": "fer_core.pipeline",
}

__all__ = [
    "EMOTIONS",
    "Detection",
    "FaceDetector",
    "FaceResult",
    "ImageError",
    "PhotoAnalysis",
    "Recognizer",
    "YuNetDetector",
    "analyze_photos",
    "capture_time",
    "decode_image",
    "frame_face",
    "load_image",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'fer_core' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
