"""benchmarks.candidate: the serve-or-not figures are the model's own readings, scored as evaluate does."""

import numpy as np

from benchmarks.candidate import readings
from fer_core.config import served_model_path
from fer_core.recognizer import Recognizer


def test_a_model_scored_against_its_own_readings_agrees_fully() -> None:
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, size=(40, 48, 48), dtype=np.uint8)
    path = served_model_path()
    own = Recognizer(path).predict_faces(faces).argmax(axis=1)
    cells = readings(path, faces, own)
    assert cells["agreement with the FER+ majority"] == "100.00%"
    share, raters = cells["negative share read (raters)"].rstrip(")").split(" (")
    assert share == raters
    flipped = readings(path, faces, (own + 1) % 7)
    assert flipped["agreement with the FER+ majority"] == "0.00%"
