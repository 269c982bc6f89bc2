"""Does libfacedetection (yuface) hold the GIL while it detects? Why `campus-fer import` uses processes.

    python -m benchmarks.yuface_gil [--repeats 7]

A second Python thread counts in a loop. For each detection of a 1920x1080 group photo, the
counter's progress during the call is compared with its progress while the main thread sleeps for
as long as the call took. A ratio near 1 means detection releases the GIL (threads would spread
detection over cores); near 0 means it holds the GIL (only processes can). Prints every ratio and
their median. A measurement of a dependency, not a test: its figure depends on the machine's load.
"""

from __future__ import annotations

import argparse
import threading
import time

import numpy as np

from fer_core.detect import YuNetDetector
from tests.photos import group_photo


def gil_ratios(repeats: int) -> list[float]:
    """Counter progress during one detection / during an equally long sleep, per repeat."""
    rgb = group_photo(5, size=(1920, 1080), seed=1)[0]
    detector = YuNetDetector(max_side=1920)
    detector.detect(rgb)  # warm up: model load and first-call allocations
    counter, stop = [0], threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1

    thread = threading.Thread(target=count)
    thread.start()
    ratios = []
    try:
        for _ in range(repeats):
            before, start = counter[0], time.perf_counter()
            detector.detect(rgb)
            elapsed, during = time.perf_counter() - start, counter[0] - before
            before = counter[0]
            time.sleep(elapsed)
            ratios.append(during / max(counter[0] - before, 1))
    finally:
        stop.set()
        thread.join()
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    ratios = gil_ratios(args.repeats)
    print("counter progress of another thread during yuface.detect (1920x1080, 5 faces), vs while sleeping")
    print("ratios: " + ", ".join(f"{r:.3f}" for r in ratios))
    print(f"median: {np.median(ratios):.3f} (1 = GIL released, 0 = GIL held)")


if __name__ == "__main__":
    main()
