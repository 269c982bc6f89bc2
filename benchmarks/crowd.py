"""Crowds: recall and time per photo of the detector with and without tiling, and what tiling
costs an ordinary event.

    python -m benchmarks.crowd [--repeats 2]
Synthetic lecture halls (tests.photos.crowd_photo: 50-300 real faces of 12-40 px in a 1920x1080
photo) are detected with tiling "never" (one pass at 960 px, as before) and "auto" (tiles at full
resolution when the first pass finds a crowd of small faces); recall counts the placed faces that
a detection covers (IoU >= 0.3). The ordinary event (benchmarks.synthetic_event, 3-7 faces at
720p-1080p) is run through decode + detect with both settings: "auto" must not tile it.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.synthetic_event import event_photos
from fer_core.detect import PHOTO_MAX_SIDE, YuNetDetector
from fer_core.images import load_image
from fer_core.recognizer import DECODE_MAX_SIDE
from tests.photos import crowd_photo, match_faces

CROWDS: tuple[int, ...] = (50, 100, 200, 300)


def crowd_table(repeats: int) -> None:
    print("| faces placed | tiling | faces found | recall | s per photo |")
    print("|---:|---|---:|---:|---:|")
    detectors = {mode: YuNetDetector(max_side=PHOTO_MAX_SIDE, tiling=mode) for mode in ("never", "auto")}
    for n in CROWDS:
        image, expected = crowd_photo(n, seed=n)
        for mode, detector in detectors.items():
            found = detector.detect(image)
            start = time.perf_counter()
            for _ in range(repeats):
                detector.detect(image)
            seconds = (time.perf_counter() - start) / repeats
            recall = match_faces([d.box for d in found], expected) / n
            print(f"| {n} | {mode} | {len(found)} | {recall:.1%} | {seconds:.2f} |", flush=True)


def ordinary_event(n_photos: int) -> None:
    photos = [data for data, _ in event_photos(n_photos, sizes=((1280, 720), (1920, 1080)), faces=(3, 7))]
    print(f"\nOrdinary event: {n_photos} photos, 3-7 faces, 720p-1080p (decode + detect, one thread)")
    auto = YuNetDetector(max_side=PHOTO_MAX_SIDE, tiling="auto")
    decoded = [load_image(data, max_side=DECODE_MAX_SIDE) for data in photos]
    tiled = sum(auto.would_tile(rgb) for rgb in decoded)
    print(f"photos that tiling 'auto' tiles: {tiled} of {n_photos}")
    print("| tiling | photos/s |")
    print("|---|---:|")
    for mode in ("never", "auto", "never", "auto"):  # twice each, interleaved, to show the noise
        detector = YuNetDetector(max_side=PHOTO_MAX_SIDE, tiling=mode)
        start = time.perf_counter()
        for data in photos:
            detector.detect(load_image(data, max_side=DECODE_MAX_SIDE))
        elapsed = time.perf_counter() - start
        print(f"| {mode} | {n_photos / elapsed:.1f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--photos", type=int, default=100)
    args = parser.parse_args()
    np.random.seed(0)
    crowd_table(args.repeats)
    ordinary_event(args.photos)


if __name__ == "__main__":
    main()
