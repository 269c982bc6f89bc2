"""Load on the real-time door: N concurrent clients on POST /v1/analyze for a fixed time.

    python -m benchmarks.api_load [--clients 20] [--seconds 60] [--workers 2]

Starts `uvicorn api.app:app --workers W` on 127.0.0.1 (a free port, a scratch SQLite file, a read
token), then runs a bounded asyncio/httpx client: each client sends 720p multi-face JPEGs one after
another until the time is up. Prints requests/s, latency percentiles and errors (anything but 200).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.synthetic_event import event_photos
from fer_core.config import PROJECT_ROOT

PHOTOS = 12
STARTUP_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def read_token(url: str) -> str:
    """A read token made by the CLI (which also creates and migrates the database)."""
    command = [sys.executable, "-m", "cli", "--database-url", url, "token", "create", "load test"]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env={**os.environ, "CAMPUS_FER_DATABASE_URL": url})
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("uvicorn exited during start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the API did not start in time")


async def run_clients(base: str, token: str, photos: list[bytes], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    faces = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"}

    async def client(index: int, http: httpx.AsyncClient) -> None:
        nonlocal faces
        i = index
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                response = await http.post("/v1/analyze", content=photos[i % len(photos)], headers=headers)
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - start)
                    faces += response.json()["n_faces"]
                else:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            i += clients

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(i, http) for i in range(clients)))
    return {
        "elapsed": time.perf_counter() - started,
        "latencies": latencies,
        "errors": errors,
        "faces": faces,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    photos = [data for data, _ in event_photos(PHOTOS, sizes=((1280, 720),), faces=(3, 8), seed=7)]
    with tempfile.TemporaryDirectory(prefix="campus_fer_load_") as scratch:
        url = f"sqlite:///{Path(scratch) / 'load.sqlite3'}"
        token = read_token(url)
        port = free_port()
        load_before = os.getloadavg()[0]
        server = start_server(url, port, args.workers)
        try:
            result = asyncio.run(
                run_clients(f"http://127.0.0.1:{port}", token, photos, args.clients, args.seconds)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = np.array(result["latencies"]) * 1000
    n_errors = sum(result["errors"].values())
    print(
        f"# POST /v1/analyze, {args.clients} concurrent clients for {args.seconds:g} s, uvicorn --workers "
        f"{args.workers} on 127.0.0.1; {os.cpu_count()} CPU cores, 1-min load average {load_before:.1f} "
        "before the run (what else the machine was running)."
    )
    print(f"# photos: {PHOTOS} synthetic 1280x720 JPEGs with 3-8 real faces each (tests/photos.py)")
    print("| requests | requests/s | p50 ms | p95 ms | p99 ms | max ms | faces/request | errors |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = len(latencies)
    p50, p95, p99 = (np.percentile(latencies, q) if ok else float("nan") for q in (50, 95, 99))
    print(
        f"| {ok + n_errors} | {ok / result['elapsed']:.1f} | {p50:.0f} | {p95:.0f} | {p99:.0f} | "
        f"{latencies.max() if ok else float('nan'):.0f} | {result['faces'] / max(ok, 1):.1f} | {n_errors} |"
    )
    if n_errors:
        print(f"errors by kind: {result['errors']}")


if __name__ == "__main__":
    main()
