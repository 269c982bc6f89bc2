"""`campus-fer import --ray`: a local Ray cluster (2 CPUs, small object store) imports 50 photos and
stores exactly the rows and aggregates that a single-machine import of the same photos stores.

`ray start` will not advertise a loopback address, so the head runs in its own network namespace
whose only interface is 127.0.0.1 (and its own PID namespace: everything Ray started ends with it).
Without Ray (requirements-ray.txt), `unshare` or `ip` the test skips on a user's machine and fails
under CI, like the FER2013 and PostgreSQL tests (tests/conftest.py).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from PIL import Image

from db import queries
from db.engine import make_engine
from fer_core.config import PROJECT_ROOT
from tests.photos import encode, group_photo

N_PHOTOS = 50
#: New network namespace (only loopback) and PID namespace (Ray's processes end with the script).
ISOLATED = ["unshare", "--net", "--pid", "--fork", "--mount-proc"]
RAY_CLUSTER = """
set -euo pipefail
ip link set lo up
{ray} start --head --port=6379 --num-cpus=2 --object-store-memory=80000000 --include-dashboard=false \
  --disable-usage-stats --temp-dir={temp} >/dev/null
exec "$@"
"""


def write_event(folder: Path) -> None:
    """50 group photos of 1-4 faces with EXIF capture times spread over an afternoon."""
    folder.mkdir()
    for i in range(N_PHOTOS):
        exif = Image.Exif()
        exif[0x0132] = f"2026:05:02 {13 + i // 20:02d}:{(i * 3) % 60:02d}:00"
        rgb, _ = group_photo(1 + i % 4, size=(960, 540), seed=500 + i)
        folder.joinpath(f"IMG_{i:04d}.jpg").write_bytes(encode(rgb, "JPEG", exif=exif.tobytes()))


def cli(*args: str, url: str) -> list[str]:
    return [sys.executable, "-m", "cli", "--database-url", url, "import", *args]


@pytest.fixture
def ray_tools() -> None:
    """Ray and the namespace tools: a test needing them skips on a fresh clone, never in CI."""
    missing = [
        need
        for need, present in (
            ("ray (pip install -r requirements-ray.txt)", importlib.util.find_spec("ray") is not None),
            ("unshare", shutil.which("unshare") is not None),
            ("ip", shutil.which("ip") is not None),
        )
        if not present
    ]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must have {', '.join(missing)} for the Ray import test")
        pytest.skip(f"needs {', '.join(missing)}")


def stored_rows(url: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Photos, observations (by file name and box), and the trend and session aggregates."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            photos = pd.read_sql(
                sa.text(
                    "SELECT filename, content_hash, taken_at, time_source, width, height, n_faces "
                    "FROM photos ORDER BY filename"
                ),
                connection,
            )
            faces = pd.read_sql(
                sa.text(
                    "SELECT p.filename, o.box_x, o.box_y, o.box_w, o.box_h, o.top_label, o.confidence, "
                    "o.observed_at FROM observations o JOIN photos p ON p.id = o.photo_id "
                    "ORDER BY p.filename, o.box_x, o.box_y"
                ),
                connection,
            )
        [session] = queries.list_event_sessions(engine)
        trends = queries.expression_trends(engine, "hour", [session.id])
        mix = queries.session_comparison(engine, [session.id]).drop(columns=["session_id"])
    finally:
        engine.dispose()
    return photos, faces, trends, mix


@pytest.mark.usefixtures("ray_tools")
def test_ray_import_matches_single_machine_import(tmp_path):
    photos = tmp_path / "event"
    write_event(photos)
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    single = f"sqlite:///{tmp_path / 'single.sqlite3'}"
    local = subprocess.run(
        cli(str(photos), "--session", "Open day", "--create", "--workers", "2", url=single),
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert local.returncode == 0, local.stdout + local.stderr

    distributed = f"sqlite:///{tmp_path / 'ray.sqlite3'}"
    ray_cli = str(Path(sys.executable).parent / "ray")
    temp = Path("/tmp") / f"cfr{os.getpid()}"  # Ray's socket paths must stay short
    script = RAY_CLUSTER.format(ray=ray_cli, temp=temp)
    report = tmp_path / "ray_verdicts.csv"
    command = cli(
        str(photos),
        "--session",
        "Open day",
        "--create",
        "--ray",
        "127.0.0.1:6379",
        "--report",
        str(report),
        url=distributed,
    )
    try:
        on_ray = subprocess.run(
            [*ISOLATED, "bash", "-c", script, "ray-cluster", *command],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    assert on_ray.returncode == 0, on_ray.stdout + on_ray.stderr
    assert "on Ray cluster 127.0.0.1:6379" in on_ray.stdout
    assert report.read_text().count(",saved,") == N_PHOTOS

    photos_single, faces_single, trends_single, mix_single = stored_rows(single)
    photos_ray, faces_ray, trends_ray, mix_ray = stored_rows(distributed)
    assert len(photos_ray) == N_PHOTOS and photos_ray["time_source"].eq("exif").all()
    pd.testing.assert_frame_equal(photos_ray, photos_single)
    assert len(faces_ray) == photos_ray["n_faces"].sum() > N_PHOTOS
    pd.testing.assert_frame_equal(faces_ray, faces_single, check_exact=False, atol=1e-6)
    assert trends_ray["bucket_start"].nunique() == 3
    pd.testing.assert_frame_equal(trends_ray, trends_single, check_exact=False, atol=1e-9)
    pd.testing.assert_frame_equal(mix_ray, mix_single, check_exact=False, atol=1e-9)
    assert np.isclose(mix_ray["share"].sum(), 1.0)
