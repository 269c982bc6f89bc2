"""Live-view frame latency at 640x480: analyse + draw, per frame, as the webcam page does.

    python -m benchmarks.live_latency [--frames 300] [--detect-every 10]
The live page follows faces with fer_core.tracking.FaceTracker (a full detection every
`--detect-every` frames, optical flow and classification in between); `--detect-every 1` measures
detection on every frame, as before. The faces move a few pixels per frame, as people do.
Prints median, p95 and max milliseconds per frame for 0-5 faces.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from fer_core.annotate import annotate
from fer_core.config import served_model_path
from fer_core.detect import LIVE_MAX_SIDE, YuNetDetector
from fer_core.recognizer import Recognizer
from fer_core.tracking import DETECT_EVERY, FaceTracker
from tests.photos import group_photo


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument(
        "--model", type=Path, default=served_model_path(), help="ONNX model (default: what the app serves)"
    )
    parser.add_argument("--detect-every", type=int, default=DETECT_EVERY)
    args = parser.parse_args()
    # The live page's configuration: detection on frames scaled to LIVE_MAX_SIDE.
    detector = YuNetDetector(max_side=LIVE_MAX_SIDE)
    recognizer = Recognizer(args.model, detector=detector)
    print(f"model: {recognizer.model_path.name}, full detection every {args.detect_every} frames")
    print("| faces in frame | frames | median ms | p95 ms | max ms | frames/s at p95 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n_faces in (0, 1, 3, 5):
        # A few different frames per face count, cycled, so caches don't flatter the figure.
        frames = (
            [group_photo(n_faces, size=(640, 480), seed=s)[0] for s in range(5)]
            if n_faces
            else [np.full((480, 640, 3), 120, np.uint8)]
        )
        tracker = FaceTracker(recognizer, detect_every=args.detect_every)
        for frame in frames:
            annotate(frame, tracker.analyze(frame))
        times = np.empty(args.frames)
        for i in range(args.frames):
            # Each scene holds for 30 frames while it drifts 2 px right and 1 px down per frame.
            step = i % 30
            frame = np.roll(frames[(i // 30) % len(frames)], (step, 2 * step), axis=(0, 1))
            start = time.perf_counter()
            annotate(frame, tracker.analyze(frame))
            times[i] = time.perf_counter() - start
        ms = times * 1e3
        print(
            f"| {n_faces} | {args.frames} | {np.median(ms):.1f} | {np.percentile(ms, 95):.1f} | "
            f"{ms.max():.1f} | {1e3 / np.percentile(ms, 95):.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
