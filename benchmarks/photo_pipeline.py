"""The event-photo pipeline end to end: decode, detect, classify, store.

    python -m benchmarks.photo_pipeline [--photos 200]
Prints photos/s, faces/s and the share of time per stage for two synthetic events:
"mixed" (1-20 faces, 1280x720 to 4000x3000) and "typical" (~5 faces, 720p-1080p), each run
sequentially (one stage after another) and through fer_core.pipeline (threads + batching).
Stored into a fresh SQLite file, one transaction per photo, as the app does.
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.synthetic_event import event_photos
from db import queries
from db.engine import make_engine
from db.roles import operator
from fer_core.config import served_model_path
from fer_core.images import load_image
from fer_core.pipeline import analyze_photos
from fer_core.recognizer import DECODE_MAX_SIDE, Recognizer

ADMIN = operator("benchmark")  # the operator running the benchmark on its own database


def _store(engine, session_id: int, data: bytes, shape: tuple[int, ...], faces, model_id: str) -> None:
    queries.save_photo(
        engine,
        session_id,
        content_hash=hashlib.sha256(data).hexdigest(),
        filename="p.jpg",
        taken_at=datetime(2026, 9, 1, 10, 0),
        time_source="upload",
        width=shape[1],
        height=shape[0],
        faces=faces,
        model_id=model_id,
        actor=ADMIN,
    )


def run_sequential(recognizer: Recognizer, photos, engine, session_id: int) -> dict[str, float]:
    stages = dict.fromkeys(("decode", "detect", "classify", "store"), 0.0)
    n_faces = 0
    for data, _ in photos:
        t0 = time.perf_counter()
        rgb = load_image(data, max_side=DECODE_MAX_SIDE)
        t1 = time.perf_counter()
        found = recognizer.detect_faces(rgb)
        t2 = time.perf_counter()
        faces = recognizer.classify_detected([found])[0]
        t3 = time.perf_counter()
        _store(engine, session_id, data, rgb.shape, faces, recognizer.model_id)
        t4 = time.perf_counter()
        for key, seconds in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            stages[key] += seconds
        n_faces += len(faces)
    return {"seconds": sum(stages.values()), "faces": n_faces, **stages}


def run_pipelined(recognizer: Recognizer, photos, engine, session_id: int, workers: int) -> dict[str, float]:
    start = time.perf_counter()
    n_faces, store = 0, 0.0
    for result in analyze_photos(recognizer, (data for data, _ in photos), workers=workers):
        t = time.perf_counter()
        data, model_id = photos[result.index][0], recognizer.model_id
        _store(engine, session_id, data, result.rgb.shape, result.faces, model_id)
        store += time.perf_counter() - t
        n_faces += len(result.faces)
    return {"seconds": time.perf_counter() - start, "faces": n_faces, "store": store}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument(
        "--model", type=Path, default=served_model_path(), help="ONNX model (default: what the app serves)"
    )
    args = parser.parse_args()
    recognizer = Recognizer(args.model)
    events = {
        "mixed: 1-20 faces, 1280x720..4000x3000": event_photos(args.photos, seed=1),
        "typical: 3-7 faces, 1280x720..1920x1080": event_photos(
            args.photos, sizes=((1280, 720), (1920, 1080)), faces=(3, 7), seed=2
        ),
    }
    print(f"model: {recognizer.model_path.name}")
    print("| event | mode | photos | faces | photos/s | faces/s | decode | detect | classify | store |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        for number, (name, photos) in enumerate(events.items()):
            recognizer.analyze(photos[0][0])  # warm-up
            for mode in ("sequential", "pipelined (2 threads)"):
                session_id = queries.create_event_session(engine, f"bench {number} {mode}", actor=ADMIN)
                if mode == "sequential":
                    r = run_sequential(recognizer, photos, engine, session_id)
                    shares = " | ".join(
                        f"{r[k] / r['seconds']:.0%}" for k in ("decode", "detect", "classify", "store")
                    )
                else:
                    r = run_pipelined(recognizer, photos, engine, session_id, workers=2)
                    shares = f"(overlapped) | | | {r['store'] / r['seconds']:.0%}"
                print(
                    f"| {name} | {mode} | {len(photos)} | {r['faces']} | {len(photos) / r['seconds']:.1f} | "
                    f"{r['faces'] / r['seconds']:.0f} | {shares} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
