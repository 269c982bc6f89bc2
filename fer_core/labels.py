"""Label names and model-input constants: defined once, imported by training and serving."""

from __future__ import annotations

#: FER2013 class order; index i is the model's output i.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES: int = len(EMOTIONS)

#: Side of the square grayscale face the CNN reads.
INPUT_SIZE: int = 48
#: uint8 pixels are divided by this to give the model's [0, 1] input.
PIXEL_SCALE: float = 255.0

#: Colours (hex) per expression, shared by the annotated images and the charts.
EMOTION_COLORS: dict[str, str] = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#2ca02c",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
}

#: Each side of a detected face box grows by this fraction before the square crop,
#: so serving crops frame the face like FER2013's loosely cropped faces.
FACE_MARGIN: float = 0.15
