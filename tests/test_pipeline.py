"""fer_core.pipeline: threaded decode/detect + batched classification gives the same faces, in order."""

from __future__ import annotations

import numpy as np

from fer_core.images import ImageError
from fer_core.pipeline import analyze_photos
from tests.photos import encode, group_photo


def test_pipeline_matches_one_by_one_and_keeps_order(recognizer) -> None:
    photos = [
        encode(group_photo(n, size=(1280, 720), seed=40 + n)[0]) for n in (3, 1, 5, 0, 2, 4, 6, 2, 3, 1)
    ]
    photos.insert(4, b"not an image")
    results = list(analyze_photos(recognizer, photos, workers=2, photos_per_batch=3))
    assert [r.index for r in results] == list(range(len(photos)))
    assert isinstance(results[4].error, ImageError) and results[4].faces is None
    for data, result in zip(photos, results):
        if result.error is not None:
            continue
        single = recognizer.analyze(data)
        assert [f.box for f in result.faces] == [f.box for f in single]
        np.testing.assert_allclose(
            np.array([f.probabilities for f in result.faces]).reshape(-1, 7),
            np.array([f.probabilities for f in single]).reshape(-1, 7),
            atol=1e-5,
        )


def test_unexpected_errors_are_reported_per_photo(recognizer, monkeypatch) -> None:
    real_detect = recognizer.detect_faces
    calls = []

    def flaky_detect(rgb):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("detector crashed")
        return real_detect(rgb)

    monkeypatch.setattr(recognizer, "detect_faces", flaky_detect)
    photos = [encode(group_photo(2, seed=s)[0]) for s in range(3)]
    results = list(analyze_photos(recognizer, photos, workers=1))
    assert [r.error is None for r in results] == [True, False, True]
    assert isinstance(results[1].error, RuntimeError)
    assert [len(r.faces) for r in (results[0], results[2])] == [2, 2]
