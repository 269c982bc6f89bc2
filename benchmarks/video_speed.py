"""Recorded video analysis speed: seconds of work per minute of 720p video.

    python -m benchmarks.video_speed [--seconds 60] [--faces 8] [--interval 1.0] [--note TEXT]
Encodes a 1280x720, 30 fps H.264 clip of real faces (a keyframe a second, as phones record),
then times campus_fer.video.sample_frames at the interval alone (decode) and with
Recognizer.analyze on every sampled frame (decode + detect + classify), single process.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from campus_fer.video import probe_video, sample_frames
from fer_core.config import served_model_path
from fer_core.recognizer import Recognizer
from tests.test_video import write_clip

SIZE = (1280, 720)
FPS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--faces", type=int, default=8)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--note", default="")
    args = parser.parse_args()

    recognizer = Recognizer(served_model_path())
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        times = [i / FPS for i in range(round(args.seconds * FPS))]
        clip = write_clip(Path(folder) / "talk.mp4", times, size=SIZE, faces=args.faces, fps=FPS)
        encode_s = time.perf_counter() - start
        info = probe_video(clip)

        start = time.perf_counter()
        sampled = sum(1 for _ in sample_frames(clip, args.interval))
        decode_s = time.perf_counter() - start

        start = time.perf_counter()
        frames = faces = 0
        for frame in sample_frames(clip, args.interval):
            faces += len(recognizer.analyze(frame.rgb))
            frames += 1
        total_s = time.perf_counter() - start

    per_minute = 60.0 / info.duration_s
    print(
        f"model: {recognizer.model_path.name}; CPU: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores"
    )
    if args.note:
        print(f"note: {args.note}")
    print(
        f"clip: {info.width}x{info.height} {info.codec}, {FPS} fps, {info.duration_s:.1f} s, "
        f"{args.faces} faces placed per frame (encoded in {encode_s:.1f} s, not counted)"
    )
    print(
        f"sampling every {args.interval:g} s: {sampled} frames; "
        f"faces found: {faces} ({faces / frames:.1f} per frame)"
    )
    print("| work | seconds per minute of video | share of real time |")
    print("|---|---:|---:|")
    for name, seconds in (("decode + sample only", decode_s), ("decode + sample + analyze", total_s)):
        print(f"| {name} | {seconds * per_minute:.1f} | {seconds / info.duration_s:.0%} |")


if __name__ == "__main__":
    main()
