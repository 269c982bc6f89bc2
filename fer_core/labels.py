"""Label names and model-input constants: defined once, imported by training and serving."""

from __future__ import annotations

#: FER2013 class order; index i is the model's output i.
EMOTIONS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
NUM_CLASSES: int = len(EMOTIONS)

#: Negative affect: the four negative-valence classes (the wellbeing signal, and the lean of a model
#: fitted to FER2013's labels). Surprise is left out: pleasant and unpleasant surprise look alike.
NEGATIVE_AFFECT: tuple[str, ...] = ("sad", "fear", "angry", "disgust")

#: Side of the square grayscale face the CNN reads.
INPUT_SIZE: int = 48
#: uint8 pixels are divided by this to give the model's [0, 1] input.
PIXEL_SCALE: float = 255.0

#: Colours (hex) per expression, shared by the annotated images, the charts and the report. Okabe-Ito
#: hues (Okabe & Ito 2008), darkened where needed: each is >= 3:1 against the white chart background
#: (WCAG 2.2 non-text contrast), and every pair stays >= 12 CIEDE2000 apart under simulated
#: protanopia, deuteranopia and tritanopia (Machado 2009, full severity) and >= 20 in normal vision.
#: benchmarks/palette.py prints the figures and re-runs the search that chose them;
#: tests/test_palette.py holds the thresholds.
EMOTION_COLORS: dict[str, str] = {
    "angry": "#ae4b00",  # vermillion, darkened
    "disgust": "#683e36",  # brown (the earlier palette's #8c564b, darkened)
    "fear": "#cc79a7",  # reddish purple
    "happy": "#009e73",  # bluish green
    "sad": "#0072b2",  # blue
    "surprise": "#9f9628",  # yellow, darkened to olive
    "neutral": "#696969",  # grey
}

#: The second cue beside colour: a Plotly bar/area fill pattern per expression (marker.pattern.shape),
#: so that expressions compared in one chart stay apart without colour (plotly's seven line patterns).
EMOTION_PATTERNS: dict[str, str] = {
    "angry": "x",
    "disgust": "\\",
    "fear": "|",
    "happy": "/",
    "sad": "-",
    "surprise": ".",
    "neutral": "+",
}

#: The framing served before fer_core.framing: a square around the box's centre, each side grown by
#: this fraction of the box. It framed faces larger than FER2013 does; kept for
#: `fer_core.preprocess.square_crop_box` and benchmarks.framing's comparison.
FACE_MARGIN: float = 0.15

# Serving's crop, framed like FER2013's faces (fer_core.framing). Measured by benchmarks.framing:
# YuNet on FER2013 Training faces upscaled 4x into a larger canvas (benchmarks/results/framing.txt);
# tests/test_framing.py checks that the script still derives these values.
#: Crop side / detector box width: of the box's and the landmarks' sizes, the box width varies least
#: against FER2013's frame from face to face (IQR 20% of the median; eye distance 23%, box height 27%).
CROP_SIDE_PER_BOX_WIDTH: float = 1.25
#: With landmarks: the crop centre's offset from the eye midpoint, as fractions of the crop side,
#: along and across the levelled eye line (positive: towards the image's right, and down).
EYES_CENTER_DX: float = 0.005
EYES_CENTER_DY: float = 0.125
#: Without landmarks: the crop centre's offset from the box centre, as fractions of the crop side.
BOX_CENTER_DX: float = 0.005
BOX_CENTER_DY: float = 0.005
#: Faces are rotated to level their eyes by at most this many degrees (a larger eye-line angle is
#: more often a misplaced landmark than a head tilted that far).
MAX_LEVEL_ANGLE_DEG: float = 45.0

#: Readability floor: a face whose detector box is narrower than this (short side, in pixels of the
#: image it was cropped from) is counted as detected but "too small to read". Its probabilities are
#: stored whole, but it is left out of every expression share. 16 px boxes give 20 px crops, the
#: smallest at which the served model still reads PrivateTest faces at READABLE_RELATIVE_ACCURACY of
#: its full-size agreement with the labels it was fitted to (benchmarks/results/resolution.txt,
#: models/metrics.json "readable_floor"). Changing it needs no re-analysis:
#: db.queries.rebuild_rollups recomputes totals from stored sizes.
READABLE_MIN_FACE_PX: int = 16
#: A face counts when the model reads faces of its size at least this fraction (4/5) as well as
#: full-size faces; below it errors grow by ~5 points per 4 px and model v1's drift towards "sad"
#: began there. Relative, so that it means the same for models scored against different labels.
READABLE_RELATIVE_ACCURACY: float = 0.8
#: Faces whose top probability is below this are drawn as "uncertain" on annotated images
#: (display only: the stored probabilities stay whole).
UNCERTAIN_BELOW: float = 0.4


def is_readable(face_size: int | None) -> bool:
    """Whether a face of this size (short side of its box, px) counts in expression shares; a face of
    unknown size (rows from before sizes were stored) counts."""
    return face_size is None or face_size >= READABLE_MIN_FACE_PX


def is_uncertain(confidence: float) -> bool:
    """Whether no expression stands out enough to draw it as read (display only)."""
    return confidence < UNCERTAIN_BELOW


def crop_side(face_size: float) -> float:
    """Side of the square crop the model reads for a face box of `face_size` px (its short side, which
    for YuNet's upright boxes is the width: fer_core.framing)."""
    return face_size * CROP_SIDE_PER_BOX_WIDTH
