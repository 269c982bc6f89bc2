"""How `campus-fer import` scales with worker processes on this machine.

    python -m benchmarks.import_scale [--photos 200] [--workers 1 2]

Writes the "typical" synthetic event of benchmarks/photo_pipeline.py (3-7 real faces per photo,
1280x720 and 1920x1080 JPEGs) to a scratch folder, then runs the real CLI once per worker count
into a fresh SQLite file. Prints photos/s (the CLI's own clock, which includes starting the worker
processes and loading the model) and the scaling ratio against the first worker count.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic_event import event_photos
from fer_core.config import PROJECT_ROOT

_RATE = re.compile(r"(\d+) files in ([\d.]+) s: ([\d.]+) photos/s")


def run_import(folder: Path, workers: int, scratch: Path) -> tuple[float, float, int]:
    """(seconds by the CLI's clock, wall seconds of the whole command, faces stored)."""
    url = f"sqlite:///{scratch / f'workers_{workers}.sqlite3'}"
    command = [sys.executable, "-m", "cli", "--database-url", url, "import", str(folder)]
    report = scratch / f"workers_{workers}.csv"
    command += ["--session", "Typical event", "--create", "--workers", str(workers), "--report", str(report)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    match = _RATE.search(done.stdout)
    if match is None:
        raise RuntimeError(f"unexpected CLI output:\n{done.stdout}")
    with report.open(newline="") as handle:
        faces = sum(int(row["faces"]) for row in csv.DictReader(handle) if row["status"] == "saved")
    return float(match.group(2)), wall, faces


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="campus_fer_scale_") as scratch_dir:
        scratch = Path(scratch_dir)
        folder = scratch / "event"
        folder.mkdir()
        photos = event_photos(args.photos, sizes=((1280, 720), (1920, 1080)), faces=(3, 7), seed=2)
        for i, (data, _) in enumerate(photos):
            folder.joinpath(f"IMG_{i:04d}.jpg").write_bytes(data)
        print(
            f"# campus-fer import of the typical synthetic event ({args.photos} photos, 3-7 faces, "
            f"720p/1080p JPEG) into SQLite; {os.cpu_count()} CPU cores, 1-min load average "
            f"{os.getloadavg()[0]:.1f} at the start (what else the machine was running)."
        )
        print("| workers | seconds | photos/s | faces stored | wall s (incl. Python start) | scaling |")
        print("|---:|---:|---:|---:|---:|---:|")
        base = None
        for workers in args.workers:
            seconds, wall, faces = run_import(folder, workers, scratch)
            rate = args.photos / seconds
            base = base or rate
            print(f"| {workers} | {seconds:.1f} | {rate:.1f} | {faces} | {wall:.1f} | {rate / base:.2f}x |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
