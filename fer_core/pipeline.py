"""Many photos through the recognizer fast: decode + detect on worker threads, classify in batches.

Decoding (Pillow) and detection (libfacedetection) release the GIL, so two threads keep both
cores busy; faces from several photos share one model call. Results come back in input order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from fer_core.images import ImageSource, load_image
from fer_core.recognizer import DECODE_MAX_SIDE, Detected, FaceResult, Recognizer


@dataclass
class PhotoAnalysis:
    """One photo's outcome: the decoded pixels and faces, or the error that stopped it
    (an ImageError for unusable input; any other exception is passed on, not raised, so one
    bad photo never ends the batch)."""

    index: int
    rgb: np.ndarray | None = None
    faces: list[FaceResult] | None = None
    error: Exception | None = None


@dataclass
class _Detected:
    index: int
    rgb: np.ndarray | None = None
    found: Detected | None = None
    error: Exception | None = None


def _decode_and_detect(recognizer: Recognizer, index: int, source: ImageSource) -> _Detected:
    try:
        rgb = load_image(source, max_side=DECODE_MAX_SIDE)
        return _Detected(index, rgb, recognizer.detect_faces(rgb))
    except Exception as error:  # reported per photo by the caller
        return _Detected(index, error=error)


def _classify(recognizer: Recognizer, group: list[_Detected]) -> Iterator[PhotoAnalysis]:
    decoded = [d for d in group if d.found is not None]
    faces = iter(recognizer.classify_detected([d.found for d in decoded]))
    for d in group:
        if d.error is not None:
            yield PhotoAnalysis(d.index, error=d.error)
        else:
            yield PhotoAnalysis(d.index, rgb=d.rgb, faces=next(faces))


def analyze_photos(
    recognizer: Recognizer, sources: Iterable[ImageSource], workers: int = 2, photos_per_batch: int = 8
) -> Iterator[PhotoAnalysis]:
    """Yield a PhotoAnalysis per source, in order; at most ~2 batches of photos are in memory."""
    window = max(1, workers) * photos_per_batch
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        pending: deque[Future[_Detected]] = deque()
        group: list[_Detected] = []
        for index, source in enumerate(sources):
            pending.append(pool.submit(_decode_and_detect, recognizer, index, source))
            if len(pending) >= window:
                group.append(pending.popleft().result())
                if len(group) >= photos_per_batch:
                    yield from _classify(recognizer, group)
                    group = []
        while pending:
            group.append(pending.popleft().result())
            if len(group) >= photos_per_batch:
                yield from _classify(recognizer, group)
                group = []
        if group:
            yield from _classify(recognizer, group)
